/* test_ratelimit.c - unit tests of lib/ratelimit.c (Check). */
#include "clock.h"
#include "ratelimit.h"
#include "store.h"
#include "unit.h"

struct spend_job {
	const char *key_id;
	const char *bucket;
	unsigned per_minute, burst;
};

static int
spend_txn(DB_TXN *txn, void *arg)
{
	struct spend_job *s = arg;

	return ratelimit_spend(txn, s->key_id, s->bucket, s->per_minute, s->burst);
}

static void
spend(const char *key_id, const char *bucket, unsigned per_minute, unsigned burst)
{
	struct spend_job s = { key_id, bucket, per_minute, burst };

	ck_assert_int_eq(store_run(spend_txn, &s), 0);
}

START_TEST(rate_limit_burst_then_refuse)
{
	int retry = 0;

	for (int i = 0; i < 3; i++) {
		ck_assert(ratelimit_check("key_unit", "admin", 3, 3, &retry));
		spend("key_unit", "admin", 3, 3);
	}
	ck_assert(!ratelimit_check("key_unit", "admin", 3, 3, &retry));
	/* 3 a minute: one token every 20 s */
	ck_assert_int_ge(retry, 19);
	ck_assert_int_le(retry, 20);
	/* other keys and other buckets are independent */
	ck_assert(ratelimit_check("key_other", "admin", 3, 3, &retry));
	ck_assert(ratelimit_check("key_unit", "check", 3, 3, &retry));
	/* a rate of 0 means no limit */
	ck_assert(ratelimit_check("key_unit", "admin", 0, 3, &retry));
	spend("key_unit", "unlimited", 0, 1);
	spend("key_unit", "unlimited", 0, 1);
	ck_assert(ratelimit_check("key_unit", "unlimited", 0, 1, &retry));
}
END_TEST

/* A bucket emptied an hour ahead of the clock (the wall clock was
 * stepped back since) does not lock the key out for that hour: it counts
 * as full, and refills at its rate after the burst. */
START_TEST(rate_limit_survives_a_clock_stepped_back)
{
	char key[STORE_KEY_MAX];
	json_t *rec;
	int retry = 0;

	ck_assert_int_gt(store_key(key, sizeof(key), "key_unit", "admin", NULL), 0);
	rec = json_pack("{s:f, s:I}", "tokens", 0.0, "at",
	    (json_int_t)(clock_now_ms() + 3600000));
	ck_assert_int_eq(store_put_json(NULL, T_RATELIMIT, key, rec, 0), 0);
	json_decref(rec);
	for (int i = 0; i < 2; i++) {
		ck_assert(ratelimit_check("key_unit", "admin", 30, 2, &retry));
		spend("key_unit", "admin", 30, 2);
	}
	ck_assert(!ratelimit_check("key_unit", "admin", 30, 2, &retry));
	/* 30 a minute: the next token in 2 s, not in an hour */
	ck_assert_int_le(retry, 2);
}
END_TEST

START_TEST(rate_limit_refills_with_time)
{
	int retry = 0;

	/* 120 a minute is a token every 500 ms: wide margins on a busy box */
	spend("key_unit", "fast", 120, 2);
	spend("key_unit", "fast", 120, 2);
	ck_assert(!ratelimit_check("key_unit", "fast", 120, 2, &retry));
	ck_assert_int_eq(retry, 1);   /* rounded up, never 0: clients would spin */
	usleep(650 * 1000);
	ck_assert(ratelimit_check("key_unit", "fast", 120, 2, &retry));

	/* spending an empty bucket never drives it below zero */
	for (int i = 0; i < 6; i++)
		spend("key_unit", "overdrawn", 120, 2);
	usleep(650 * 1000);
	ck_assert(ratelimit_check("key_unit", "overdrawn", 120, 2, &retry));

	/* refills stop at the burst size */
	spend("key_unit", "capped", 120, 2);
	usleep(1600 * 1000);                      /* would be 4 tokens uncapped */
	spend("key_unit", "capped", 120, 2);
	spend("key_unit", "capped", 120, 2);
	ck_assert(!ratelimit_check("key_unit", "capped", 120, 2, &retry));
}
END_TEST

/* it sleeps ~3 s; durable commits on a busy box */
UNIT_MAIN("ratelimit", UNIT_STORE | UNIT_SLOW, rate_limit_burst_then_refuse,
    rate_limit_survives_a_clock_stepped_back, rate_limit_refills_with_time)
