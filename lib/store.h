/*
 * store.h - the Berkeley DB environment shared by every Andon process.
 *
 * One transactional environment per data directory, one handle per process,
 * opened before the accept loop and kept.  Records are JSON text under string
 * keys; composite keys join their parts with KEY_SEP (0x1f, which no
 * validated identifier may contain), so a prefix scan over "tenant" KEY_SEP
 * never reaches another tenant.
 */
#ifndef ANDON_STORE_H
#define ANDON_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <db.h>
#include <jansson.h>

#include "replication.h"

#define KEY_SEP '\x1f'
#define KEY_SEP_STR "\x1f"
#define STORE_KEY_MAX 1024

/* A handler's way to roll its transaction back without an error. */
#define STORE_ROLLBACK 1

enum store_table {
	T_META,           /* name -> value: audit head, transparency key */
	T_TENANTS,        /* tenant id -> tenant */
	T_APIKEYS,        /* key id -> key (hash, scopes, tenant) */
	T_KILLSWITCH,     /* tenant SEP kill-switch id -> record */
	T_KS_ACTIVE,      /* tenant SEP type SEP target -> the active switch's
	                     summary {id, reason, killed_at, killed_by} */
	T_KS_HISTORY,     /* tenant SEP type SEP target SEP id -> "" */
	T_KS_ALIASES,     /* tenant SEP "agent" SEP the other id of a registry
	                     agent whose active switch is under one id -> the
	                     same summary (the check's second lookup) */
	T_INTERVENTIONS,  /* tenant SEP intervention id -> record */
	T_INTV_INDEX,     /* tenant SEP aggregation key -> intervention id */
	T_AUDIT,          /* seq (8 bytes big-endian) -> event */
	T_AUDIT_TENANT,   /* tenant SEP seq (8 bytes BE) -> what the audit
	                     query filters on (audit.c), "" for events
	                     written before it was kept */
	T_AUDIT_IDS,      /* event id -> seq (8 bytes BE) */
	T_TLOG,           /* level (1 byte) index (8 bytes BE) -> 32-byte hash */
	T_IDEMPOTENCY,    /* key id SEP Idempotency-Key -> stored response */
	T_RATELIMIT,      /* key id SEP bucket -> {tokens, at} */
	T_SHUTDOWNS,      /* tenant SEP shutdown id -> record */
	T_ESD_ACTIVE,     /* tenant-or-"*" SEP shutdown id -> gate summary */
	T_AGENTS,         /* tenant SEP agent uuid -> agent */
	T_AGENT_IDS,      /* tenant SEP agent_id ("maip:...") -> agent uuid */
	T_AGENT_STOPS,    /* tenant SEP uuid or agent_id -> why it is stopped
	                     (suspended or revoked agents only: the check's index) */
	T_SESSIONS,       /* tenant SEP agent uuid SEP session id -> session */
	T_SESSION_LIVE,   /* tenant SEP agent uuid SEP session id -> expiry ms
	                     (sessions not ended) */
	T_SESSION_TOKENS, /* tenant SEP SHA-256 of token -> agent uuid SEP session id */
	T_RECEIPTS,       /* tenant SEP agent uuid SEP receipt id -> receipt */
	T_RECEIPT_PENDING,/* tenant SEP agent uuid SEP receipt id -> "" */
	T_DELEGATIONS,    /* tenant SEP delegator uuid SEP delegation id -> record */
	T_WEBHOOKS,       /* tenant SEP webhook id -> subscription (webhook.h) */
	T_DELIVERIES,     /* webhook id SEP seq (8 bytes BE) -> delivery (outbox.h) */
	T_OUTBOX,         /* the same key -> "" while the delivery is pending */
	T_CURSORS,        /* reader name -> {seq}: how far a reader of the audit
	                     log has gone (the outbox's fan-out, each SIEM sink).
	                     Apart from T_META so that moving one never locks the
	                     page every writer reads the audit head from */
	T_COUNT
};

int store_open(const char *data_dir, unsigned cache_mb, char *err, size_t errlen);
/*
 * Before store_open(), in a process that serves one request (plain CGI):
 * each table is opened when first used, not all at the start, and closed
 * without writing the cache's pages (the log has every commit; a
 * checkpoint writes them), and the maintenance at the end skips failchk
 * (the open just ran it).
 */
void store_one_request(void);
/*
 * Before store_open(): with conf replication on, the environment joins the
 * site's replication group (replication.h), as the replication process
 * (andonctl replicate) or as a subordinate (every other process).  Writes
 * of a process that could not join, and commits a quorum did not
 * acknowledge, fail with DB_REP_UNAVAIL.
 */
struct conf;
void store_replicate(const struct conf *c, enum replication_part part);
void store_close(void);
/* Close and reopen after DB_RUNRECOVERY (runs recovery through DB_REGISTER). */
int store_reopen(void);
DB_ENV *store_env(void);
const char *store_home(void);

/* The key of the audit chain's head in T_META (audit.c). */
#define STORE_AUDIT_HEAD "audit_head"

int store_begin(DB_TXN **txn);
/*
 * A write transaction: begins, then takes the write lock every write
 * transaction takes first, so writers queue on it in one order and never
 * meet halfway in the pages they share (store.c).
 */
int store_begin_write(DB_TXN **txn);
/* Commits; returns once the commit is on disk (store.c: the locks are
 * released before, the caller waits for the log flush after). */
int store_commit(DB_TXN *txn);
void store_abort(DB_TXN *txn);
/* Returns once everything logged so far, by any process, is on disk: what
 * a write request read (a replay, a 409) is durable before it answers. */
int store_sync(void);
int store_retryable(int rc);

