/* test_replication.c - unit tests of lib/replication.c (Check): the lag
 * arithmetic and the redirect's Location. */
#include "replication.h"
#include "unit.h"

static DB_LSN
lsn(u_int32_t file, u_int32_t offset)
{
	DB_LSN l;

	l.file = file;
	l.offset = offset;
	return l;
}

START_TEST(replication_lag_bytes_counts_the_log_between)
{
	DB_LSN a = lsn(3, 1000), b = lsn(3, 1500), c = lsn(5, 200);

	ck_assert_uint_eq(replication_lag_bytes(&a, &b, 10000), 500);
	ck_assert_uint_eq(replication_lag_bytes(&a, &a, 10000), 0);
	/* ahead (a replica whose report is newer than the master's sample) */
	ck_assert_uint_eq(replication_lag_bytes(&b, &a, 10000), 0);
	/* two files on: the rest of file 3, file 4, the start of file 5 */
	ck_assert_uint_eq(replication_lag_bytes(&a, &c, 10000), 2 * 10000 + 200 - 1000);
}
END_TEST

START_TEST(replication_lag_ms_since_the_master_was_last_at_the_replica)
{
	struct replication_samples rs;
	DB_LSN l1 = lsn(1, 100), l2 = lsn(1, 200), l3 = lsn(1, 300);
	DB_LSN mid = lsn(1, 250), old = lsn(1, 50);

	memset(&rs, 0, sizeof(rs));
	replication_sample(&rs, &l1, 1000);
	replication_sample(&rs, &l1, 2000);   /* still at l1 at 2000 */
	replication_sample(&rs, &l2, 3000);
	replication_sample(&rs, &l3, 4000);
	ck_assert_uint_eq(rs.count, 3);
	/* caught up, or ahead: no lag */
	ck_assert_int_eq(replication_lag_ms(&rs, &l3, &l3, 5000), 0);
	ck_assert_int_eq(replication_lag_ms(&rs, &l3, &l2, 5000), 0);
	/* at l2: complete as of 3000 */
	ck_assert_int_eq(replication_lag_ms(&rs, &l2, &l3, 5000), 2000);
	/* at l1: complete as of 2000, the last time the master was there */
	ck_assert_int_eq(replication_lag_ms(&rs, &l1, &l3, 5000), 3000);
	/* between samples: the newest at or below it */
	ck_assert_int_eq(replication_lag_ms(&rs, &mid, &l3, 5000), 2000);
	/* before every sample: at least since the oldest */
	ck_assert_int_eq(replication_lag_ms(&rs, &old, &l3, 5000), 3000);
}
END_TEST

START_TEST(replication_samples_keep_the_newest)
{
	struct replication_samples rs;
	DB_LSN l, head = lsn(1, (REPLICATION_SAMPLES + 10) * 10);

	memset(&rs, 0, sizeof(rs));
	for (u_int32_t i = 1; i <= REPLICATION_SAMPLES + 10; i++) {
		l = lsn(1, i * 10);
		replication_sample(&rs, &l, (long long)i * 1000);
	}
	ck_assert_uint_eq(rs.count, REPLICATION_SAMPLES);
	/* the first ten are gone: a replica older than all is behind at
	 * least since the oldest kept (11th, at 11000) */
	l = lsn(1, 5);
	ck_assert_int_eq(replication_lag_ms(&rs, &l, &head, 200000), 200000 - 11000);
}
END_TEST

START_TEST(replication_location_encodes_the_path)
{
	char out[128];

	ck_assert_int_eq(replication_location(out, sizeof(out), "http://m:1",
	    "/api/v1/x y", "a=1"), 0);
	ck_assert_str_eq(out, "http://m:1/api/v1/x%20y?a=1");
	ck_assert_int_eq(replication_location(out, 12, "http://m:1", "/long/path",
	    ""), -1);
}
END_TEST

UNIT_MAIN("replication", 0,
    replication_lag_bytes_counts_the_log_between,
    replication_lag_ms_since_the_master_was_last_at_the_replica,
    replication_samples_keep_the_newest,
    replication_location_encodes_the_path)
