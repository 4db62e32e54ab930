/*
 * store.c - the shared Berkeley DB transactional environment.
 *
 * Follows the Berkeley DB reference guide for several unrelated processes:
 * DB_REGISTER + DB_RECOVER on open (the first process after a crash runs
 * recovery), deadlock detection run by one process a few times a second
 * (store_detect_deadlocks()), a lock timeout so a lock held by a process
 * killed mid-transaction is noticed, failchk() with an
 * is-alive callback to release such locks, and a reopen when the environment
 * asks for recovery.  Every write commits durably (no DB_TXN_NOSYNC) before
 * the caller answers 2xx; concurrent commits share one log flush.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "envlock.h"
#include "generation.h"
#include "jsoncache.h"
#include "jsonout.h"
#include "log.h"
#include "readcache.h"
#include "replication.h"
#include "store.h"

static const char *const table_files[T_COUNT] = {
	[T_META] = "meta.db",
	[T_TENANTS] = "tenants.db",
	[T_APIKEYS] = "apikeys.db",
	[T_KILLSWITCH] = "killswitch.db",
	[T_KS_ACTIVE] = "ks_active.db",
	[T_KS_HISTORY] = "ks_history.db",
	[T_KS_ALIASES] = "ks_aliases.db",
	[T_INTERVENTIONS] = "interventions.db",
	[T_INTV_INDEX] = "intv_index.db",
	[T_AUDIT] = "audit.db",
	[T_AUDIT_TENANT] = "audit_tenant.db",
	[T_AUDIT_IDS] = "audit_ids.db",
	[T_TLOG] = "tlog.db",
	[T_IDEMPOTENCY] = "idempotency.db",
	[T_RATELIMIT] = "ratelimit.db",
	[T_SHUTDOWNS] = "shutdowns.db",
	[T_ESD_ACTIVE] = "esd_active.db",
	[T_AGENTS] = "agents.db",
	[T_AGENT_IDS] = "agent_ids.db",
	[T_AGENT_STOPS] = "agent_stops.db",
	[T_SESSIONS] = "sessions.db",
	[T_SESSION_LIVE] = "session_live.db",
	[T_SESSION_TOKENS] = "session_tokens.db",
	[T_RECEIPTS] = "receipts.db",
	[T_RECEIPT_PENDING] = "receipt_pending.db",
	[T_DELEGATIONS] = "delegations.db",
	[T_WEBHOOKS] = "webhooks.db",
	[T_DELIVERIES] = "deliveries.db",
	[T_OUTBOX] = "outbox.db",
	[T_CURSORS] = "cursors.db",
};

/*
 * Tables whose writes move a shared change counter (generation.h), so that
 * reads of them outside a transaction can be answered from this process's
 * copy while nothing was written (readcache.h), and the gate can keep its
 * copy of the active shutdowns (gate.c).  These are the tables every
 * request reads: the key, the gate, and what the kill-switch check and
 * session introspection look up (a token's session: sessions change less
 * often than they are introspected).  (Stored as generation + 1; 0: none.)
 */
static const int table_generation[T_COUNT] = {
	[T_APIKEYS] = GEN_APIKEYS + 1,
	[T_ESD_ACTIVE] = GEN_SHUTDOWNS + 1,
	[T_KS_ACTIVE] = GEN_KS_ACTIVE + 1,
	[T_KS_ALIASES] = GEN_KS_ACTIVE + 1,
	[T_AGENT_STOPS] = GEN_AGENT_STOPS + 1,
	[T_SESSIONS] = GEN_SESSIONS + 1,
	[T_SESSION_TOKENS] = GEN_SESSIONS + 1,
	[T_OUTBOX] = GEN_OUTBOX + 1,
};

/* The table's counter now, or GENERATION_UNKNOWN when it has none. */
static uint64_t
table_counter(enum store_table t)
{
	if (table_generation[t] == 0)
		return GENERATION_UNKNOWN;
	return generation_read((enum generation)(table_generation[t] - 1));
}

static DB_ENV *env;
static DB *tables[T_COUNT];
static char home[PATH_MAX];
static unsigned cache_size_mb = 64;
static int one_request;     /* store_one_request() */
static int checkpoints_elsewhere;   /* store_checkpoints_elsewhere() */
static const struct conf *rep_conf; /* store_replicate(); NULL: off */
static enum replication_part rep_part;
/*
 * DB_THREAD (replication needs it): Berkeley DB then fills a DBT only in
 * memory the caller names (DB_DBT_MALLOC, _REALLOC or _USERMEM).  Scans
 * then ask for DB_DBT_REALLOC; without replication they keep reading
 * Berkeley DB's own copy, as fast as before.
 */
static u_int32_t filled_flags;

/* How long a forced recovery waits for attached processes to leave (the
 * stuck ones leave when their watchdog fires). */
#define RECOVERY_WAIT_MS 600000

static void
log_db_error(const DB_ENV *e, const char *prefix, const char *msg)
{
	(void)e;
	(void)prefix;
	log_error("berkeley db: %s", msg);
}

/* Berkeley DB's messages (failchk says what it freed) go to stdout by
 * default: in a CGI process that is the response. */
