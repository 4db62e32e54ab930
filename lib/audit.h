/*
 * audit.h - the audit trail: one event per state change, appended in the
 * same transaction as the change, chained by SHA-256 and anchored as a leaf
 * of the transparency log.
 *
 * hash = hex(SHA-256(canonical JSON of the event without "hash")), where the
 * event carries prev_hash; the leaf is the canonical JSON with "hash".
 * Events reach syslog / the JSON-lines file only after their commit.
 */
#ifndef ANDON_AUDIT_H
#define ANDON_AUDIT_H

#include <stdint.h>
#include <db.h>
#include <jansson.h>

#include "apikey.h"
#include "conf.h"

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
/* Number of events and the last hash (hex, 65 bytes) when hash != NULL. */
int audit_head(DB_TXN *txn, uint64_t *seq, char *hash, size_t hashlen);
/* 1 when the event's "hash" matches its content. */
int audit_event_hash_ok(const json_t *event);
/* Reads event number seq (1-based). */
int audit_get(DB_TXN *txn, uint64_t seq, json_t **event);

/* After a commit: send the events of the transaction to the SIEM sinks.
 * After an abort: forget them. */
void audit_sinks_configure(const struct conf *conf);
void audit_flush_pending(void);
void audit_discard_pending(void);

/* Verifies the whole chain and the transparency log. Returns 0 when both
 * verify, else -1 and a reason. */
int audit_verify_all(uint64_t *events, char *why, size_t whylen);

#endif
