/*
 * ratelimit.h - per-key token buckets kept in the database, so every
 * process of every family shares them.  A bucket holds up to `burst`
 * tokens and refills at per_minute / 60 tokens a second.  The pipeline
 * checks for a token before the handler and spends it in the handler's
 * own transaction only when the call succeeded.
 */
#ifndef ANDON_RATELIMIT_H
#define ANDON_RATELIMIT_H

#include <db.h>

/* 1 when a token is available; else 0 and *retry_after in seconds. */
int ratelimit_check(const char *key_id, const char *bucket,
                    unsigned per_minute, unsigned burst, int *retry_after);
int ratelimit_spend(DB_TXN *txn, const char *key_id, const char *bucket,
                    unsigned per_minute, unsigned burst);

#endif