static void
log_db_message(const DB_ENV *e, const char *msg)
{
	(void)e;
	log_notice("berkeley db: %s", msg);
}

int
store_pid_alive(pid_t pid)
{
	char path[64], stat[512], *end;
	ssize_t n;
	int fd;

	if (kill(pid, 0) != 0 && errno != EPERM)
		return 0;
	/* a process killed but not yet reaped by its web server (mod_fcgid
	 * reaps late) answers kill(); its state in /proc says it is dead */
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno != ENOENT;
	n = read(fd, stat, sizeof(stat) - 1);
	close(fd);
	if (n <= 0)
		return 1;
	stat[n] = '\0';
	/* "pid (comm) S ...": the state follows the last ')' */
	if ((end = strrchr(stat, ')')) == NULL || end[1] != ' ')
		return 1;
	return end[2] != 'Z' && end[2] != 'X';
}

/*
 * failchk() asks about every thread slot and locker of the environment,
 * the same few processes hundreds of times a run: each is looked up once
 * per run (run_failchk() forgets the answers before each).
 */
#define ALIVE_MEMO 256       /* set_thread_count(): every process there may be */
static struct {
	pid_t pid;
	int alive;
} alive_memo[ALIVE_MEMO];
static int alive_memo_used;

static int
pid_is_alive(DB_ENV *e, pid_t pid, db_threadid_t tid, u_int32_t flags)
{
	int alive;

	(void)e;
	(void)tid;
	(void)flags;
	for (int i = 0; i < alive_memo_used; i++)
		if (alive_memo[i].pid == pid)
			return alive_memo[i].alive;
	alive = store_pid_alive(pid);
	if (alive_memo_used < ALIVE_MEMO) {
		alive_memo[alive_memo_used].pid = pid;
		alive_memo[alive_memo_used].alive = alive;
		alive_memo_used++;
	}
	return alive;
}

/* Releases what dead processes held; DB_RUNRECOVERY when it cannot. */
static int
run_failchk(void)
{
	alive_memo_used = 0;
	return env->failchk(env, 0);
}

int
store_failchk(void)
{
	return env != NULL ? run_failchk() : 0;
}

static int
open_table(enum store_table t)
{
	int rc;

	if (env == NULL)
		return DB_RUNRECOVERY;
	if ((rc = db_create(&tables[t], env, 0)) != 0)
		return rc;
	rc = tables[t]->open(tables[t], NULL, table_files[t], NULL, DB_BTREE,
	    DB_CREATE | DB_AUTO_COMMIT, 0660);
	if (rc != 0) {
		tables[t]->close(tables[t], DB_NOSYNC);
		tables[t] = NULL;
	}
	return rc;
}

/*
 * The table's handle is open: in a one-request process it is opened on
 * first use.  The table's file is opened in a transaction of its own, not
 * the caller's: this process holds no lock on a file it never opened, so
 * the open never waits on the caller.
 */
static int
need(enum store_table t)
{
	return tables[t] != NULL ? 0 : open_table(t);
}

void
store_one_request(void)
{
	one_request = 1;
}

void
store_replicate(const struct conf *c, enum replication_part part)
{
	rep_conf = c->replication ? c : NULL;
	rep_part = part;
}

/*
 * A replica's handle is dead after the site rolled back to its new
 * master's history (DB_REP_HANDLE_DEAD): it is closed and opened again,
 * once per read.
 */
static int
reopen_dead(enum store_table t, int rc)
{
	if (rc != DB_REP_HANDLE_DEAD || tables[t] == NULL)
		return 0;
	tables[t]->close(tables[t], DB_NOSYNC);
	tables[t] = NULL;
	return open_table(t) == 0;
}

/*
 * Whether Berkeley DB's __db.register names a process that is gone: each
 * attached process writes its id on a line of the file (REGISTER_LINE
 * bytes, "X..." when free) and holds a lock on the line's first byte
 * until it detaches, so a line with an id that nobody locks is a process
 * that died attached.  The open then needs DB_FAILCHK: with it, Berkeley
 * DB releases what the dead process held (failchk); without it, it would
 * recover the whole environment.  Failchk walks every mutex of the
 * environment (some 29,000), which costs a plain-CGI process more than
 * the rest of its request, so a one-request process asks for it only when
 * someone died.  A process dying between this look and the open's own is
 * found by the open, which then recovers: slower, still correct.  Any
 * doubt (an unreadable file, a torn line) answers yes.
 */
#define REGISTER_LINE 25        /* PID_LEN in Berkeley DB 5.3 */

static int
register_names_dead(void)
{
	char path[PATH_MAX], line[REGISTER_LINE];
	struct flock fl;
	off_t pos = 0;
	ssize_t n;
	int fd, dead = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/__db.register", home) >=
	    sizeof(path))
		return 1;
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
		return errno != ENOENT;
	while (!dead && (n = pread(fd, line, sizeof(line), pos)) != 0) {
		if (n != (ssize_t)sizeof(line)) {
			dead = 1;
			break;
		}
		if (line[0] != 'X') {
			memset(&fl, 0, sizeof(fl));
			fl.l_type = F_WRLCK;
			fl.l_whence = SEEK_SET;
			fl.l_start = pos;
			fl.l_len = 1;
			dead = fcntl(fd, F_GETLK, &fl) != 0 || fl.l_type == F_UNLCK;
		}
		pos += (off_t)sizeof(line);
	}
	/* this process holds no lock on the file yet: closing drops none */
	close(fd);
	return dead;
}

