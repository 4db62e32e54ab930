/* replication.c - the replication manager's configuration (replication.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "generation.h"
#include "log.h"
#include "replication.h"

static int joined;
static volatile int perm_failed;
static enum replication_part my_part;
static int lock_fd = -1;
static char master_path[PATH_MAX];   /* DATA/replication.master */
static char lag_path[PATH_MAX];      /* DATA/replication.lag */
static char peers_path[PATH_MAX];    /* DATA/replication.peers */
static const struct conf *my_conf;

/*
 * The master's view of the lag (replication process only): its samples of
 * its log position and the last report of each replica, shared between the
 * manager's message threads (reports) and the main thread (ticks).
 */
static pthread_mutex_t lag_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct replication_samples samples;
static struct report {
	char site[CONF_HOST_MAX + 8];
	DB_LSN lsn;
	long long at_ms;
} reports[CONF_SITES_MAX];
static unsigned report_count;

/* Writes text into path, aside first and renamed into place (readers see
 * the old file or the new one, never half of one). */
static void
write_file(const char *path, const char *text)
{
	char tmp[PATH_MAX + 8];
	FILE *f;

	if (path[0] == '\0' ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp) ||
	    (f = fopen(tmp, "w")) == NULL)
		return;
	fputs(text, f);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		log_error("replication: cannot write %s: %s", path, strerror(errno));
}

/*
 * The replication process writes the master it knows of into
 * DATA/replication.master, for the site's other processes: the master's
 * environment id, or -1 while there is none (it failed, an election runs).
 * Berkeley DB's own record of the master outlives the master's loss until
 * an election succeeds.
 */
static void
write_master(int eid)
{
	char line[32];

	snprintf(line, sizeof(line), "%d\n", eid);
	write_file(master_path, line);
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

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

unsigned long long
replication_lag_bytes(const DB_LSN *a, const DB_LSN *b,
                      unsigned long long file_size)
{
	if (log_compare(b, a) <= 0)
		return 0;
	if (a->file == b->file)
		return b->offset - a->offset;
	/* the files between hold at most file_size bytes each */
	return (b->file - a->file) * file_size + b->offset - a->offset;
}

void
replication_sample(struct replication_samples *rs, const DB_LSN *lsn,
                   long long now)
{
	unsigned last = (rs->next + REPLICATION_SAMPLES - 1) % REPLICATION_SAMPLES;

	/* still there: the newest sample says so until later */
	if (rs->count > 0 && log_compare(&rs->s[last].lsn, lsn) == 0) {
		rs->s[last].ms = now;
		return;
	}
	rs->s[rs->next].lsn = *lsn;
	rs->s[rs->next].ms = now;
	rs->next = (rs->next + 1) % REPLICATION_SAMPLES;
	if (rs->count < REPLICATION_SAMPLES)
		rs->count++;
}

long long
replication_lag_ms(const struct replication_samples *rs, const DB_LSN *at,
                   const DB_LSN *head, long long now)
{
	long long since = now;

	if (log_compare(at, head) >= 0)
		return 0;
	/* newest first: the last time the master's log ended at or before at,
	 * the replica had all of it */
	for (unsigned i = 1; i <= rs->count; i++) {
		unsigned k = (rs->next + REPLICATION_SAMPLES - i) % REPLICATION_SAMPLES;

		since = rs->s[k].ms;
		if (log_compare(&rs->s[k].lsn, at) <= 0)
			break;
	}
	return now > since ? now - since : 0;
}

/*
 * This site's position in the log and its role: 1 master, 0 replica, -1
 * neither or unknown.  A replica's is the next log position it expects.
 * A master's is just past its last permanent record (a commit a quorum
 * acknowledged), not the end of its log: the records that carry no data
 * (a process closing its handles logs one per handle, a checkpoint logs
 * the open files) must not make a replica that has every commit look
 * behind (t1110 polled the master's rep-status, whose own exit kept
 * moving the log's end).
 */
static int
log_head(DB_ENV *env, DB_LSN *lsn)
{
	DB_REP_STAT *st;
	int role;

	if (env == NULL || env->rep_stat(env, &st, 0) != 0)
		return -1;
	role = st->st_status == DB_REP_MASTER ? 1 :
	    st->st_status == DB_REP_CLIENT ? 0 : -1;
	*lsn = st->st_next_lsn;
	if (role == 1) {
		*lsn = st->st_max_perm_lsn;
		if (lsn->file != 0)
			lsn->offset++;     /* a replica expecting it lacks it */
	}
	free(st);
	return role;
}

static unsigned long long
log_file_size(DB_ENV *env)
{
	u_int32_t max = 0;

	if (env->get_lg_max(env, &max) != 0 || max == 0)
		max = 10 * 1024 * 1024;   /* Berkeley DB's default */
	return max;
}

/* The master's view of every replica, rewritten each second and on each
 * report; lag_mutex held. */
static void
write_peers(DB_ENV *env, const DB_LSN *head, long long now)
{
	char text[64 + CONF_SITES_MAX * (CONF_HOST_MAX + 128)];
	size_t n;

	n = (size_t)snprintf(text, sizeof(text), "%lld\n", now);
	for (unsigned i = 0; i < report_count && n < sizeof(text); i++) {
		const struct report *r = &reports[i];

		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "%s %lu %lu %llu %lld %lld\n", r->site, (unsigned long)r->lsn.file,
		    (unsigned long)r->lsn.offset,
		    replication_lag_bytes(&r->lsn, head, log_file_size(env)),
		    replication_lag_ms(&samples, &r->lsn, head, now), r->at_ms);
	}
	if (n < sizeof(text))
		write_file(peers_path, text);
}

