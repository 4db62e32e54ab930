/*
 * outbox.h - webhook deliveries: one per (audit event, subscription that
 * wants it), made by the fan-out after the event is committed, so that an
 * audited write (a kill) costs the same with ten subscriptions as with
 * none.  The fan-out follows the audit log by seq with a cursor
 * (T_CURSORS "outbox_fanout") written in the transaction that writes the
 * deliveries, so every committed event is fanned out exactly once,
 * whoever runs it (the notifier, a deliveries listing) and whenever (a
 * notifier started after a week of events catches up).  A subscription
 * gets the events committed after it was (its from_seq), with the events[]
 * filter and enabled flag it has when its event is fanned out, normally
 * milliseconds after the commit.
 *
 * Stored: T_DELIVERIES under webhook id SEP seq (8 bytes big-endian) ->
 * the delivery {id, webhook_id, tenant, event_id, event_seq, type, state
 * pending|delivered|dead, attempts[], attempt_count, next_at_ms, lease},
 * and T_OUTBOX under the same key -> "" while it is pending, so the
 * notifier's scan meets only pending deliveries, each endpoint's in seq
 * order.  A delivery's id is "dlv_" + its seq in 16 hex digits (unique
 * within its webhook).
 *
 * The fan-out, the leases and the attempt records commit without waiting
 * for the disk (store_run_lazy): a crash can only make them happen again
 * (a delivery sent twice), never lose an event, and a kill does not share
 * the disk's flushes with the notifier's bookkeeping.
 *
 * Attempts are leased: the notifier that takes one writes its lease (owner
 * and expiry) in a transaction first, so two notifiers never send the same
 * attempt at once; a notifier that dies leaves a lease that expires, and
 * the attempt is made again (delivery is at least once).
 */
#ifndef ANDON_OUTBOX_H
#define ANDON_OUTBOX_H

#include <stddef.h>
#include <stdint.h>
#include <db.h>
#include <jansson.h>

#include "problem.h"

/* Retry schedule: the wait before attempt n+1 after n failures, in ms, at
 * scale 1 (conf webhook_retry_scale_ppm scales it); after the last the
 * delivery is dead. */
extern const int64_t outbox_schedule_ms[];
extern const unsigned outbox_attempts;

#define FANOUT_BATCH 256           /* events per fan-out transaction */

/* Fans out up to max_events committed events past the cursor (one
 * transaction); *fanned says how many.  0 (also when another process
 * fanned them out first), or a DB error. */
int outbox_fan_out(unsigned max_events, unsigned *fanned);

/* Fans out batches until none is left or about max_events were. */
int outbox_catch_up(unsigned max_events);

/* The deliveries of one webhook, newest first (limit of them). */
int outbox_list(const char *tenant, const char *webhook_id, long limit,
                json_t **items);

/* Makes a dead or delivered delivery pending again, due now.  0, or -1 with
 * a problem (404, 409 when it is pending), or a DB error. */
int outbox_retry(DB_TXN *txn, const char *tenant, const char *webhook_id,
                 const char *delivery_id, json_t **out, struct problem *p);

/* The notifier's side. */
struct outbox_claim {
	char webhook_id[64];
	char tenant[64];
	uint64_t seq;
	unsigned attempt;            /* 1-based */
	char owner[40];
};

/* Calls fn for the first pending delivery of each webhook, in key order;
 * fn returns 0 to go on. */
int outbox_heads(int (*fn)(void *arg, const char *webhook_id, uint64_t seq),
                 void *arg);

/* The seq of the webhook's first pending delivery after `after`: 0, or
 * DB_NOTFOUND when there is none, or a DB error. */
int outbox_next(const char *webhook_id, uint64_t after, uint64_t *seq);

/* Leases the delivery for lease_ms when it is pending, due and not leased
 * by another: 1 claimed, 0 not now (*due_ms tells when, 0 unknown), or a
 * DB error. */
int outbox_claim(const char *webhook_id, uint64_t seq, const char *owner,
                 int64_t lease_ms, struct outbox_claim *c, int64_t *due_ms);

/* What the caller keeps about the endpoint's health after an attempt, in
 * the attempt's own transaction (ok: it succeeded); 0 or a DB error. */
typedef int (*outbox_health_fn)(DB_TXN *txn, const struct outbox_claim *c,
                                int ok, int64_t now_ms, void *arg);

/* Records an attempt's outcome: status (0 for a network error, then
 * error says what), duration; schedules the next attempt or ends the
 * delivery, and calls health(txn, c, ok, now, arg) unless it is NULL (the
 * failure was not the endpoint's and does not count).  Nothing is written
 * when the lease was lost. */
int outbox_finish(const struct outbox_claim *c, int status, const char *error,
                  int64_t duration_ms, unsigned scale_ppm,
                  outbox_health_fn health, void *arg);

/* Ends a delivery without an attempt (its subscription is gone). */
int outbox_drop(const char *webhook_id, uint64_t seq, const char *why);

#endif