/*
 * Berkeley DB maps its regions (__db.001...) from files it leaves sparse:
 * a page of a region touched for the first time then needs a block of
 * the disk, and on a full disk the process gets SIGBUS in the middle of a
 * transaction, holding the environment's mutexes (measured on a full
 * tmpfs: every process died so, then every forced recovery).  So every
 * region gets its blocks at open, as large as its file is then: the
 * environment's own (__db.001: locks, transactions, the log buffer; it
 * doubled at the first server start, then stayed) and the mutexes'
 * (__db.002); the cache (__db.003 on, one file per cache) grows as pages
 * are read, up to a quarter over its size (Berkeley DB 5.3's overhead,
 * measured: 1 MiB of cache, a 1.26 MiB file), so its blocks are taken up
 * to that beyond the end of the file.  A full disk is then ENOSPC from the
 * log and page writes, which the callers answer.  Later opens find the
 * blocks taken.  (Creating the tables at full size with set_memory_init
 * instead made failchk crash in __lock_freelocker after a SIGKILL: t0930
 * failed 2 runs of 4 with it, 0 of 3 without.)
 */
static int
reserve_regions(void)
{
	off_t cache = ((off_t)cache_size_mb << 20) / 4 * 5 + (1 << 20);
	char path[PATH_MAX];
	struct stat st;
	int fd, rc = 0;

	/* the region files are numbered from 1 without a gap */
	for (int i = 1; i <= 20 && rc == 0; i++) {
		off_t want;

		if ((size_t)snprintf(path, sizeof(path), "%s/__db.%03d", home, i) >=
		    sizeof(path))
			return ENAMETOOLONG;
		if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
			return errno == ENOENT ? 0 : errno;
		if (fstat(fd, &st) != 0) {
			rc = errno;
			close(fd);
			break;
		}
		want = i >= 3 && st.st_size < cache ? cache : st.st_size;
		/* taken already (each plain CGI request opens the
		 * environment): a stat, not two fallocate calls */
		if (st.st_size > 0 && (off_t)st.st_blocks * 512 < want &&
		    (rc = posix_fallocate(fd, 0, st.st_size)) == 0 && want > st.st_size &&
		    fallocate(fd, FALLOC_FL_KEEP_SIZE, st.st_size, want - st.st_size) != 0)
			rc = errno;
		close(fd);
	}
	return rc;
}

/*
 * Breaks deadlocks and expires lock timeouts now.  Called a few times a
 * second by the process that keeps time (the checkpointer, or each plain
 * CGI request as it opens): cheap when no lock request waited since the
 * last run, and Berkeley DB checks lock timeouts only when it runs.
 */
int
store_detect_deadlocks(void)
{
	int aborted = 0;

	return env != NULL ? env->lock_detect(env, 0, DB_LOCK_DEFAULT, &aborted) : 0;
}

static int
open_environment(char *err, size_t errlen)
{
	u_int32_t flags = DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK | DB_INIT_LOG |
	    DB_INIT_MPOOL | DB_REGISTER | DB_RECOVER;
	int major, minor, rc;

	if (!one_request || register_names_dead())
		flags |= DB_FAILCHK;
	if (rep_conf != NULL)
		flags |= DB_THREAD | DB_INIT_REP;
	filled_flags = rep_conf != NULL ? DB_DBT_REALLOC : 0;
	db_version(&major, &minor, NULL);
	if (major != DB_VERSION_MAJOR || minor != DB_VERSION_MINOR) {
		snprintf(err, errlen, "Berkeley DB library %d.%d does not match headers %d.%d",
		    major, minor, DB_VERSION_MAJOR, DB_VERSION_MINOR);
		return -1;
	}
	if ((rc = db_env_create(&env, 0)) != 0)
		goto fail;
	env->set_errcall(env, log_db_error);
	env->set_msgcall(env, log_db_message);
	/*
	 * No deadlock detector on every conflict (set_lk_detect): writers
	 * queue on the audit head (store_begin_write()), so a conflict is the
	 * normal case under load, and each run of the detector builds a
	 * waits-for matrix of every locker while holding the lock region:
	 * with four writers it took a third of a kill's CPU and kept commits
	 * from sharing a flush.  store_detect_deadlocks() runs it instead.
	 */
	env->set_lk_max_locks(env, 100000);
	env->set_lk_max_objects(env, 100000);
	env->set_lk_max_lockers(env, 10000);
	env->set_tx_max(env, 1000);
	env->set_cachesize(env, cache_size_mb / 1024, (cache_size_mb % 1024) << 20, 1);
	env->set_thread_count(env, 256);
	alive_memo_used = 0;     /* the open may run failchk() (DB_FAILCHK) */
	env->set_isalive(env, pid_is_alive);
	/* a lock held by a killed process must not hang the survivors */
	env->set_timeout(env, 2000000, DB_SET_LOCK_TIMEOUT);
	env->log_set_config(env, DB_LOG_AUTO_REMOVE, 1);
	if (rep_conf != NULL &&
	    replication_configure(env, rep_conf, rep_part, err, errlen) != 0) {
		store_close();
		return -1;
	}
	if ((rc = env->open(env, home, flags, 0660)) != 0 ||
	    (rc = reserve_regions()) != 0)
		goto fail;
	/* plain CGI has no process that keeps time: each request runs the
	 * detector once, which frees whoever waits on an older deadlock */
	if (one_request)
		store_detect_deadlocks();
	if (rep_conf != NULL) {
		/* tables are opened on first use: a replica's arrive by
		 * replication, and only the master may create them */
		if (replication_start(env, rep_conf, rep_part, err, errlen) != 0) {
			store_close();
			return -1;
		}
		return 0;
	}
	for (int t = 0; t < T_COUNT && !one_request; t++)
		if ((rc = open_table((enum store_table)t)) != 0)
			goto fail;
	return 0;
fail:
	snprintf(err, errlen, "cannot open the database in %s: %s", home,
	    db_strerror(rc));
	store_close();
	return -1;
}

