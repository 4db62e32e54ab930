/* replication.c - the replication manager's configuration (replication.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "generation.h"
#include "log.h"
#include "replication.h"

static int joined;
static volatile int perm_failed;
static enum replication_part my_part;
static int lock_fd = -1;
static char master_path[PATH_MAX];   /* DATA/replication.master */

/*
 * The replication process writes the master it knows of into
 * DATA/replication.master, for the site's other processes: the master's
 * environment id, or -1 while there is none (it failed, an election runs).
 * Berkeley DB's own record of the master outlives the master's loss until
 * an election succeeds.  Written aside and renamed into place.
 */
static void
write_master(int eid)
{
	char tmp[PATH_MAX + 8];
	FILE *f;

	if (master_path[0] == '\0' ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", master_path) >= sizeof(tmp) ||
	    (f = fopen(tmp, "w")) == NULL)
		return;
	fprintf(f, "%d\n", eid);
	if (fclose(f) != 0 || rename(tmp, master_path) != 0)
		log_error("replication: cannot write %s: %s", master_path,
		    strerror(errno));
}

static int
read_master(void)
{
	FILE *f;
	int eid = -1;

	if (master_path[0] == '\0' || (f = fopen(master_path, "r")) == NULL)
		return -1;
	if (fscanf(f, "%d", &eid) != 1)
		eid = -1;
	fclose(f);
	return eid;
}

/*
 * Called by the manager's threads.  Only the replication process marks the
 * counters: it runs for as long as the site replicates, and its elections
 * and message threads are where the role changes.
 */
static void
on_event(DB_ENV *env, u_int32_t event, void *info)
{
	(void)env;
	switch (event) {
	case DB_EVENT_REP_MASTER:
		if (my_part == REPLICATION_PROCESS) {
			generation_set_replica(0);
			log_notice("replication: this site is the master");
		}
		break;
	case DB_EVENT_REP_CLIENT:
		if (my_part == REPLICATION_PROCESS) {
			generation_set_replica(1);
			log_notice("replication: this site is a replica");
		}
		break;
	case DB_EVENT_REP_NEWMASTER:
		if (my_part == REPLICATION_PROCESS) {
			write_master(*(int *)info);
			log_notice("replication: site %d is the master", *(int *)info);
		}
		break;
	case DB_EVENT_REP_MASTER_FAILURE:
		if (my_part == REPLICATION_PROCESS) {
			write_master(-1);
			log_notice("replication: the master is gone");
		}
		break;
	case DB_EVENT_REP_PERM_FAILED:
		perm_failed = 1;
		break;
	case DB_EVENT_REP_ELECTION_FAILED:
		if (my_part == REPLICATION_PROCESS) {
			write_master(-1);
			log_notice("replication: an election failed");
		}
		break;
	case DB_EVENT_PANIC:
		log_error("replication: the environment panicked");
		break;
	default:
		break;
	}
}

static int
add_site(DB_ENV *env, const struct conf_site *s, int local, char *err,
         size_t errlen)
{
	DB_SITE *site;
	int rc;

	if ((rc = env->repmgr_site(env, s->host, s->port, &site, 0)) != 0) {
		snprintf(err, errlen, "replication site %s:%u: %s", s->host, s->port,
		    db_strerror(rc));
		return -1;
	}
	/* the group is the static list conf names, on every site */
	rc = site->set_config(site, DB_LEGACY, 1);
	if (rc == 0 && local)
		rc = site->set_config(site, DB_LOCAL_SITE, 1);
	site->close(site);
	if (rc != 0) {
		snprintf(err, errlen, "replication site %s:%u: %s", s->host, s->port,
		    db_strerror(rc));
		return -1;
	}
	return 0;
}

int
replication_configure(DB_ENV *env, const struct conf *c,
                      enum replication_part part, char *err, size_t errlen)
{
	static const struct {
		int which;
		u_int32_t us;
	} timeouts[] = {
		{ DB_REP_ACK_TIMEOUT, REPLICATION_ACK_US },
		{ DB_REP_HEARTBEAT_SEND, REPLICATION_HEARTBEAT_US },
		{ DB_REP_HEARTBEAT_MONITOR, REPLICATION_MONITOR_US },
		{ DB_REP_ELECTION_TIMEOUT, REPLICATION_ELECTION_US },
		{ DB_REP_ELECTION_RETRY, REPLICATION_RETRY_US },
		{ DB_REP_CONNECTION_RETRY, REPLICATION_RETRY_US },
	};
	int rc;

