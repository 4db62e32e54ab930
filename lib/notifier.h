/*
 * notifier.h - the webhook notifier (andonctl notify): takes due
 * deliveries from the outbox (outbox.h), each endpoint's in seq order, and
 * sends them with libcurl, signed per Standard Webhooks:
 *
 *   webhook-id: the audit event id (the same on every retry)
 *   webhook-timestamp: seconds since the epoch, at this attempt
 *   webhook-signature: "v1,<base64 HMAC-SHA256(secret, id.timestamp.body)>",
 *                      one per secret still signing (rotation overlap)
 *
 * The body is {"type", "timestamp", "data": the audit event}.  Any 2xx is
 * delivered; anything else (3xx included: redirects are never followed),
 * a timeout or a refused destination is a failed attempt.  It is never in
 * a request's path: it wakes on the audit log's and the outbox's change
 * counters (checked every few milliseconds, a shared-memory read) and on
 * the next due retry, and each pass first fans the audit events committed
 * since the last one out into deliveries (outbox.h).
 */
#ifndef ANDON_NOTIFIER_H
#define ANDON_NOTIFIER_H

#include <stddef.h>

#include "conf.h"

/* The signature header value for msg_id, timestamp and body signed with
 * each of count keys of klen bytes: "v1,<b64> v1,<b64>". */
void notifier_sign(const char *msg_id, long long timestamp, const char *body,
                   const unsigned char (*keys)[24], int count, char *out,
                   size_t outlen);

/* Runs passes until a SIGTERM/SIGINT (or one pass when once); 0, or -1
 * with err.  Each piece of database work and each attempt is watched
 * (watchdog.h, started by the caller): stuck in the database, the
 * process asks for a forced recovery and exits with status 75. */
int notifier_run(const struct conf *conf, int once, char *err, size_t errlen);

#endif