/*
 * A process died holding a region mutex and the survivors left
 * (envlock.h); this one holds the attach lock exclusively, so no process
 * is attached.  As db_recover does: remove the regions without touching
 * their mutexes (DB_FORCE), then open with recovery, which builds them anew
 * from the log.  Committed transactions survive; the dead one is undone.
 */
static int
recover_by_force(const char *why, char *err, size_t errlen)
{
	DB_ENV *old;
	int rc;

	log_notice("%s: recovering %s", why, home);
	if (db_env_create(&old, 0) == 0 &&
	    (rc = old->remove(old, home, DB_FORCE)) != 0)
		log_error("removing the regions of %s: %s", home, db_strerror(rc));
	rc = open_environment(err, errlen);
	if (rc == 0) {
		envlock_recovery_done();
		log_notice("%s recovered", home);
	}
	if (envlock_share() != 0)
		log_error("cannot hold the attach lock shared: %s", strerror(errno));
	return rc;
}

/* Whether the attach lock can be held exclusively within ms: no other
 * process is attached (one that just left may still hold it a moment). */
static int
alone(unsigned ms)
{
	const struct timespec pause = { 0, 100000000L };

	for (unsigned waited = 0; !envlock_exclusive(0); waited += 100) {
		if (waited >= ms)
			return 0;
		nanosleep(&pause, NULL);
	}
	return 1;
}

int
store_open(const char *data_dir, unsigned cache_mb, char *err, size_t errlen)
{
	char path[PATH_MAX], gen_err[PATH_MAX + 64];
	struct stat st;

	if ((size_t)snprintf(path, sizeof(path), "%s/db", data_dir) >= sizeof(path)) {
		snprintf(err, errlen, "data directory path is too long");
		return -1;
	}
	/* never made here: a wrong path is an error, not a new database */
	if (stat(data_dir, &st) != 0) {
		snprintf(err, errlen, "the data directory %s: %s%s", data_dir,
		    strerror(errno), errno == ENOENT ? " (andonctl init creates it)" : "");
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "the data directory %s is not a directory", data_dir);
		return -1;
	}
	if (access(data_dir, R_OK | W_OK | X_OK) != 0) {
		snprintf(err, errlen, "cannot use the data directory %s: %s", data_dir,
		    strerror(errno));
		return -1;
	}
	if (mkdir(path, 0770) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	snprintf(home, sizeof(home), "%s", path);
	cache_size_mb = cache_mb ? cache_mb : 64;
	/* without the counters the caches are off: slower, never wrong */
	if (generation_open(data_dir, gen_err, sizeof(gen_err)) != 0)
		log_error("%s; API-key and gate caches disabled", gen_err);
	if (envlock_open(data_dir, err, errlen) != 0)
		return -1;
	/*
	 * Never join an environment a forced recovery was asked for: that is
	 * where the wedge is.  Wait until nobody is attached and run it, or
	 * until another process ran it.  (A server's open watchdog ends the
	 * wait sooner; the web server starts the process again.)
	 */
	if (envlock_recovery_requested()) {
		if (envlock_exclusive(RECOVERY_WAIT_MS))
			return recover_by_force("a process died holding a database "
			    "mutex", err, errlen);
		if (envlock_recovery_requested()) {
			snprintf(err, errlen, "a forced recovery of %s is pending: "
			    "processes are still attached; retry", data_dir);
			return -1;
		}
	}
	/*
	 * The replication process, alone on the environment, makes the regions
	 * anew: an environment opened without replication has regions that
	 * cannot take it, and the group's sites come from the conf.
	 */
	if (rep_conf != NULL && rep_part == REPLICATION_PROCESS && alone(5000))
		return recover_by_force("the replication process starts alone",
		    err, errlen);
	if (envlock_share() != 0) {
		snprintf(err, errlen, "cannot lock %s/env.lock: %s", data_dir,
		    strerror(errno));
		return -1;
	}
	return open_environment(err, errlen);
}