/* Whether host:port is a site the conf names (a report from anything else
 * is ignored). */
static int
known_site(const char *host, unsigned port)
{
	return my_conf != NULL && conf_site_url(my_conf, host, port) != NULL;
}

static int (*stop_receiver)(const char *record);

void
replication_set_receiver(int (*receive)(const char *record))
{
	stop_receiver = receive;
}

/* Whether request starts with prefix. */
static int
is_message(const DBT *request, const char *prefix)
{
	size_t n = strlen(prefix);

	return request->size >= n && memcmp(request->data, prefix, n) == 0;
}

/* "stop RECORD": a kept kill handed over; 0 when the receiver took it. */
static int
receive_stop(const DBT *request)
{
	size_t n = request->size - 5;
	char *record;
	int rc;

	if (stop_receiver == NULL || n > 65536 || (record = malloc(n + 1)) == NULL)
		return -1;
	memcpy(record, (const char *)request->data + 5, n);
	record[n] = '\0';
	rc = stop_receiver(record);
	free(record);
	return rc;
}

/*
 * A message of another site, on a message thread: "stop RECORD" (answered
 * "done" or "retry"), or a replica's report "lag HOST PORT FILE OFFSET",
 * its address and the next log position it expects, on the master.  Its
 * answer: "FILE OFFSET BYTES MS", the master's position and how far behind
 * the replica is, or "-" when this site is not the master or the report is
 * malformed.
 */
static void
on_message(DB_ENV *env, DB_CHANNEL *responder, DBT *request, u_int32_t nrequest,
           u_int32_t flags)
{
	char text[CONF_HOST_MAX + 64], host[CONF_HOST_MAX + 1], answer[96] = "-";
	char site[sizeof(reports[0].site)];
	unsigned port, file, offset, i;
	int used = 0;
	long long now = now_ms();
	DB_LSN head, at;
	DBT reply;

	if (nrequest == 1 && is_message(request, "stop ")) {
		snprintf(answer, sizeof(answer), "%s", receive_stop(request) == 0 ?
		    "done" : "retry");
	} else if (nrequest == 1 && request->size < sizeof(text) &&
	    is_message(request, "lag ") && log_head(env, &head) == 1) {
		memcpy(text, request->data, request->size);
		text[request->size] = '\0';
		if (sscanf(text, "lag %253s %u %u %u%n", host, &port, &file, &offset,
		    &used) == 4 && text[used] == '\0' && known_site(host, port)) {
			snprintf(site, sizeof(site), "%s:%u", host, port);
			at.file = file;
			at.offset = offset;
			pthread_mutex_lock(&lag_mutex);
			replication_sample(&samples, &head, now);
			for (i = 0; i < report_count; i++)
				if (strcmp(reports[i].site, site) == 0)
					break;
			if (i == report_count && report_count < CONF_SITES_MAX)
				memcpy(reports[report_count++].site, site, sizeof(site));
			if (i < report_count) {
				reports[i].lsn = at;
				reports[i].at_ms = now;
			}
			snprintf(answer, sizeof(answer), "%lu %lu %llu %lld",
			    (unsigned long)head.file, (unsigned long)head.offset,
			    replication_lag_bytes(&at, &head, log_file_size(env)),
			    replication_lag_ms(&samples, &at, &head, now));
			write_peers(env, &head, now);
			pthread_mutex_unlock(&lag_mutex);
		}
	}
	if (!(flags & DB_REPMGR_NEED_RESPONSE))
		return;
	memset(&reply, 0, sizeof(reply));
	reply.data = answer;
	reply.size = (u_int32_t)strlen(answer);
	responder->send_msg(responder, &reply, 1, 0);
}

