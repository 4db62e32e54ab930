/*
 * andonctl - Andon's administration command (see man/andonctl.8).
 *
 * Bootstraps without HTTP (tenants and their first keys), revokes keys,
 * verifies the audit chain and the transparency log, verifies receipts
 * offline, and takes hot backups.  When run as root on a data directory
 * owned by another user (the web server's), it switches to that user
 * first so the files it creates stay readable by the FastCGI processes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "apikey.h"
#include "audit.h"
#include "clock.h"
#include "conf.h"
#include "event.h"
#include "envlock.h"
#include "exportcheck.h"
#include "ids.h"
#include "notifier.h"
#include "outbox.h"
#include "pepper.h"
#include "scope.h"
#include "priority.h"
#include "localstop.h"
#include "replication.h"
#include "siem.h"
#include "store.h"
#include "tlog.h"
#include "watchdog.h"
#include "webhook.h"

static struct conf conf;
/* how this command takes part in replication (store_replicate()) */
static enum replication_part rep_part = REPLICATION_SUBORDINATE;

static void usage(FILE *f);

static int
fail(const char *fmt, const char *arg)
{
	fprintf(stderr, "andonctl: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return 1;
}

/* Root on a directory owned by someone else: become its owner. */
static int
become_data_owner(void)
{
	struct stat st;

	if (geteuid() != 0 || stat(conf.data_dir, &st) != 0 || st.st_uid == 0)
		return 0;
	if (setgroups(0, NULL) != 0 || setgid(st.st_gid) != 0 || setuid(st.st_uid) != 0)
		return fail("cannot switch to the owner of %s", conf.data_dir);
	return 0;
}

/*
 * The key pepper (pepper.h), made by init while still root, since it lives
 * beside the conf (/etc/andon) and not in the data directory; it belongs to
 * the data directory's owner, who runs the FastCGI processes.
 */
static int
create_pepper(void)
{
	char err[PATH_MAX + 128];
	struct stat st;
	int rc;

	if (stat(conf.data_dir, &st) != 0) {
		/* init makes the data directory as whoever runs it */
		st.st_uid = geteuid();
		st.st_gid = getegid();
	}
	rc = pepper_create(conf.key_pepper_file, st.st_uid, st.st_gid, err, sizeof(err));
	if (rc < 0)
		return fail("%s", err);
	if (rc == 1)
		fprintf(stderr, "andonctl: created the key pepper %s: back it up "
		    "apart from the data directory\n", conf.key_pepper_file);
	return 0;
}

static int
open_store(void)
{
	char err[PATH_MAX + 128];

	umask(007);
	/* without it keys still work, checked by their Argon2 hash */
	if (pepper_load(conf.key_pepper_file, err, sizeof(err)) != 0)
		fprintf(stderr, "andonctl: warning: %s\n", err);
	if (become_data_owner() != 0)
		return 1;
	/*
	 * Never the one attached process a forced recovery waits for (a
	 * backup stuck on a killed process's mutex was): leave when one is
	 * asked for.  Unless one is pending already: then this open runs it,
	 * or waits for whoever does (store_open).
	 */
	if (watchdog_start() != 0)
		return fail("%s", "the watchdog could not start");
	if (envlock_open(conf.data_dir, err, sizeof(err)) == 0 &&
	    !envlock_recovery_requested())
		watchdog_leave_on_recovery();   /* (a bad path: store_open says) */
	store_replicate(&conf, rep_part);
	if (store_open(conf.data_dir, conf.db_cache_mb, err, sizeof(err)) != 0)
		return fail("%s", err);
	watchdog_leave_on_recovery();
	return 0;
}

static int
init_txn(DB_TXN *txn, void *arg)
{
	(void)arg;
	return tlog_ensure_key(txn);
}

struct tenant_job {
	const char *name;
	char id[ID_SIZE];
};

static int
tenant_txn(DB_TXN *txn, void *arg)
{
	struct tenant_job *job = arg;
	char now[CLOCK_TEXT_SIZE];
	json_t *rec;
	int rc;

	id_random_hex(job->id, sizeof(job->id), "org_", 8);
	clock_format(clock_now_ms(), now);
	rec = json_pack("{s:s, s:s, s:s}", "id", job->id, "name", job->name,
	    "created_at", now);
	rc = store_put_json(txn, T_TENANTS, job->id, rec, DB_NOOVERWRITE);
	json_decref(rec);
	if (rc == 0) {
		struct audit_entry e = { job->id, "tenant.created", NULL, NULL,
		    "tenant", job->id, NULL, NULL };

		rc = audit_append(txn, &e, NULL, 0);
	}
	return rc;
}

struct key_job {
	const char *tenant, *name;
	json_t *scopes;
	int64_t expires_ms;
	char secret[APIKEY_TEXT_SIZE];
	json_t *record;
};

static int
key_txn(DB_TXN *txn, void *arg)
{
	struct key_job *job = arg;

	json_decref(job->record);
	job->record = NULL;
	return apikey_create(txn, &conf, job->tenant, job->name, job->scopes,
	    job->expires_ms, NULL, job->secret, &job->record);
}

static int
cmd_key_create(int argc, char **argv)
{
	struct key_job job;
	json_t *tenant;
	char *list, *save = NULL;
	int rc;

	memset(&job, 0, sizeof(job));
	if (argc < 4) {
		usage(stderr);
		return 2;
	}
	job.tenant = argv[1];
	job.name = argv[2];
	job.scopes = json_array();
	list = strdup(argv[3]);
	for (char *s = strtok_r(list, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
		if (scope_from_name(s) == 0) {
			int rc = fail("unknown scope %s", s);   /* s lives in list */

			free(list);
			return rc;
		}
		json_array_append_new(job.scopes, json_string(s));
	}
	free(list);
	if (argc >= 6 && !strcmp(argv[4], "--expires") &&
	    clock_parse(argv[5], &job.expires_ms) != 0)
		return fail("--expires needs an RFC 3339 time, not %s", argv[5]);
	/* as the API refuses it: a key that has already expired is no key */
	if (job.expires_ms != 0 && job.expires_ms <= clock_now_ms())
		return fail("--expires must be in the future, not %s", argv[5]);
	if (json_array_size(job.scopes) == 0)
		return fail("%s", "give at least one scope");
	if (open_store())
		return 1;
	if (store_get_json(NULL, T_TENANTS, job.tenant, &tenant, 0) != 0)
		return fail("no tenant %s", job.tenant);
	json_decref(tenant);
	rc = store_run(key_txn, &job);
	if (rc != 0)
		return fail("cannot create the key: %s", db_strerror(rc));
	printf("%s\n", job.secret);
	fprintf(stderr, "key id %s (the key above is shown only once)\n",
	    json_string_value(json_object_get(job.record, "id")));
	sodium_memzero(job.secret, sizeof(job.secret));
	json_decref(job.record);
	json_decref(job.scopes);
	return 0;
}

static int
print_record(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	const char *tenant = arg;
	json_error_t err;
	json_t *rec = json_loadb(val, vlen, 0, &err);

	(void)key;
	(void)klen;
	if (rec && (tenant == NULL || !strcmp(tenant,
	    json_string_value(json_object_get(rec, "tenant")) ?
	    json_string_value(json_object_get(rec, "tenant")) : ""))) {
		json_t *pub = apikey_public(rec);
		char *text = json_dumps(pub, JSON_COMPACT | JSON_SORT_KEYS);

		printf("%s\n", text);
		free(text);
		json_decref(pub);
	}
	json_decref(rec);
	return 0;
}

struct revoke_job {
	const char *key_id;
	int found;
};

static int
revoke_txn(DB_TXN *txn, void *arg)
{
	struct revoke_job *job = arg;
	json_t *rec, *pub = NULL;
	const char *tenant;
	int rc;

	if ((rc = store_get_json(txn, T_APIKEYS, job->key_id, &rec, DB_RMW)) != 0)
		return rc == DB_NOTFOUND ? STORE_ROLLBACK : rc;
	job->found = 1;
	tenant = json_string_value(json_object_get(rec, "tenant"));
	rc = apikey_revoke(txn, NULL, tenant, job->key_id, &pub);
	if (rc == DB_KEYEXIST)
		rc = STORE_ROLLBACK;
	json_decref(pub);
	json_decref(rec);
	return rc;
}

static volatile pid_t notify_child;
static volatile sig_atomic_t notify_stopping;

static void
forward_signal(int sig)
{
	notify_stopping = 1;
	if (notify_child > 0)
		kill(notify_child, sig);
}

/* The notifier itself, in the child: its open and its work watched. */
static int
notify_worker(int once, pid_t parent)
{
	char err[512];
	int rc;

	if (watchdog_start() != 0)
		return fail("%s", "the watchdog could not start");
	watchdog_arm(conf.watchdog_seconds * 3);
	rc = open_store();
	watchdog_disarm();
	/* the open may have switched to the data directory's owner, which
	 * clears the parent-death signal: set it again */
	if (rc == 0 && (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent))
		rc = 1;
	if (rc == 0 && notifier_run(&conf, once, err, sizeof(err)) != 0)
		rc = fail("%s", err);
	store_close();
	return rc;
}

/*
 * notify: the notifier runs in a child process, which dies with this one
 * (a SIGKILL here ends it too); SIGTERM and SIGINT are passed on.  A child
 * the watchdog ended (status 75: stuck in the database after another
 * process died inside it, which only a forced recovery mends) is started
 * again, and its open runs or joins that recovery.
 */
static int
run_notifier(int once)
{
	struct sigaction sa;
	pid_t parent = getpid();

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = forward_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (!notify_stopping) {
		int status;
		pid_t pid;

		fflush(NULL);
		if ((pid = fork()) < 0)
			return fail("cannot fork the notifier: %s", strerror(errno));
		if (pid == 0) {
			signal(SIGTERM, SIG_DFL);
			signal(SIGINT, SIG_DFL);
			if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
				_exit(1);
			exit(notify_worker(once, parent));
		}
		notify_child = pid;
		if (notify_stopping)
			kill(pid, SIGTERM);   /* a signal before notify_child was set */
		while (waitpid(pid, &status, 0) < 0)
			if (errno != EINTR)
				return fail("waitpid: %s", strerror(errno));
		notify_child = 0;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 75 || once)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
		fprintf(stderr, "andonctl: notify: the notifier was stuck in the "
		    "database (a forced recovery is asked for): starting it again\n");
		sleep(1);
	}
	return 0;
}

static void
print_lines(const json_t *items)
{
	size_t i;
	json_t *v;

	json_array_foreach(items, i, v) {
		char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);

		if (text != NULL)
			printf("%s\n", text);
		free(text);
	}
}