void
store_close(void)
{
	for (int t = 0; t < T_COUNT; t++) {
		if (tables[t] != NULL)
			tables[t]->close(tables[t], one_request ? DB_NOSYNC : 0);
		tables[t] = NULL;
	}
	if (env != NULL)
		env->close(env, 0);
	env = NULL;
}

/*
 * Moves the table's change counter on after a write.  The caller's
 * transaction still holds the write lock, so a reader that sees the new
 * counter and reads the table waits for the commit (generation.h).
 */
static void
written(enum store_table t)
{
	if (table_generation[t] != 0)
		generation_bump((enum generation)(table_generation[t] - 1));
}

/* A write outside a transaction to a watched table gets one of its own,
 * so the counter moves before the write is visible. */
static int
needs_own_txn(DB_TXN *txn, enum store_table t, DB_TXN **own)
{
	*own = NULL;
	if (txn != NULL || table_generation[t] == 0)
		return 0;
	return store_begin(own);
}

static int
finish_own_txn(DB_TXN *own, int rc)
{
	if (own == NULL)
		return rc;
	if (rc != 0) {
		store_abort(own);
		return rc;
	}
	return store_commit(own);
}

int
store_reopen(void)
{
	char err[256];

	store_close();
	if (open_environment(err, sizeof(err)) != 0) {
		log_error("%s", err);
		return -1;
	}
	return 0;
}

DB_ENV *
store_env(void)
{
	return env;
}

const char *
store_home(void)
{
	return home;
}

int
store_begin(DB_TXN **txn)
{
	return env->txn_begin(env, NULL, txn, 0);
}

/*
 * Writers collide on the pages every write touches: the audit head, the
 * transparency-log nodes, the rate-limit bucket, the active summaries.
 * Taken in whatever order each handler reaches them, two writers each held
 * one and wanted the other's: a deadlock, or a lock timeout, undone and
 * retried after a sleep.  So every write transaction first takes the write
 * lock on the audit head's page (a DB_RMW read: nothing is copied), which
 * every audited write takes anyway: the writers queue there, blocked in
 * the lock manager and granted in turn, and hold nothing else while they
 * wait.  The queue moves as fast as a transaction runs, since the commit
 * releases the locks before its log flush (store_commit()).
 */
int
store_begin_write(DB_TXN **txn)
{
	DBT k, v;
	int rc;

	/* a commit this process cannot send to the group is never made; it
	 * joins once the replication process runs */
	if (rep_conf != NULL && !replication_joined()) {
		char err[256];

		if (replication_start(env, rep_conf, rep_part, err, sizeof(err)) != 0)
			log_error("%s", err);
		if (!replication_joined())
			return DB_REP_UNAVAIL;
	}
	if ((rc = need(T_META)) != 0 || (rc = store_begin(txn)) != 0)
		return rc;
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = (void *)STORE_AUDIT_HEAD;
	k.size = (u_int32_t)strlen(STORE_AUDIT_HEAD);
	v.flags = DB_DBT_PARTIAL | DB_DBT_USERMEM;
	rc = tables[T_META]->get(tables[T_META], *txn, &k, &v, DB_RMW);
	if (rc == 0 || rc == DB_NOTFOUND)
		return 0;
	store_abort(*txn);
	*txn = NULL;
	return rc;
}

/*
 * Group commit with early lock release: the commit writes its record to
 * the log buffer without waiting for the disk (DB_TXN_NOSYNC) and so
 * releases its locks at once; then the log is flushed (log_flush(NULL):
 * every record so far), and only then does the caller answer.  Writers
 * that commit while a flush runs share the next one.  A transaction that
 * read what this one wrote commits after it in the log, so its own flush
 * covers this commit too: nothing acknowledged is lost, and nothing is
 * acknowledged that depends on a commit not yet on disk.
 */
int
store_commit(DB_TXN *txn)
{
	int rc;

	if (rep_conf != NULL)
		replication_perm_failed();
	if ((rc = txn->commit(txn, DB_TXN_NOSYNC)) != 0 || (rc = store_sync()) != 0)
		return rc;
	/* committed here, but not acknowledged by a quorum: never a 2xx */
	return rep_conf != NULL && replication_perm_failed() ? DB_REP_UNAVAIL : 0;
}

int
store_sync(void)
{
	return env != NULL ? env->log_flush(env, NULL) : 0;
}

void
store_abort(DB_TXN *txn)
{
	txn->abort(txn);
}

int
store_retryable(int rc)
{
	return rc == DB_LOCK_DEADLOCK || rc == DB_LOCK_NOTGRANTED ||
	    rc == DB_RUNRECOVERY || rc == DB_REP_HANDLE_DEAD;
}

/*
 * Before a retry: a lock that timed out may be a killed process's
 * (failchk releases it), a broken environment is reopened.  No sleep: the
 * next attempt waits in the lock manager, behind the writers before it.
 */
