/*
 * audit.h - the audit trail: one event per state change, appended in the
 * same transaction as the change, chained by SHA-256 and anchored as a leaf
 * of the transparency log.
 *
 * hash = hex(SHA-256(canonical JSON of the event without "hash")), where the
 * event carries prev_hash; the leaf is the canonical JSON with "hash".
 * The canonical form is RFC 8785's (events carry "canon": "jcs"), or for
 * events written before that marker jansson's sorted dump (tlog.h).
 * Events reach syslog and the JSON-lines file after their commit, read
 * from the trail by andonctl siem (siem.h), never from a request's path.
 */
#ifndef ANDON_AUDIT_H
#define ANDON_AUDIT_H

#include <stdint.h>
#include <db.h>
#include <jansson.h>

#include "conf.h"
#include "principal.h"

struct audit_entry {
	const char *tenant;
	const char *type;            /* "killswitch.activated", ... */
	const struct principal *who; /* NULL for the CLI */
	const char *operator_id;     /* optional */
	const char *target_type;
	const char *target_id;
	const char *reason;          /* optional */
	json_t *data;                /* optional, borrowed */
};

/* Appends; fills receipt_id ("rcpt_...") when not NULL. */
int audit_append(DB_TXN *txn, const struct audit_entry *e, char *receipt_id,
                 size_t receipt_len);
/* The same, then sets rec's member (e.g. "receipt_id") to the event's
 * transparency-log receipt id. */
int audit_append_noted(DB_TXN *txn, const struct audit_entry *e, json_t *rec,
                       const char *member);
/*
 * The tail of a change to a record, event first: appends e (taking the
 * reference to e->data, which may be NULL), sets rec's member to the
 * event's receipt id, then has write store rec in the same transaction.
 * 0 with *record = rec, or the error with rec released.
 */
typedef int (*audit_write_fn)(DB_TXN *txn, const json_t *rec, const void *arg);
int audit_then_write(DB_TXN *txn, const struct audit_entry *e, json_t *rec,
                     const char *member, audit_write_fn write,
                     const void *arg, json_t **record);
/* Number of events and the last hash (hex, 65 bytes) when hash != NULL. */
int audit_head(DB_TXN *txn, uint64_t *seq, char *hash, size_t hashlen);
/* Reads event number seq (1-based). */
int audit_get(DB_TXN *txn, uint64_t seq, json_t **event);

/*
 * Reads.  A query walks the tenant's index (T_AUDIT_TENANT), whose value
 * holds what the filters read, so it costs in proportion to the tenant's
 * events, whatever the other tenants wrote, and reads only the events it
 * answers with.
 */
struct audit_filter {
	const char *tenant;
	const char *type;          /* NULL: any; "a.b" exactly; "a.*": "a." prefix */
	const char *target_id;     /* NULL or exactly */
	const char *actor;         /* NULL or the key id, key name or operator id */
	int64_t since_ms, until_ms;/* inclusive bounds on "at" */
	uint64_t after_seq;        /* only later events (0: all) */
	int newest_first;          /* descending seq, else ascending */
};
/* Gets each matching seq; returns 0 to go on, 1 to stop, else an error. */
typedef int (*audit_match_fn)(void *arg, uint64_t seq);
int audit_query(const struct audit_filter *f, audit_match_fn fn, void *arg);
/* The stored text of event seq into *buf (*cap bytes, grown as needed; the
 * caller frees it), not NUL-terminated: an export reads without an
 * allocation per event. */
int audit_get_text(uint64_t seq, char **buf, size_t *cap, size_t *len);
/* The tenant's event by id: 0, DB_NOTFOUND (also another tenant's) or a
 * DB error. */
int audit_find(const char *tenant, const char *id, json_t **event);

/* Verifies the whole chain and the transparency log. Returns 0 when both
 * verify, else -1 and a reason. */
int audit_verify_all(uint64_t *events, char *why, size_t whylen);

#endif