/* Sends text to the master and waits (up to 1 s) for its answer into
 * answer (NUL-terminated); 0 or an error. */
static int
ask_master(DB_ENV *env, const char *text, char *answer, size_t len)
{
	DB_CHANNEL *ch;
	DBT req, reply;
	int rc;

	if ((rc = env->repmgr_channel(env, DB_EID_MASTER, &ch, 0)) != 0)
		return rc;
	memset(&req, 0, sizeof(req));
	req.data = (void *)text;
	req.size = (u_int32_t)strlen(text);
	memset(&reply, 0, sizeof(reply));
	reply.data = answer;
	reply.ulen = (u_int32_t)len - 1;
	reply.flags = DB_DBT_USERMEM;
	rc = ch->send_request(ch, &req, 1, &reply, 1000000, 0);
	ch->close(ch, 0);
	if (rc == 0 && reply.size >= len)
		rc = DB_BUFFER_SMALL;
	if (rc == 0)
		answer[reply.size] = '\0';
	return rc;
}

/*
 * A replica reports to the master and writes its answer into
 * DATA/replication.lag: "WHEN BYTES MS" (when it was answered).  No answer
 * (no master, a timeout) writes nothing: the file grows old and the lag is
 * unknown.  An answer proves the master is there: when an election failed
 * (DATA/replication.master says none) but the master Berkeley DB knows
 * answers, with no new-master event to say so (the same master, after a
 * partition healed), the site's other processes are told again.
 */
static void
report_to_master(DB_ENV *env, const struct conf *c, const DB_LSN *at)
{
	DB_REP_STAT *st;
	char text[CONF_HOST_MAX + 64], answer[96], line[96];
	unsigned long file, offset;
	unsigned long long bytes;
	long long ms;
	int used = 0;

	snprintf(text, sizeof(text), "lag %s %u %lu %lu", c->rep_local.host,
	    c->rep_local.port, (unsigned long)at->file, (unsigned long)at->offset);
	if (ask_master(env, text, answer, sizeof(answer)) != 0 ||
	    sscanf(answer, "%lu %lu %llu %lld%n", &file, &offset, &bytes, &ms,
	    &used) != 4 || answer[used] != '\0')
		return;
	snprintf(line, sizeof(line), "%lld %llu %lld\n", now_ms(), bytes, ms);
	write_file(lag_path, line);
	if (env->rep_stat(env, &st, 0) == 0) {
		if (st->st_status == DB_REP_CLIENT && st->st_master >= 0 &&
		    read_master() != (int)st->st_master)
			write_master((int)st->st_master);
		free(st);
	}
}

int
replication_hand_over(DB_ENV *env, const char *record)
{
	char answer[16], *text;
	size_t n = strlen(record) + 6;
	int rc;

	if ((text = malloc(n)) == NULL)
		return ENOMEM;
	snprintf(text, n, "stop %s", record);
	rc = ask_master(env, text, answer, sizeof(answer));
	free(text);
	if (rc == 0 && strcmp(answer, "done") != 0)
		rc = DB_REP_UNAVAIL;
	return rc;
}

int
replication_quorum(const struct conf *c)
{
	struct replication_peer peers[CONF_SITES_MAX];
	int n = replication_peers(c, peers, CONF_SITES_MAX), fresh = 0;

	for (int i = 0; i < n; i++)
		if (peers[i].age_ms <= REPLICATION_LAG_FRESH_MS)
			fresh++;
	/* a majority of the conf's sites, this one included */
	return n >= 0 && 2 * (unsigned)(fresh + 1) > c->rep_site_count + 1;
}

