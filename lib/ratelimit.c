/* ratelimit.c - token buckets in the shared store. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "clock.h"
#include "ratelimit.h"
#include "store.h"

/* A bucket stamped later than now by more than this: the clock stepped. */
#define CLOCK_STEP_MS 1000

static double
tokens_now(DB_TXN *txn, const char *key, unsigned per_minute, unsigned burst,
           uint32_t flags, int *rc)
{
	int64_t now, at;
	double tokens = burst;
	json_t *rec;

	*rc = store_get_json(txn, T_RATELIMIT, key, &rec, flags);
	if (*rc == DB_NOTFOUND) {
		*rc = 0;
		return tokens;
	}
	if (*rc != 0)
		return 0;
	tokens = json_number_value(json_object_get(rec, "tokens"));
	at = json_integer_value(json_object_get(rec, "at"));
	json_decref(rec);
	/* read after the record: a spender the read waited for stamped its
	 * time first, so now is not behind it but for a stepped clock */
	now = clock_now_ms();
	/* spent well "after" now: the wall clock was stepped back since, by
	 * an unknown amount.  Counted as negative time it locked the key out
	 * for as long as the step (an hour back: Retry-After 3600, and no
	 * spend to restamp the bucket); the bucket counts as full, as a step
	 * forward makes it: a step gives at most one burst more. */
	if (now < at - CLOCK_STEP_MS)
		return burst;
	if (now > at)
		tokens += (double)(now - at) * per_minute / 60000.0;
	return tokens > burst ? burst : tokens;
}

int
ratelimit_check(const char *key_id, const char *bucket, unsigned per_minute,
                unsigned burst, int *retry_after)
{
	char key[STORE_KEY_MAX];
	double tokens;
	int rc;

	if (per_minute == 0 || store_key(key, sizeof(key), key_id, bucket, NULL) < 0)
		return 1;
	tokens = tokens_now(NULL, key, per_minute, burst, 0, &rc);
	if (rc != 0 || tokens >= 1.0)
		return 1;
	*retry_after = (int)ceil((1.0 - tokens) * 60.0 / per_minute);
	if (*retry_after < 1)
		*retry_after = 1;
	return 0;
}

int
ratelimit_spend(DB_TXN *txn, const char *key_id, const char *bucket,
                unsigned per_minute, unsigned burst)
{
	char key[STORE_KEY_MAX];
	double tokens;
	json_t *rec;
	int rc;

	if (per_minute == 0 || store_key(key, sizeof(key), key_id, bucket, NULL) < 0)
		return 0;
	tokens = tokens_now(txn, key, per_minute, burst, DB_RMW, &rc);
	if (rc != 0)
		return rc;
	tokens = tokens >= 1.0 ? tokens - 1.0 : 0.0;
	rec = json_pack("{s:f, s:I}", "tokens", tokens, "at", (json_int_t)clock_now_ms());
	rc = store_put_json(txn, T_RATELIMIT, key, rec, 0);
	json_decref(rec);
	return rc;
}