static void
recover_from(int rc)
{
	if (rc == DB_LOCK_NOTGRANTED) {
		/* a lock timed out: perhaps its holder was killed */
		if (run_failchk() == DB_RUNRECOVERY)
			rc = DB_RUNRECOVERY;
	}
	if (rc == DB_RUNRECOVERY || rc == DB_REP_HANDLE_DEAD)
		store_reopen();
}

static int
run(int (*fn)(DB_TXN *txn, void *arg), void *arg, int durable)
{
	int rc = 0;

	for (int attempt = 0; attempt < 50; attempt++) {
		DB_TXN *txn;

		if (env == NULL && store_reopen() != 0)
			return DB_RUNRECOVERY;
		rc = durable ? store_begin_write(&txn) : store_begin(&txn);
		if (rc != 0) {
			if (!store_retryable(rc))
				return rc;
			recover_from(rc);
			continue;
		}
		rc = fn(txn, arg);
		if (rc == 0) {
			rc = durable ? store_commit(txn) : txn->commit(txn, DB_TXN_NOSYNC);
		} else {
			store_abort(txn);
			if (rc == STORE_ROLLBACK)
				return 0;
		}
		if (rc == 0 || !store_retryable(rc))
			return rc;
		recover_from(rc);
	}
	return rc;
}

int
store_run(int (*fn)(DB_TXN *txn, void *arg), void *arg)
{
	return run(fn, arg, 1);
}

int
store_run_lazy(int (*fn)(DB_TXN *txn, void *arg), void *arg)
{
	return run(fn, arg, 0);
}

int
store_get(DB_TXN *txn, enum store_table t, const void *key, size_t klen,
          void **val, size_t *vlen, uint32_t flags)
{
	uint64_t gen = GENERATION_UNKNOWN;
	const void *kept;
	size_t kept_len;
	DBT k, v;
	int rc;

	/* outside a transaction, a watched table may answer from the copy */
	if (txn == NULL && flags == 0)
		gen = table_counter(t);
	switch (readcache_find(t, gen, key, klen, &kept, &kept_len)) {
	case READCACHE_ABSENT:
		return DB_NOTFOUND;
	case READCACHE_FOUND:
		if ((*val = malloc(kept_len ? kept_len : 1)) == NULL)
			return ENOMEM;
		memcpy(*val, kept, kept_len);
		*vlen = kept_len;
		return 0;
	case READCACHE_MISS:
		break;
	}
	if ((rc = need(t)) != 0)
		return rc;
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = (void *)key;
	k.size = (u_int32_t)klen;
	v.flags = DB_DBT_MALLOC;
	rc = tables[t]->get(tables[t], txn, &k, &v, flags);
	if (rc != 0 && txn == NULL && reopen_dead(t, rc))
		rc = tables[t]->get(tables[t], txn, &k, &v, flags);
	/* kept under the counter read before the database was */
	if (rc == 0 || rc == DB_NOTFOUND)
		readcache_keep(t, gen, key, klen, rc == 0 ? v.data : NULL, v.size);
	if (rc != 0)
		return rc;
	*val = v.data;
	*vlen = v.size;
	return 0;
}

int
store_get_buf(DB_TXN *txn, enum store_table t, const void *key, size_t klen,
              void **buf, size_t *cap, size_t *vlen)
{
	DBT k, v;
	int rc;

	for (;;) {
		memset(&k, 0, sizeof(k));
		memset(&v, 0, sizeof(v));
		k.data = (void *)key;
		k.size = (u_int32_t)klen;
		v.flags = DB_DBT_USERMEM;
		v.data = *buf;
		v.ulen = (u_int32_t)*cap;
		rc = tables[t]->get(tables[t], txn, &k, &v, 0);
		if (rc == DB_BUFFER_SMALL) {
			size_t want = v.size + 256;
			void *grown = realloc(*buf, want);

			if (grown == NULL)
				return ENOMEM;
			*buf = grown;
			*cap = want;
			continue;
		}
		if (rc == 0)
			*vlen = v.size;
		return rc;
	}
}

int
store_get_json(DB_TXN *txn, enum store_table t, const char *key,
               json_t **out, uint32_t flags)
{
	json_error_t jerr;
	void *val;
	size_t vlen;
	int rc;

	if ((rc = store_get(txn, t, key, strlen(key), &val, &vlen, flags)) != 0)
		return rc;
	*out = json_loadb(val, vlen, JSON_DECODE_ANY, &jerr);
	free(val);
	return *out ? 0 : DB_NOTFOUND;
}

struct listing {
	store_item_fn fn;
	void *arg;
	json_t *items;
	int rc;
};

static int
list_one(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct listing *l = arg;
	json_error_t err;
	json_t *rec = json_loadb(val, vlen, 0, &err), *item = NULL;

	if (rec == NULL)
		return 0;
	if (l->fn == NULL)
		item = json_incref(rec);
	else
		l->rc = l->fn(l->arg, key, klen, rec, &item);
	json_decref(rec);
	if (l->rc == 0 && item != NULL && json_array_append_new(l->items, item) != 0)
		l->rc = ENOMEM;
	else if (l->rc != 0)
		json_decref(item);
	return l->rc != 0 ? -1 : 0;
}