	my_part = part;
	joined = 0;
	if ((size_t)snprintf(master_path, sizeof(master_path),
	    "%s/replication.master", c->data_dir) >= sizeof(master_path))
		master_path[0] = '\0';
	if ((rc = env->set_event_notify(env, on_event)) != 0 ||
	    (rc = env->repmgr_set_ack_policy(env, DB_REPMGR_ACKS_QUORUM)) != 0 ||
	    (rc = env->rep_set_priority(env, c->rep_priority)) != 0) {
		snprintf(err, errlen, "replication: %s", db_strerror(rc));
		return -1;
	}
	for (size_t i = 0; i < sizeof(timeouts) / sizeof(timeouts[0]); i++)
		if ((rc = env->rep_set_timeout(env, timeouts[i].which,
		    timeouts[i].us)) != 0) {
			snprintf(err, errlen, "replication timeout %d: %s",
			    timeouts[i].which, db_strerror(rc));
			return -1;
		}
	if (add_site(env, &c->rep_local, 1, err, errlen) != 0)
		return -1;
	for (unsigned i = 0; i < c->rep_site_count; i++)
		if (add_site(env, &c->rep_sites[i], 0, err, errlen) != 0)
			return -1;
	return 0;
}

static int
lock_path(const char *data_dir, char *path, size_t len)
{
	return (size_t)snprintf(path, len, "%s/replicate.lock", data_dir) < len
	    ? 0 : -1;
}

int
replication_running(const char *data_dir)
{
	char path[PATH_MAX];
	int fd, running;

	if (lock_path(data_dir, path, sizeof(path)) != 0 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	running = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
	close(fd);
	return running;
}

/* Leases are set once, before the first start in the region's life. */
static int
turn_leases_on(DB_ENV *env)
{
	int on = 0, rc;

	if (env->rep_get_config(env, DB_REP_CONF_LEASE, &on) == 0 && on)
		return 0;
	if ((rc = env->rep_set_timeout(env, DB_REP_LEASE_TIMEOUT,
	    REPLICATION_LEASE_US)) != 0)
		return rc;
	return env->rep_set_config(env, DB_REP_CONF_LEASE, 1);
}

static int
start_process(DB_ENV *env, const struct conf *c, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int rc;

	if (lock_path(c->data_dir, path, sizeof(path)) != 0) {
		snprintf(err, errlen, "data directory path is too long");
		return -1;
	}
	/* nothing cached while not the master (generation.h), and no master
	 * known until one is found */
	generation_set_replica(1);
	write_master(-1);
	if ((rc = turn_leases_on(env)) != 0) {
		snprintf(err, errlen, "replication leases: %s", db_strerror(rc));
		return -1;
	}
	rc = env->repmgr_start(env, 3, DB_REP_ELECTION);
	if (rc == DB_REP_IGNORE) {
		snprintf(err, errlen, "another process of %s is the replication "
		    "process", c->data_dir);
		return -1;
	}
	if (rc != 0) {
		snprintf(err, errlen, "cannot start replication: %s", db_strerror(rc));
		return -1;
	}
	if ((lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0660)) < 0 ||
	    flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
		snprintf(err, errlen, "cannot lock %s: %s", path, strerror(errno));
		return -1;
	}
	joined = 1;
	return 0;
}

int
replication_start(DB_ENV *env, const struct conf *c,
                  enum replication_part part, char *err, size_t errlen)
{
	int rc;

	if (part == REPLICATION_PROCESS)
		return start_process(env, c, err, errlen);
	/* without a replication process, nobody may start one here: this
	 * process only reads (writes are refused: replication_joined()) */
	if (!replication_running(c->data_dir))
		return 0;
	rc = env->repmgr_start(env, 0, DB_REP_ELECTION);
	if (rc != DB_REP_IGNORE && rc != 0) {
		snprintf(err, errlen, "cannot join the replication process: %s",
		    db_strerror(rc));
		return -1;
	}
	joined = 1;
	return 0;
}

int
replication_joined(void)
{
	return joined;
}

int
replication_perm_failed(void)
{
	int was = perm_failed;

	perm_failed = 0;
	return was;
}

int
replication_master(DB_ENV *env, const struct conf *c, const char **url)
{
	DB_REP_STAT *st;
	DB_SITE *site;
	const char *host;
	u_int port;
	u_int32_t status;
	int master;

	*url = NULL;
	if (env == NULL || env->rep_stat(env, &st, 0) != 0)
		return -1;
	status = st->st_status;
	free(st);
	if (status == DB_REP_MASTER)
		return 1;
	if ((master = read_master()) < 0 ||
	    env->repmgr_site_by_eid(env, master, &site) != 0)
		return -1;
	if (site->get_address(site, &host, &port) == 0)
		*url = conf_site_url(c, host, port);
	site->close(site);
	return *url != NULL ? 0 : -1;
}

/* RFC 3986 pchar and "/": kept as they are in a path. */
static int
path_safe(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || strchr("-._~!$&'()*+,;=:@/", ch) != NULL;
}

int
replication_location(char *out, size_t len, const char *base,
                     const char *path, const char *query)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(base);

	if (n >= len)
		return -1;
	memcpy(out, base, n);
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if (n + 4 > len)
			return -1;
		if (path_safe(*p)) {
			out[n++] = (char)*p;
		} else {
			out[n++] = '%';
			out[n++] = hex[*p >> 4];
			out[n++] = hex[*p & 15];
		}
	}
	out[n] = '\0';
	if (query != NULL && *query &&
	    (size_t)snprintf(out + n, len - n, "?%s", query) >= len - n)
		return -1;
	return 0;
}