/* webhooks TENANT | webhooks deliveries WEBHOOK_ID [LIMIT]: JSON lines, in
 * the API's public forms (no secret, no lease). */
static int
cmd_webhooks(int argc, char **argv)
{
	json_t *items = NULL, *rec;
	long limit = 100;
	char *end;
	int rc;

	if (argc == 2 && strcmp(argv[1], "deliveries") != 0) {
		if ((rc = open_store()) != 0)
			return rc;
		if (store_get_json(NULL, T_TENANTS, argv[1], &rec, 0) != 0)
			return fail("no tenant %s", argv[1]);
		json_decref(rec);
		if ((rc = webhook_list(argv[1], &items)) != 0)
			return fail("cannot list the webhooks: %s", db_strerror(rc));
	} else if ((argc == 3 || argc == 4) && !strcmp(argv[1], "deliveries")) {
		if (argc == 4 && ((limit = strtol(argv[3], &end, 10)) < 1 ||
		    limit > 100000 || *end != '\0'))
			return fail("LIMIT is 1 to 100000, not %s", argv[3]);
		if ((rc = open_store()) != 0)
			return rc;
		if ((rc = outbox_catch_up(UINT_MAX)) != 0)
			return fail("cannot fan the audit events out: %s", db_strerror(rc));
		if ((rc = webhook_find(argv[2], &rec)) == DB_NOTFOUND)
			return fail("no webhook %s", argv[2]);
		if (rc != 0)
			return fail("cannot read the webhooks: %s", db_strerror(rc));
		rc = outbox_list(json_string_value(json_object_get(rec, "tenant")),
		    argv[2], limit, &items);
		json_decref(rec);
		if (rc != 0)
			return fail("cannot list the deliveries: %s", db_strerror(rc));
	} else {
		usage(stderr);
		return 2;
	}
	print_lines(items);
	json_decref(items);
	return 0;
}