int
store_list_json(enum store_table t, const void *prefix, size_t plen,
                store_item_fn fn, void *arg, json_t *items)
{
	struct listing l = { fn, arg, items, 0 };
	int rc;

	if (items == NULL)
		return ENOMEM;
	rc = store_scan(NULL, t, prefix, plen, 0, list_one, &l);
	return l.rc != 0 ? l.rc : rc;
}

int
store_list_tenant(enum store_table t, const char *tenant, store_item_fn fn,
                  void *arg, json_t **items)
{
	char prefix[STORE_KEY_MAX];
	int plen = tenant ? store_key(prefix, sizeof(prefix), tenant, "", NULL) : 0;
	json_t *list = json_array();
	int rc = plen < 0 ? EINVAL : store_list_json(t, prefix, (size_t)plen, fn,
	    arg, list);

	*items = NULL;
	if (rc != 0) {
		json_decref(list);
		return rc;
	}
	*items = list;
	return 0;
}

int
store_get_json_shared(enum store_table t, const char *key, json_t **out)
{
	void *val;
	size_t vlen;
	int rc;

	if ((rc = store_get(NULL, t, key, strlen(key), &val, &vlen, 0)) != 0)
		return rc;
	*out = jsoncache_load(val, vlen);
	free(val);
	return *out ? 0 : DB_NOTFOUND;
}

int
store_exists(DB_TXN *txn, enum store_table t, const void *key, size_t klen)
{
	DBT k, v;
	void *val;
	size_t vlen;
	int rc;

	/* a watched table: a whole read, which the copy may answer */
	if (txn == NULL && table_counter(t) != GENERATION_UNKNOWN) {
		if ((rc = store_get(NULL, t, key, klen, &val, &vlen, 0)) == 0)
			free(val);
		return rc;
	}
	if ((rc = need(t)) != 0)
		return rc;
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = (void *)key;
	k.size = (u_int32_t)klen;
	v.flags = DB_DBT_PARTIAL | DB_DBT_USERMEM;
	if ((rc = tables[t]->get(tables[t], txn, &k, &v, 0)) != 0 && txn == NULL &&
	    reopen_dead(t, rc))
		rc = tables[t]->get(tables[t], txn, &k, &v, 0);
	return rc;
}

int
store_put(DB_TXN *txn, enum store_table t, const void *key, size_t klen,
          const void *val, size_t vlen, uint32_t flags)
{
	DB_TXN *own;
	DBT k, v;
	int rc;

	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = (void *)key;
	k.size = (u_int32_t)klen;
	v.data = (void *)val;
	v.size = (u_int32_t)vlen;
	if ((rc = need(t)) != 0 || (rc = needs_own_txn(txn, t, &own)) != 0)
		return rc;
	if ((rc = tables[t]->put(tables[t], own ? own : txn, &k, &v, flags)) == 0)
		written(t);
	return finish_own_txn(own, rc);
}

int
store_put_json(DB_TXN *txn, enum store_table t, const char *key,
               const json_t *val, uint32_t flags)
{
	char *text = jsonout_dumps(val);
	int rc;

	if (text == NULL)
		return ENOMEM;
	rc = store_put(txn, t, key, strlen(key), text, strlen(text), flags);
	free(text);
	return rc;
}

int
store_del(DB_TXN *txn, enum store_table t, const void *key, size_t klen)
{
	DB_TXN *own;
	DBT k;
	int rc;

	memset(&k, 0, sizeof(k));
	k.data = (void *)key;
	k.size = (u_int32_t)klen;
	if ((rc = need(t)) != 0 || (rc = needs_own_txn(txn, t, &own)) != 0)
		return rc;
	if ((rc = tables[t]->del(tables[t], own ? own : txn, &k, 0)) == 0)
		written(t);
	return finish_own_txn(own, rc);
}

static int
has_prefix(const DBT *k, const void *prefix, size_t plen)
{
	return k->size >= plen && memcmp(k->data, prefix, plen) == 0;
}

/*
 * Names the key a cursor positions on.  With DB_DBT_REALLOC (filled_flags)
 * Berkeley DB writes the key it finds into the same memory, which must
 * then be the DBT's own: the key is copied there.
 */
static int
set_key(DBT *k, const void *key, size_t len)
{
	void *mine;

	if (!(k->flags & DB_DBT_REALLOC)) {
		k->data = (void *)key;
		k->size = (u_int32_t)len;
		return 0;
	}
	if ((mine = realloc(k->data, len ? len : 1)) == NULL)
		return ENOMEM;
	memcpy(mine, key, len);
	k->data = mine;
	k->size = (u_int32_t)len;
	return 0;
}

/* Position on the last key that starts with prefix: the first key after
 * the prefix range, then one step back. */
static int
seek_last(DBC *cur, DBT *k, DBT *v, const void *prefix, size_t plen)
{
	unsigned char after[STORE_KEY_MAX];
	size_t n = plen;
	int rc;

	if (plen == 0 || plen > sizeof(after))
		return cur->get(cur, k, v, DB_LAST);
	memcpy(after, prefix, plen);
	while (n > 0 && after[n - 1] == 0xff)
		n--;
	if (n == 0)
		return cur->get(cur, k, v, DB_LAST);
	after[n - 1]++;
	if ((rc = set_key(k, after, n)) != 0)
		return rc;
	rc = cur->get(cur, k, v, DB_SET_RANGE);
	if (rc == DB_NOTFOUND)
		return cur->get(cur, k, v, DB_LAST);
	if (rc != 0)
		return rc;
	return cur->get(cur, k, v, DB_PREV);
}