void
replication_tick(DB_ENV *env, const struct conf *c)
{
	DB_LSN head;

	switch (log_head(env, &head)) {
	case 1:
		pthread_mutex_lock(&lag_mutex);
		replication_sample(&samples, &head, now_ms());
		write_peers(env, &head, now_ms());
		pthread_mutex_unlock(&lag_mutex);
		break;
	case 0:
		/* a master's reports are from its own term only */
		pthread_mutex_lock(&lag_mutex);
		report_count = 0;
		samples.count = 0;
		pthread_mutex_unlock(&lag_mutex);
		report_to_master(env, c, &head);
		break;
	default:
		break;
	}
}

/* The first line of path, or "" (no file). */
static void
read_line(const char *path, char *line, size_t len)
{
	FILE *f;

	line[0] = '\0';
	if (path[0] == '\0' || (f = fopen(path, "r")) == NULL)
		return;
	if (fgets(line, (int)len, f) == NULL)
		line[0] = '\0';
	fclose(f);
}

static void
data_path(char *out, size_t len, const struct conf *c, const char *name)
{
	if ((size_t)snprintf(out, len, "%s/%s", c->data_dir, name) >= len)
		out[0] = '\0';
}

int
replication_state(DB_ENV *env, const struct conf *c,
                  struct replication_state *st)
{
	char path[PATH_MAX], line[96];
	long long at, now = now_ms();
	DB_LSN head;
	int used = 0;

	memset(st, 0, sizeof(*st));
	if (!c->replication || env == NULL)
		return -1;
	st->role = log_head(env, &head);
	if (replication_master(env, c, &st->master_url) == 1)
		st->master_url = c->rep_local.base_url;
	if (st->role == 1) {
		st->lag_known = 1;   /* the master is not behind itself */
		return 0;
	}
	data_path(path, sizeof(path), c, "replication.lag");
	read_line(path, line, sizeof(line));
	if (st->master_url != NULL &&
	    sscanf(line, "%lld %llu %lld%n", &at, &st->lag_bytes, &st->lag_ms,
	    &used) == 3 && line[used] == '\n' && now - at <= REPLICATION_LAG_FRESH_MS) {
		st->lag_known = 1;
		st->lag_age_ms = now > at ? now - at : 0;
	} else {
		st->lag_bytes = 0;
		st->lag_ms = 0;
	}
	return 0;
}

int
replication_peers(const struct conf *c, struct replication_peer *out, int max)
{
	char path[PATH_MAX], line[CONF_HOST_MAX + 128];
	unsigned long file, offset;
	long long written, at, now = now_ms();
	int n = 0, used = 0;
	FILE *f;

	data_path(path, sizeof(path), c, "replication.peers");
	if (path[0] == '\0' || (f = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(line, sizeof(line), f) == NULL ||
	    sscanf(line, "%lld", &written) != 1 ||
	    now - written > REPLICATION_LAG_FRESH_MS) {
		fclose(f);
		return -1;
	}
	while (n < max && fgets(line, sizeof(line), f) != NULL) {
		struct replication_peer *p = &out[n];

		if (sscanf(line, "%260s %lu %lu %llu %lld %lld%n", p->site, &file,
		    &offset, &p->lag_bytes, &p->lag_ms, &at, &used) != 6 ||
		    line[used] != '\n')
			continue;
		p->lsn.file = (u_int32_t)file;
		p->lsn.offset = (u_int32_t)offset;
		p->age_ms = now > at ? now - at : 0;
		n++;
	}
	fclose(f);
	return n;
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
	my_conf = c;
	if ((size_t)snprintf(master_path, sizeof(master_path),
	    "%s/replication.master", c->data_dir) >= sizeof(master_path))
		master_path[0] = '\0';
	if ((size_t)snprintf(lag_path, sizeof(lag_path),
	    "%s/replication.lag", c->data_dir) >= sizeof(lag_path))
		lag_path[0] = '\0';
	if ((size_t)snprintf(peers_path, sizeof(peers_path),
	    "%s/replication.peers", c->data_dir) >= sizeof(peers_path))
		peers_path[0] = '\0';
	/* only the replication process has threads to receive messages */
	if (part == REPLICATION_PROCESS &&
	    (rc = env->repmgr_msg_dispatch(env, on_message, 0)) != 0) {
		snprintf(err, errlen, "replication: %s", db_strerror(rc));
		return -1;
	}
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
	/* an observer, or no replication process (nobody may start one
	 * here): this process only reads (writes are refused:
	 * replication_joined()) */
	if (part == REPLICATION_OBSERVER || !replication_running(c->data_dir))
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