static int
cmd_verify(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	char why[512];
	uint64_t events;

	if (open_store())
		return 1;
	if (audit_verify_all(&events, why, sizeof(why)) != 0) {
		printf("FAILED after %" PRIu64 " events: %s\n", events, why);
		return 1;
	}
	printf("ok: %" PRIu64 " audit events chain, transparency log of %" PRIu64
	    " leaves is consistent\n", events, events);
	return 0;
}

static int
cmd_verify_receipt(int argc, char **argv)
{
	unsigned char pk[32];
	const char *pk_text;
	json_error_t err;
	json_t *receipt;
	char why[256];
	size_t len;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if ((receipt = json_load_file(argv[1], 0, &err)) == NULL)
		return fail("cannot read the receipt: %s", err.text);
	pk_text = argc >= 3 ? argv[2]
	    : json_string_value(json_object_get(json_object_get(receipt, "sth"), "public_key"));
	if (pk_text == NULL || sodium_base642bin(pk, sizeof(pk), pk_text, strlen(pk_text),
	    NULL, &len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 || len != sizeof(pk))
		return fail("%s", "the public key must be 32 bytes of base64");
	if (!tlog_verify_proof(receipt, pk, why, sizeof(why))) {
		printf("INVALID: %s\n", why);
		json_decref(receipt);
		return 1;
	}
	printf("ok: event %s is leaf %" JSON_INTEGER_FORMAT " of a tree of %" JSON_INTEGER_FORMAT
	    " signed by the log\n",
	    json_string_value(json_object_get(json_object_get(receipt, "event"), "id")),
	    json_integer_value(json_object_get(receipt, "leaf_index")),
	    json_integer_value(json_object_get(json_object_get(receipt, "sth"), "tree_size")));
	json_decref(receipt);
	return 0;
}

/*
 * An export is the tenant's events in seq order, one a line.  Each event's
 * hash must match its content; where two lines are consecutive events
 * (seq n, n + 1) the second must chain to the first.  A gap (events of
 * other tenants, or filtered out) cannot be checked here: the events on
 * either side still are, and each one's receipt anchors it in the log.
 */
static int
cmd_verify_export(int argc, char **argv)
{
	int contiguous = argc >= 3 && !strcmp(argv[2], "--contiguous");
	struct export_check x;
	size_t cap = 0;
	ssize_t n;
	char *line = NULL;
	FILE *f;

	if (argc < 2 || (argc >= 3 && !contiguous)) {
		usage(stderr);
		return 2;
	}
	if ((f = strcmp(argv[1], "-") ? fopen(argv[1], "r") : stdin) == NULL)
		return fail("cannot open %s", argv[1]);
	export_check_init(&x, contiguous);
	while ((n = getline(&line, &cap, f)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (export_check_line(&x, line, (size_t)n) != 0)
			break;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	if (x.why[0] != '\0') {
		printf("INVALID: %s\n", x.why);
		return 1;
	}
	printf("ok: %" PRIu64 " events, %" PRIu64 " links checked, %" PRIu64
	    " gaps; last seq %" PRIu64 " hash %s\n", x.events, x.links, x.gaps,
	    x.last_seq, x.last_hash[0] ? x.last_hash : "-");
	return 0;
}

static int
cmd_backup(int argc, char **argv)
{
	const char *dir = argv[1];
	int rc;

	(void)argc;
	if (open_store())
		return 1;
	if (mkdir(dir, 0770) != 0 && errno != EEXIST)
		return fail("cannot create %s", dir);
	rc = store_env()->backup(store_env(), dir, DB_CREATE | DB_EXCL | DB_BACKUP_CLEAN);
	if (rc == EEXIST)
		rc = store_env()->backup(store_env(), dir, DB_CREATE | DB_BACKUP_CLEAN);
	if (rc != 0)
		return fail("backup failed: %s", db_strerror(rc));
	printf("backup written to %s (restore it with: andonctl -d NEW_DATA restore %s)\n",
	    dir, dir);
	return 0;
}

/* Copies one regular file; 0 or -1. */
static int
copy_file(const char *from, const char *to)
{
	char buf[65536];
	ssize_t n = 0;
	int in, out, rc = 0;

	if ((in = open(from, O_RDONLY)) < 0)
		return -1;
	if ((out = open(to, O_WRONLY | O_CREAT | O_EXCL, 0660)) < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			rc = -1;
			break;
		}
	if (n < 0 || fsync(out) != 0)
		rc = -1;
	close(in);
	if (close(out) != 0)
		rc = -1;
	return rc;
}

/*
 * restore DIR: the backup's files go into DATA/db, which must not hold a
 * database yet, then catastrophic recovery replays the backup's logs so the
 * database is exactly as it was at the end of the backup.
 */
static int
cmd_restore(int argc, char **argv)
{
	const char *dir = argv[1];
	char home[PATH_MAX], from[PATH_MAX], to[PATH_MAX];
	struct dirent *ent;
	DB_ENV *env;
	DIR *d;
	int rc, copied = 0;

	(void)argc;
	if (become_data_owner() != 0)
		return 1;
	umask(007);
	if ((size_t)snprintf(home, sizeof(home), "%s/db", conf.data_dir) >= sizeof(home))
		return fail("%s", "the data directory path is too long");
	if ((mkdir(conf.data_dir, 0770) != 0 && errno != EEXIST) ||
	    (mkdir(home, 0770) != 0 && errno != EEXIST))
		return fail("cannot create %s", home);
	if ((d = opendir(home)) == NULL)
		return fail("cannot read %s", home);
	while ((ent = readdir(d)) != NULL)
		if (ent->d_name[0] != '.') {
			closedir(d);
			return fail("%s already holds a database: restore into an empty"
			    " data directory", home);
		}
	closedir(d);
	if ((d = opendir(dir)) == NULL)
		return fail("cannot read the backup %s", dir);
	while ((ent = readdir(d)) != NULL) {
		struct stat st;

		if (ent->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(from, sizeof(from), "%s/%s", dir, ent->d_name) >= sizeof(from) ||
		    (size_t)snprintf(to, sizeof(to), "%s/%s", home, ent->d_name) >= sizeof(to)) {
			closedir(d);
			return fail("%s", "a path is too long");
		}
		if (stat(from, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (copy_file(from, to) != 0) {
			closedir(d);
			return fail("cannot copy %s", from);
		}
		copied++;
	}
	closedir(d);
	if (copied == 0)
		return fail("%s holds no backup files", dir);
	if ((rc = db_env_create(&env, 0)) != 0)
		return fail("recovery failed: %s", db_strerror(rc));
	rc = env->open(env, home, DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK |
	    DB_INIT_LOG | DB_INIT_MPOOL | DB_RECOVER_FATAL, 0660);
	env->close(env, 0);
	if (rc != 0)
		return fail("catastrophic recovery failed: %s", db_strerror(rc));
	printf("restored %d files from %s into %s\n", copied, dir, home);
	return 0;
}

static int
cmd_init(int argc, char **argv)
{
	int rc;

	(void)argc;
	(void)argv;
	/* the one command that makes the data directory (not its parents) */
	if (mkdir(conf.data_dir, 0770) != 0 && errno != EEXIST)
		return fail("cannot create the data directory %s", conf.data_dir);
	if ((rc = create_pepper()) == 0 && (rc = open_store()) == 0 &&
	    (rc = store_run(init_txn, NULL)) != 0)
		rc = fail("init failed: %s", db_strerror(rc));
	if (rc == 0)
		printf("initialised %s\n", store_home());
	return rc;
}

static int
cmd_tenant_create(int argc, char **argv)
{
	struct tenant_job job = { argv[1], "" };
	int rc;

	(void)argc;
	if (strlen(argv[1]) == 0 || strlen(argv[1]) > 128)
		return fail("%s", "a tenant name is 1 to 128 characters");
	if ((rc = open_store()) == 0 && (rc = store_run(tenant_txn, &job)) != 0)
		rc = fail("cannot create the tenant: %s", db_strerror(rc));
	if (rc == 0)
		printf("%s\n", job.id);
	return rc;
}

static int
cmd_tenant_list(int argc, char **argv)
{
	int rc;

	(void)argc;
	(void)argv;
	if ((rc = open_store()) == 0)
		rc = store_scan(NULL, T_TENANTS, "", 0, 0, print_record, NULL) ? 1 : 0;
	return rc;
}

static int
cmd_key_list(int argc, char **argv)
{
	int rc;

	(void)argc;
	if ((rc = open_store()) == 0)
		rc = store_scan(NULL, T_APIKEYS, "", 0, 0, print_record, argv[1]) ? 1 : 0;
	return rc;
}

static int
cmd_key_revoke(int argc, char **argv)
{
	struct revoke_job job = { argv[1], 0 };
	int rc;

	(void)argc;
	if ((rc = open_store()) == 0 && (rc = store_run(revoke_txn, &job)) != 0)
		rc = fail("cannot revoke: %s", db_strerror(rc));
	else if (rc == 0 && !job.found)
		rc = fail("no key %s", argv[1]);
	else if (rc == 0)
		printf("revoked %s\n", argv[1]);
	return rc;
}

/* The "[--once]" of notify and siem: 1 with it, 0 without, -1 (usage
 * shown) for any other argument. */
static int
once_flag(int argc, char **argv)
{
	if (argc < 2)
		return 0;
	if (!strcmp(argv[1], "--once"))
		return 1;
	usage(stderr);
	return -1;
}

/* notify and siem yield the CPUs to the web requests (priority.h). */
static int
lower_priority(void)
{
	char err[256];

	if (priority_lower((int)conf.daemon_nice, err, sizeof(err)) != 0)
		return fail("%s", err);
	return 0;
}

static int
cmd_notify(int argc, char **argv)
{
	int once = once_flag(argc, argv);

	if (once < 0)
		return 2;
	return lower_priority() != 0 ? 1 : run_notifier(once);
}

static int
cmd_siem(int argc, char **argv)
{
	int once = once_flag(argc, argv);
	char err[512];
	int rc;

	if (once < 0)
		return 2;
	if (lower_priority() != 0)
		return 1;
	if ((rc = open_store()) == 0 && siem_run(&conf, once, err, sizeof(err)) != 0)
		rc = fail("%s", err);
	return rc;
}

static int
cmd_checkpoint(int argc, char **argv)
{
	int rc;

	(void)argc;
	(void)argv;
	if ((rc = open_store()) == 0) {
		store_env()->txn_checkpoint(store_env(), 0, 0, DB_FORCE);
		printf("checkpoint done\n");
	}
	return rc;
}

static volatile sig_atomic_t replicate_stopping;

static void
stop_replicating(int sig)
{
	(void)sig;
	replicate_stopping = 1;
}

/* A kill another site kept while no master could be elected, handed over
 * to this site (replication.h): kept here in turn, for hand_over_stops(). */
static int
receive_stop(const char *text)
{
	json_t *rec = json_loads(text, 0, NULL);
	int rc = rec != NULL ? localstop_keep(conf.data_dir, rec) : EINVAL;

	json_decref(rec);
	return rc;
}

/*
 * The kills this site keeps (localstop.h): on the master in touch with a
 * majority, committed; on a replica that knows its master, handed over to
 * it.  Each is forgotten once done; the others are tried again next time.
 */
static void
hand_over_stops(void)
{
	const char *url;
	json_t *all, *rec;
	size_t i;
	int master = replication_master(store_env(), &conf, &url), rc;

	if (master < 0 || (master == 1 && !replication_quorum(&conf)) ||
	    localstop_list(conf.data_dir, &all) != 0)
		return;
	json_array_foreach(all, i, rec) {
		char *text = NULL;

		if (master == 1)
			rc = localstop_apply(rec);
		else if ((text = json_dumps(rec, JSON_COMPACT)) == NULL)
			rc = ENOMEM;
		else
			rc = replication_hand_over(store_env(), text);
		free(text);
		if (rc == 0)
			localstop_remove(conf.data_dir,
			    json_string_value(json_object_get(rec, "id")));
	}
	json_decref(all);
}

/*
 * replicate: the site's replication process (replication.h), in the
 * foreground until SIGTERM or SIGINT: it starts the replication manager,
 * whose threads listen, elect and apply, and keeps the environment's
 * maintenance going (failchk, checkpoints), the lag reports
 * (replication.h) and the hand-over of kept kills (localstop.h) once a
 * second.
 */
static int
cmd_replicate(int argc, char **argv)
{
	const struct timespec second = { 1, 0 };
	struct sigaction sa;

	(void)argc;
	(void)argv;
	if (!conf.replication)
		return fail("%s", "replication is off in the conf (replication = yes)");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = stop_replicating;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	rep_part = REPLICATION_PROCESS;
	replication_set_receiver(receive_stop);
	if (open_store())
		return 1;
	fprintf(stderr, "andonctl: replicating %s as %s:%u\n", conf.data_dir,
	    conf.rep_local.host, conf.rep_local.port);
	while (!replicate_stopping) {
		nanosleep(&second, NULL);
		store_maintain(conf.checkpoint_kbytes, conf.checkpoint_minutes);
		replication_tick(store_env(), &conf);
		hand_over_stops();
	}
	return 0;
}

/* The base URL conf gives the site at host:port, or "". */
static const char *
site_url(const char *host, unsigned port)
{
	const char *url = conf_site_url(&conf, host, port);

	return url ? url : "";
}

/* "lag: B bytes S s (measured A s ago)", for this site or (site not NULL)
 * "replica: SITE lag: ...": the lag, and how old the figure is. */
static void
print_lag(const char *site, unsigned long long bytes, long long ms,
          long long age_ms)
{
	if (site != NULL)
		printf("replica: %s ", site);
	printf("lag: %llu bytes %lld.%01lld s (measured %lld.%01lld s ago)\n",
	    bytes, ms / 1000, ms % 1000 / 100, age_ms / 1000, age_ms % 1000 / 100);
}

/*
 * rep-status: "key: value" lines: this site's site, its role, the master
 * (its address and base URL), one line per other site, the next log
 * position, how far this site is behind its master ("lag:"), and on the
 * master how far each replica is ("replica:"), as the lag reports
 * (replication.h) last said.
 */
static int
cmd_rep_status(int argc, char **argv)
{
	struct replication_peer peers[CONF_SITES_MAX];
	struct replication_state rs;
	DB_REPMGR_SITE *sites = NULL;
	DB_REP_STAT *st = NULL;
	DB_SITE *me;
	DB_ENV *env;
	u_int count = 0;
	int rc, my_eid = -1, npeers;

	(void)argc;
	(void)argv;
	if (!conf.replication)
		return fail("%s", "replication is off in the conf");
	if (open_store())
		return 1;
	env = store_env();
	if ((rc = env->rep_stat(env, &st, 0)) != 0 ||
	    (rc = env->repmgr_site_list(env, &count, &sites)) != 0)
		return fail("cannot read the replication state: %s", db_strerror(rc));
	if (env->repmgr_local_site(env, &me) == 0) {
		me->get_eid(me, &my_eid);
		me->close(me);
	}
	printf("site: %s:%u %s\n", conf.rep_local.host, conf.rep_local.port,
	    conf.rep_local.base_url);
	printf("role: %s\n", st->st_status == DB_REP_MASTER ? "master" :
	    st->st_status == DB_REP_CLIENT ? "replica" : "none");
	if (st->st_master == my_eid && st->st_status == DB_REP_MASTER)
		printf("master: %s:%u %s\n", conf.rep_local.host,
		    conf.rep_local.port, conf.rep_local.base_url);
	for (u_int i = 0; i < count; i++)
		if (sites[i].eid == st->st_master)
			printf("master: %s:%u %s\n", sites[i].host, sites[i].port,
			    site_url(sites[i].host, sites[i].port));
	for (u_int i = 0; i < count; i++)
		printf("peer: %s:%u %s\n", sites[i].host, sites[i].port,
		    site_url(sites[i].host, sites[i].port));
	printf("log: %lu/%lu\n", (unsigned long)st->st_next_lsn.file,
	    (unsigned long)st->st_next_lsn.offset);
	if (replication_state(env, &conf, &rs) == 0 && rs.lag_known)
		print_lag(NULL, rs.lag_bytes, rs.lag_ms, rs.lag_age_ms);
	else
		printf("lag: unknown (no answer from a master for %d s)\n",
		    REPLICATION_LAG_FRESH_MS / 1000);
	if (st->st_status == DB_REP_MASTER &&
	    (npeers = replication_peers(&conf, peers, CONF_SITES_MAX)) > 0)
		for (int i = 0; i < npeers; i++)
			print_lag(peers[i].site, peers[i].lag_bytes, peers[i].lag_ms,
			    peers[i].age_ms);
	free(st);
	free(sites);
	return 0;
}

/*
 * The commands (after cgit's cmd.c): name, synopsis of its arguments, what
 * it does (lines of the usage), how many arguments it takes after its name
 * (max -1: any), and the function run with argv[0] the name.
 */
struct command {
	const char *name;
	const char *args;
	const char *help;
	int min_args, max_args;
	int (*run)(int argc, char **argv);
	int reads_only;         /* with replication on: an observer */
};

static const struct command commands[] = {
	{ .name = "init", .args = "",
	  .help = "create the database, the log signing key and\n"
	          "the key pepper (key_pepper_file) if missing",
	  .min_args = 0, .max_args = -1, .run = cmd_init },
	{ .name = "tenant-create", .args = "NAME",
	  .help = "create a tenant; prints its id",
	  .min_args = 1, .max_args = -1, .run = cmd_tenant_create },
	{ .name = "tenant-list", .args = "",
	  .help = "list tenants",
	  .min_args = 0, .max_args = -1, .run = cmd_tenant_list,
	  .reads_only = 1 },
	{ .name = "key-create", .args = "TENANT NAME SCOPES [--expires RFC3339]",
	  .help = "create an API key (SCOPES comma-separated,\n"
	          "e.g. '*,platform:admin'); prints the key once",
	  .min_args = 3, .max_args = -1, .run = cmd_key_create },
	{ .name = "key-list", .args = "TENANT",
	  .help = "list a tenant's keys (never the secrets)",
	  .min_args = 1, .max_args = -1, .run = cmd_key_list,
	  .reads_only = 1 },
	{ .name = "key-revoke", .args = "KEY_ID",
	  .help = "revoke a key",
	  .min_args = 1, .max_args = -1, .run = cmd_key_revoke },
	{ .name = "verify", .args = "",
	  .help = "verify the audit chain and transparency log",
	  .min_args = 0, .max_args = -1, .run = cmd_verify,
	  .reads_only = 1 },
	{ .name = "verify-receipt", .args = "FILE [PUBLIC_KEY]",
	  .help = "verify a receipt (GET /v1/transparency/receipts/ID)\n"
	          "offline; PUBLIC_KEY (base64) defaults to the one\n"
	          "in the receipt's signed tree head",
	  .min_args = 1, .max_args = -1, .run = cmd_verify_receipt },
	{ .name = "verify-export", .args = "FILE [--contiguous]",
	  .help = "verify an NDJSON export of audit events\n"
	          "(GET /v1/audit/events, Accept: application/x-ndjson)\n"
	          "offline: every event's hash, and every link\n"
	          "between consecutive seqs; --contiguous refuses gaps\n"
	          "between its lines",
	  .min_args = 0, .max_args = -1, .run = cmd_verify_export },
	{ .name = "backup", .args = "DIR",
	  .help = "hot backup of the database into DIR",
	  .min_args = 1, .max_args = -1, .run = cmd_backup },
	{ .name = "restore", .args = "DIR",
	  .help = "restore a backup into an empty data directory\n"
	          "(servers stopped), then run catastrophic recovery",
	  .min_args = 1, .max_args = -1, .run = cmd_restore },
	{ .name = "checkpoint", .args = "",
	  .help = "force a checkpoint and remove old logs",
	  .min_args = 0, .max_args = -1, .run = cmd_checkpoint },
	{ .name = "notify", .args = "[--once]",
	  .help = "deliver webhooks from the outbox (foreground;\n"
	          "--once: one pass over what is due, then exit)",
	  .min_args = 0, .max_args = 1, .run = cmd_notify },
	{ .name = "webhooks", .args = "TENANT | deliveries WEBHOOK_ID [LIMIT]",
	  .help = "list a tenant's webhooks (never their secrets),\n"
	          "or a webhook's deliveries, newest first\n"
	          "(LIMIT, default 100)",
	  .min_args = 1, .max_args = 3, .run = cmd_webhooks },
	{ .name = "replicate", .args = "",
	  .help = "the site's replication process (replication = yes;\n"
	          "foreground, until SIGTERM)",
	  .min_args = 0, .max_args = 0, .run = cmd_replicate },
	{ .name = "rep-status", .args = "",
	  .help = "this site's replication role, the master, the\n"
	          "other sites, and the lag (this site's behind the\n"
	          "master; on the master, each replica's)",
	  .min_args = 0, .max_args = 0, .run = cmd_rep_status,
	  .reads_only = 1 },
	{ .name = "siem", .args = "[--once]",
	  .help = "send every audit event to the SIEM sinks the\n"
	          "conf names (syslog, JSON-lines file; foreground;\n"
	          "--once: until every event was sent, then exit)",
	  .min_args = 0, .max_args = 1, .run = cmd_siem },
};

#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))
#define HELP_COLUMN 32

/* One command's lines of the usage: its synopsis, then what it does from
 * HELP_COLUMN on (on the next line when the synopsis is longer). */
static void
command_usage(FILE *f, const struct command *cmd)
{
	char synopsis[128];
	const char *line = cmd->help;
	int n = snprintf(synopsis, sizeof(synopsis), "  %s%s%s", cmd->name,
	    cmd->args[0] ? " " : "", cmd->args);

	if (n >= HELP_COLUMN - 1) {
		fprintf(f, "%s\n", synopsis);
		n = 0;
	} else
		fputs(synopsis, f);
	while (*line) {
		size_t len = strcspn(line, "\n");

		fprintf(f, "%*s%.*s\n", HELP_COLUMN - n, "", (int)len, line);
		n = 0;
		line += len + (line[len] == '\n');
	}
}

static void
usage(FILE *f)
{
	fputs("usage: andonctl [-c|--conf conf] [-d|--data data_dir] command [arguments]\n"
	    "       andonctl command --help\n"
	    "\n"
	    "commands:\n", f);
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		command_usage(f, &commands[i]);
	fputs("\n"
	    "The conf defaults to $ANDON_CONF or " ANDON_CONF_PATH "; the data directory\n"
	    "to $ANDON_DATA or the conf's data_dir (" ANDON_DATA_DIR " if unset), an\n"
	    "absolute path that must exist (init creates it).\n", f);
}

static const struct command *
command_find(const char *name)
{
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static int
is_help(const char *arg)
{
	return !strcmp(arg, "--help") || !strcmp(arg, "-h");
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "conf", required_argument, NULL, 'c' },
		{ "data", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf_path = conf_default_path(), *data_dir = NULL;
	const struct command *cmd;
	char err[512];
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "+c:d:h", options, NULL)) != -1) {
		switch (opt) {
		case 'c': conf_path = optarg; break;
		case 'd': data_dir = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || (cmd = command_find(argv[0])) == NULL) {
		usage(stderr);
		return 2;
	}
	if (argc >= 2 && is_help(argv[1])) {
		printf("usage: andonctl [-c conf] [-d data_dir] %s%s%s\n\n", cmd->name,
		    cmd->args[0] ? " " : "", cmd->args);
		command_usage(stdout, cmd);
		return 0;
	}
	if (argc - 1 < cmd->min_args ||
	    (cmd->max_args >= 0 && argc - 1 > cmd->max_args)) {
		usage(stderr);
		return 2;
	}
	if (sodium_init() < 0)
		return fail("%s", "libsodium failed to initialise");
	if (conf_load(&conf, conf_path, err, sizeof(err)) != 0)
		return fail("%s", err);
	if (data_dir && conf_set_data_dir(&conf, data_dir, err, sizeof(err)) != 0)
		return fail("-d: %s", err);
	if (cmd->reads_only)
		rep_part = REPLICATION_OBSERVER;
	rc = cmd->run(argc, argv);
	store_close();
	return rc;
}