/* Position on the last key <= start (within prefix, checked by the
 * caller). */
static int
seek_at_or_before(DBC *cur, DBT *k, DBT *v, const void *start, size_t slen)
{
	int rc;

	if ((rc = set_key(k, start, slen)) != 0)
		return rc;
	rc = cur->get(cur, k, v, DB_SET_RANGE);
	if (rc == DB_NOTFOUND)
		return cur->get(cur, k, v, DB_LAST);
	if (rc != 0)
		return rc;
	if (k->size == slen && memcmp(k->data, start, slen) == 0)
		return 0;
	return cur->get(cur, k, v, DB_PREV);
}

int
store_scan_from(DB_TXN *txn, enum store_table t, const void *prefix,
                size_t plen, const void *start, size_t slen, int reverse,
                store_scan_fn fn, void *arg)
{
	DBC *cur;
	DBT k, v;
	int rc, stop = 0;

	if ((rc = need(t)) != 0)
		return rc;
	if ((rc = tables[t]->cursor(tables[t], txn, &cur, 0)) != 0 &&
	    txn == NULL && reopen_dead(t, rc))
		rc = tables[t]->cursor(tables[t], txn, &cur, 0);
	if (rc != 0)
		return rc;
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.flags = v.flags = filled_flags;
	if (reverse && start != NULL) {
		rc = seek_at_or_before(cur, &k, &v, start, slen);
	} else if (reverse) {
		rc = seek_last(cur, &k, &v, prefix, plen);
	} else {
		if (start == NULL) {
			start = prefix;
			slen = plen;
		}
		if ((rc = set_key(&k, start, slen)) == 0)
			rc = slen ? cur->get(cur, &k, &v, DB_SET_RANGE)
			          : cur->get(cur, &k, &v, DB_FIRST);
	}
	while (rc == 0 && has_prefix(&k, prefix, plen)) {
		if ((stop = fn(arg, k.data, k.size, v.data, v.size)) != 0)
			break;
		rc = cur->get(cur, &k, &v, reverse ? DB_PREV : DB_NEXT);
	}
	cur->close(cur);
	if (filled_flags) {
		free(k.data);
		free(v.data);
	}
	if (stop < 0 || stop > 1)
		return stop;
	return rc == DB_NOTFOUND ? 0 : rc;
}

int
store_scan(DB_TXN *txn, enum store_table t, const void *prefix, size_t plen,
           int reverse, store_scan_fn fn, void *arg)
{
	return store_scan_from(txn, t, prefix, plen, NULL, 0, reverse, fn, arg);
}

int
store_key(char *buf, size_t len, const char *first, ...)
{
	va_list ap;
	size_t used = 0;
	const char *part = first;

	va_start(ap, first);
	while (part != NULL) {
		size_t n = strlen(part);

		if (used + n + 2 > len || memchr(part, KEY_SEP, n) != NULL) {
			va_end(ap);
			return -1;
		}
		if (used > 0)
			buf[used++] = KEY_SEP;
		memcpy(buf + used, part, n);
		used += n;
		part = va_arg(ap, const char *);
	}
	va_end(ap);
	buf[used] = '\0';
	return (int)used;
}

void
store_maintain(unsigned checkpoint_kbytes, unsigned checkpoint_minutes)
{
	if (env == NULL)
		return;
	/* a one-request process leaves it to the next open (it runs when
	 * someone died, register_names_dead()) and the long-lived ones.
	 * Every long-lived process runs it: a process that died holding a
	 * region mutex wedges the others here, and their watchdogs then ask
	 * for the forced recovery every attached process leaves for (t0740) */
	if (!one_request && run_failchk() == DB_RUNRECOVERY)
		store_reopen();
	/* the checkpointer, where there is one, also keeps the time of the
	 * deadlock detector (ten times a second) */
	if (env != NULL && !checkpoints_elsewhere) {
		store_detect_deadlocks();
		env->txn_checkpoint(env, checkpoint_kbytes, checkpoint_minutes, 0);
	}
}

void
store_checkpoints_elsewhere(void)
{
	checkpoints_elsewhere = 1;
}

void
store_u64_be(unsigned char out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		out[i] = v & 0xff;
		v >>= 8;
	}
}

uint64_t
store_be_u64(const unsigned char in[8])
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | in[i];
	return v;
}

int
store_count(enum store_table t, uint64_t *count)
{
	DB_BTREE_STAT *st;
	int rc;

	*count = 0;
	if ((rc = need(t)) != 0)
		return rc;
	if ((rc = tables[t]->stat(tables[t], NULL, &st, DB_READ_COMMITTED)) != 0)
		return rc;
	*count = st->bt_ndata;
	free(st);
	return 0;
}