/* Runs fn inside a transaction, retrying the whole of it on deadlock, lock
 * timeout or a recovered environment.  fn returns 0 to commit,
 * STORE_ROLLBACK to abort quietly, or a Berkeley DB error. */
int store_run(int (*fn)(DB_TXN *txn, void *arg), void *arg);
/* The same, but the commit does not wait for the disk: for work nobody is
 * told is done and that is simply done again if a crash loses it (the
 * notifier's fan-out, leases and attempt records: delivery is at least
 * once).  The next durable commit of any process flushes it too, and the
 * log keeps its order, so a lost one never hides a later durable one.
 * It does not queue behind the audited writers (store_begin_write()): it
 * is for background processes' bookkeeping, which touches none of their
 * pages, so a background process running at a low CPU priority never
 * holds a lock a kill waits for.  One that also appends to the audit log
 * takes the head's lock then, in audit_append(). */
int store_run_lazy(int (*fn)(DB_TXN *txn, void *arg), void *arg);

/* Gets return 0, DB_NOTFOUND or another DB error; values are malloc'd. */
int store_get(DB_TXN *txn, enum store_table t, const void *key, size_t klen,
              void **val, size_t *vlen, uint32_t flags);
/* Into *buf (*cap bytes, grown with realloc when short): a loop of reads
 * (an export) without an allocation each.  Bypasses the read cache: for
 * tables no counter watches. */
int store_get_buf(DB_TXN *txn, enum store_table t, const void *key, size_t klen,
                  void **buf, size_t *cap, size_t *vlen);
/* Outside any transaction: the parsed record, shared with later reads of
 * the same stored bytes (jsoncache.h): read it, never modify it, decref it.
 * For hot read paths (the check, introspection).  0, DB_NOTFOUND (also
 * when the record is not JSON) or a DB error. */
int store_get_json_shared(enum store_table t, const char *key, json_t **out);
int store_get_json(DB_TXN *txn, enum store_table t, const char *key,
                   json_t **out, uint32_t flags);
int store_exists(DB_TXN *txn, enum store_table t, const void *key, size_t klen);
int store_put(DB_TXN *txn, enum store_table t, const void *key, size_t klen,
              const void *val, size_t vlen, uint32_t flags);
int store_put_json(DB_TXN *txn, enum store_table t, const char *key,
                   const json_t *val, uint32_t flags);
int store_del(DB_TXN *txn, enum store_table t, const void *key, size_t klen);

/* Calls fn for each record whose key starts with prefix, in key order
 * (reverse order when reverse is set).  fn returns 0 to go on, 1 to stop,
 * or a negative/DB error which store_scan passes back. */
typedef int (*store_scan_fn)(void *arg, const void *key, size_t klen,
                             const void *val, size_t vlen);
int store_scan(DB_TXN *txn, enum store_table t, const void *prefix,
               size_t plen, int reverse, store_scan_fn fn, void *arg);
/* The same from start (a key within prefix) on: the first key >= start,
 * or in reverse the last key <= start.  A NULL start is store_scan. */
int store_scan_from(DB_TXN *txn, enum store_table t, const void *prefix,
                    size_t plen, const void *start, size_t slen, int reverse,
                    store_scan_fn fn, void *arg);

/*
 * Listings: the records under prefix of table t, each parsed as JSON (a
 * value that does not parse is passed over), handed to fn, and what fn
 * makes of it appended to items (the caller's array: several scans may
 * fill one).  fn gets the record borrowed, sets *item to a new reference
 * to append or leaves it NULL to pass the record over, and returns 0 or
 * an error that ends the listing.  A NULL fn keeps every record as it is.
 * Returns 0, fn's error, ENOMEM, or a DB error; items may then hold part
 * of the listing (the caller drops it).
 */
typedef int (*store_item_fn)(void *arg, const void *key, size_t klen,
                             json_t *rec, json_t **item);
int store_list_json(enum store_table t, const void *prefix, size_t plen,
                    store_item_fn fn, void *arg, json_t *items);
/* The same into a new array: the records under "tenant SEP", or every
 * record of t when tenant is NULL.  0 with *items, else the error and
 * *items NULL. */
int store_list_tenant(enum store_table t, const char *tenant,
                      store_item_fn fn, void *arg, json_t **items);

/* Number of records in a table (walks the tree: for metrics, not for
 * request paths). */
int store_count(enum store_table t, uint64_t *count);

/* Builds "a SEP b SEP c" into buf; returns its length or -1 when too long. */
int store_key(char *buf, size_t len, const char *first, ...);

/* Checkpoint when the conf thresholds are due, release the locks of dead
 * processes (failchk), break deadlocks. Cheap when nothing is due. */
void store_maintain(unsigned checkpoint_kbytes, unsigned checkpoint_minutes);

/* From now on store_maintain() leaves checkpoints and the deadlock
 * detector to another process (the checkpointer, checkpointer.h): it only
 * releases dead processes' locks. */
void store_checkpoints_elsewhere(void);

/* Runs Berkeley DB's deadlock detector once (it also expires lock
 * timeouts): whichever process keeps time calls it a few times a second. */
int store_detect_deadlocks(void);

/* Releases the locks and transactions of dead processes now (failchk);
 * DB_RUNRECOVERY when only a recovery can. */
int store_failchk(void);

/* The is-alive answer Berkeley DB gets: 0 for a process that is gone or a
 * zombie (killed, not yet reaped), 1 otherwise. */
int store_pid_alive(pid_t pid);

void store_u64_be(unsigned char out[8], uint64_t v);
uint64_t store_be_u64(const unsigned char in[8]);

#endif
