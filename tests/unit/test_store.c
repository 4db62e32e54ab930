/* test_store.c - unit tests of lib/store.c (Check). */
#include <sys/stat.h>
#include <sys/wait.h>

#include "readcache.h"
#include "store.h"
#include "unit.h"

struct seen {
	char text[64];
	int stop_after;   /* 0: never */
	int calls;
};

/* Records the last character of each key. */
static int
collect(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct seen *s = arg;
	size_t n = strlen(s->text);

	(void)val;
	(void)vlen;
	if (n + 1 < sizeof(s->text)) {
		s->text[n] = ((const char *)key)[klen - 1];
		s->text[n + 1] = '\0';
	}
	s->calls++;
	return s->stop_after && s->calls >= s->stop_after ? 1 : 0;
}

static int
failing_scan(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	(void)arg; (void)key; (void)klen; (void)val; (void)vlen;
	return -42;
}

/* tenant-a's keys sit between neighbours on both sides in key order. */
static int
put_tenants(DB_TXN *txn, void *arg)
{
	static const char *const rows[][2] = {
		{ "tenant-", "0" }, { "tenant-a", "1" }, { "tenant-a", "2" },
		{ "tenant-a", "3" }, { "tenant-ab", "9" }, { "tenant-b", "8" },
		{ "tenant-a\x1e", "7" },
	};
	int rc;

	(void)arg;
	for (size_t i = 0; i < NELEM(rows); i++) {
		char key[64];

		/* "tenant-a\x1e" holds no separator: build it by hand */
		snprintf(key, sizeof(key), "%s%c%s", rows[i][0], KEY_SEP, rows[i][1]);
		if ((rc = store_put(txn, T_META, key, strlen(key), "x", 1, 0)) != 0)
			return rc;
	}
	/* a key equal to the bare tenant name, no separator */
	return store_put(txn, T_META, "tenant-a", 8, "x", 1, 0);
}

static const char *
scan_text(const char *tenant, int reverse, int stop_after)
{
	static struct seen s;
	char prefix[64];
	int len = store_key(prefix, sizeof(prefix), tenant, "", NULL);

	memset(&s, 0, sizeof(s));
	s.stop_after = stop_after;
	ck_assert_int_eq(store_scan(NULL, T_META, prefix, (size_t)len, reverse, collect, &s), 0);
	return s.text;
}

START_TEST(store_keys)
{
	char key[64];
	unsigned char be[8];
	int len;

	len = store_key(key, sizeof(key), "a", "b", "c", NULL);
	ck_assert_int_eq(len, 5);
	ck_assert_mem_eq(key, "a\x1f" "b\x1f" "c", 6);
	ck_assert_int_eq(store_key(key, sizeof(key), "solo", NULL), 4);
	ck_assert_str_eq(key, "solo");
	ck_assert_int_eq(store_key(key, sizeof(key), "t", "", NULL), 2);
	ck_assert_mem_eq(key, "t\x1f", 3);
	/* too long for the buffer, or a part holding the separator */
	ck_assert_int_lt(store_key(key, 4, "abc", "def", NULL), 0);
	ck_assert_int_lt(store_key(key, sizeof(key), "a\x1f" "b", "c", NULL), 0);
	ck_assert_int_lt(store_key(key, sizeof(key), "a", "\x1f", NULL), 0);

	/* big-endian sequence numbers sort as numbers */
	store_u64_be(be, 0x0102030405060708ULL);
	ck_assert_mem_eq(be, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	ck_assert_uint_eq(store_be_u64(be), 0x0102030405060708ULL);
	for (uint64_t a = 1; a < (1ULL << 40); a = a * 3 + 1) {
		unsigned char x[8], y[8];

		store_u64_be(x, a);
		store_u64_be(y, a + 1);
		ck_assert_int_lt(memcmp(x, y, 8), 0);
	}
}
END_TEST

static int
put_two(DB_TXN *txn, void *arg)
{
	int rc;

	(void)arg;
	if ((rc = store_put(txn, T_META, "k1", 2, "value one", 9, 0)) != 0)
		return rc;
	return store_put(txn, T_META, "k2", 2, "v2", 2, 0);
}

static int
put_then_rollback(DB_TXN *txn, void *arg)
{
	int rc = store_put(txn, T_META, "gone", 4, "x", 1, 0);

	return rc != 0 ? rc : *(int *)arg;
}

START_TEST(store_put_get_and_transactions)
{
	void *val;
	size_t vlen;
	json_t *j;
	uint64_t count;
	int outcome;

	ck_assert_int_eq(store_get(NULL, T_META, "k1", 2, &val, &vlen, 0), DB_NOTFOUND);
	ck_assert_int_eq(store_run(put_two, NULL), 0);
	ck_assert_int_eq(store_get(NULL, T_META, "k1", 2, &val, &vlen, 0), 0);
	ck_assert_uint_eq(vlen, 9);
	ck_assert_mem_eq(val, "value one", 9);
	free(val);
	ck_assert_int_eq(store_exists(NULL, T_META, "k2", 2), 0);
	ck_assert_int_eq(store_exists(NULL, T_META, "k3", 2), DB_NOTFOUND);
	/* tables are separate */
	ck_assert_int_eq(store_exists(NULL, T_TENANTS, "k1", 2), DB_NOTFOUND);
	ck_assert_int_eq(store_count(T_META, &count), 0);
	ck_assert_uint_eq(count, 2);

	/* overwrite, refuse to overwrite, delete */
	ck_assert_int_eq(store_put(NULL, T_META, "k1", 2, "new", 3, 0), 0);
	ck_assert_int_eq(store_put(NULL, T_META, "k1", 2, "newer", 5, DB_NOOVERWRITE),
	    DB_KEYEXIST);
	ck_assert_int_eq(store_get(NULL, T_META, "k1", 2, &val, &vlen, 0), 0);
	ck_assert_mem_eq(val, "new", 3);
	ck_assert_uint_eq(vlen, 3);
	free(val);
	ck_assert_int_eq(store_del(NULL, T_META, "k1", 2), 0);
	ck_assert_int_eq(store_exists(NULL, T_META, "k1", 2), DB_NOTFOUND);

	/* JSON records */
	j = json_pack("{s:s, s:i}", "name", "x", "n", 3);
	ck_assert_int_eq(store_put_json(NULL, T_TENANTS, "org_a", j, 0), 0);
	json_decref(j);
	ck_assert_int_eq(store_get_json(NULL, T_TENANTS, "org_a", &j, 0), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "n")), 3);
	json_decref(j);

	/* store_run: STORE_ROLLBACK aborts quietly, an error aborts loudly */
	outcome = STORE_ROLLBACK;
	ck_assert_int_eq(store_run(put_then_rollback, &outcome), 0);
	ck_assert_int_eq(store_exists(NULL, T_META, "gone", 4), DB_NOTFOUND);
	outcome = EINVAL;
	ck_assert_int_eq(store_run(put_then_rollback, &outcome), EINVAL);
	ck_assert_int_eq(store_exists(NULL, T_META, "gone", 4), DB_NOTFOUND);
	outcome = 0;
	ck_assert_int_eq(store_run(put_then_rollback, &outcome), 0);
	ck_assert_int_eq(store_exists(NULL, T_META, "gone", 4), 0);
}
END_TEST

START_TEST(store_survives_reopen)
{
	char err[256];
	void *val;
	size_t vlen;

	ck_assert_int_eq(store_run(put_two, NULL), 0);
	store_close();
	ck_assert_msg(store_open(data_dir, 8, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(store_get(NULL, T_META, "k2", 2, &val, &vlen, 0), 0);
	ck_assert_mem_eq(val, "v2", 2);
	free(val);
}
END_TEST

/*
 * Every write transaction takes the audit head's lock first, so a second
 * writer queues on it (here: a transaction that may not wait is refused
 * it) until the first commits; the commit returns with the log on disk.
 */
START_TEST(store_writers_queue_on_one_lock)
{
	DB_ENV *env = store_env();
	DB_LOG_STAT *ls;
	DB_TXN *first, *second;
	void *val;
	size_t vlen;
	int rc;

	ck_assert_int_eq(store_begin_write(&first), 0);
	ck_assert_int_eq(store_put(first, T_TENANTS, "org_q", 5, "{}", 2, 0), 0);
	/* another table, another page: not the queue */
	ck_assert_int_eq(env->txn_begin(env, NULL, &second, DB_TXN_NOWAIT), 0);
	ck_assert_int_eq(store_put(second, T_APIKEYS, "k", 1, "{}", 2, 0), 0);
	rc = store_get(second, T_META, STORE_AUDIT_HEAD, strlen(STORE_AUDIT_HEAD),
	    &val, &vlen, DB_RMW);
	ck_assert_msg(rc == DB_LOCK_DEADLOCK || rc == DB_LOCK_NOTGRANTED,
	    "the second writer was not queued: %s", db_strerror(rc));
	store_abort(second);
	ck_assert_int_eq(store_commit(first), 0);
	ck_assert_int_eq(env->log_stat(env, &ls, 0), 0);
	ck_assert_uint_eq(ls->st_disk_file, ls->st_cur_file);
	ck_assert_uint_eq(ls->st_disk_offset, ls->st_cur_offset);
	free(ls);
	/* free again: the next writer gets it at once */
	ck_assert_int_eq(env->txn_begin(env, NULL, &second, DB_TXN_NOWAIT), 0);
	rc = store_get(second, T_META, STORE_AUDIT_HEAD, strlen(STORE_AUDIT_HEAD),
	    &val, &vlen, DB_RMW);
	ck_assert_int_eq(rc, DB_NOTFOUND);
	store_abort(second);
	ck_assert_int_eq(store_exists(NULL, T_TENANTS, "org_q", 5), 0);
}
END_TEST

START_TEST(store_scans_stay_in_their_prefix)
{
	struct seen s;

	ck_assert_int_eq(store_run(put_tenants, NULL), 0);
	ck_assert_str_eq(scan_text("tenant-a", 0, 0), "123");
	ck_assert_str_eq(scan_text("tenant-a", 1, 0), "321");
	ck_assert_str_eq(scan_text("tenant-ab", 0, 0), "9");
	ck_assert_str_eq(scan_text("tenant-ab", 1, 0), "9");
	/* the last prefix in the table, and one with no key at all */
	ck_assert_str_eq(scan_text("tenant-b", 1, 0), "8");
	ck_assert_str_eq(scan_text("tenant-c", 0, 0), "");
	ck_assert_str_eq(scan_text("tenant-c", 1, 0), "");
	ck_assert_str_eq(scan_text("a-tenant", 1, 0), "");
	/* a callback returning 1 stops the walk */
	ck_assert_str_eq(scan_text("tenant-a", 0, 2), "12");
	ck_assert_str_eq(scan_text("tenant-a", 1, 1), "3");
	/* a callback's error is passed back */
	ck_assert_int_eq(store_scan(NULL, T_META, "tenant", 6, 0, failing_scan, NULL), -42);
	/* an empty prefix walks the whole table */
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(store_scan(NULL, T_META, "", 0, 1, collect, &s), 0);
	ck_assert_int_eq(s.calls, 8);
}
END_TEST

/* Reverse scans whose prefix ends in 0xff bytes (no simple successor). */
START_TEST(store_reverse_scan_after_ff)
{
	static const unsigned char pre[] = { 'p', 0xff, 0xff };
	unsigned char key[4];
	struct seen s;

	key[0] = 'p';
	key[1] = 0xff;
	key[2] = 0xff;
	for (unsigned char c = '1'; c <= '3'; c++) {
		key[3] = c;
		ck_assert_int_eq(store_put(NULL, T_META, key, 4, "x", 1, 0), 0);
	}
	ck_assert_int_eq(store_put(NULL, T_META, "q", 1, "x", 1, 0), 0);
	ck_assert_int_eq(store_put(NULL, T_META, "p\xfe" "9", 3, "x", 1, 0), 0);
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(store_scan(NULL, T_META, pre, sizeof(pre), 1, collect, &s), 0);
	ck_assert_str_eq(s.text, "321");
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(store_scan(NULL, T_META, pre, sizeof(pre), 0, collect, &s), 0);
	ck_assert_str_eq(s.text, "123");
}
END_TEST

/* The value of key in T_KS_ACTIVE as store_get sees it, or "-" if absent. */
static const char *
active_value(const char *key)
{
	static char text[64];
	void *val;
	size_t vlen;
	int rc = store_get(NULL, T_KS_ACTIVE, key, strlen(key), &val, &vlen, 0);

	if (rc == DB_NOTFOUND)
		return "-";
	ck_assert_int_eq(rc, 0);
	snprintf(text, sizeof(text), "%.*s", (int)vlen, (const char *)val);
	free(val);
	return text;
}

START_TEST(store_reads_follow_every_write)
{
	DB_TXN *txn;
	pid_t child;
	int status;

	/* an absent key is remembered as absent, until a write */
	ck_assert_str_eq(active_value("k1"), "-");
	ck_assert_str_eq(active_value("k1"), "-");
	ck_assert_int_eq(store_exists(NULL, T_KS_ACTIVE, "k1", 2), DB_NOTFOUND);
	ck_assert_int_eq(store_put(NULL, T_KS_ACTIVE, "k1", 2, "v1", 2, 0), 0);
	ck_assert_str_eq(active_value("k1"), "v1");
	ck_assert_str_eq(active_value("k1"), "v1");
	ck_assert_int_eq(store_exists(NULL, T_KS_ACTIVE, "k1", 2), 0);
	/* a write in a transaction, seen once committed */
	ck_assert_int_eq(store_begin(&txn), 0);
	ck_assert_int_eq(store_put(txn, T_KS_ACTIVE, "k1", 2, "v2", 2, 0), 0);
	ck_assert_int_eq(store_commit(txn), 0);
	ck_assert_str_eq(active_value("k1"), "v2");
	/* an aborted write leaves the stored value */
	ck_assert_int_eq(store_begin(&txn), 0);
	ck_assert_int_eq(store_put(txn, T_KS_ACTIVE, "k1", 2, "v3", 2, 0), 0);
	store_abort(txn);
	ck_assert_str_eq(active_value("k1"), "v2");
	/* another process writes: this one sees it on its next read */
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		char err[256];

		/* a child must not use its parent's handles: its own open */
		if (store_open(data_dir, 8, err, sizeof(err)) != 0 ||
		    store_put(NULL, T_KS_ACTIVE, "k1", 2, "v4", 2, 0) != 0 ||
		    store_del(NULL, T_KS_ACTIVE, "k2", 2) != DB_NOTFOUND)
			_exit(1);
		store_close();
		_exit(0);
	}
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_str_eq(active_value("k1"), "v4");
	ck_assert_int_eq(store_del(NULL, T_KS_ACTIVE, "k1", 2), 0);
	ck_assert_str_eq(active_value("k1"), "-");
	ck_assert_int_eq(store_exists(NULL, T_KS_ACTIVE, "k1", 2), DB_NOTFOUND);
	/* a dropped copy is read again */
	ck_assert_int_eq(store_put(NULL, T_KS_ACTIVE, "k1", 2, "v5", 2, 0), 0);
	ck_assert_str_eq(active_value("k1"), "v5");
	readcache_clear();
	ck_assert_str_eq(active_value("k1"), "v5");
}
END_TEST

/*
 * Every region file has its blocks: Berkeley DB leaves them sparse, and a
 * region page touched first on a full disk is SIGBUS, not an error.  The
 * cache's file (__db.003) has them beyond its end too, for its growth.
 */
START_TEST(store_regions_own_their_blocks)
{
	char path[PATH_MAX];
	struct stat st;
	int seen = 0;

	for (int i = 1; i <= 20; i++) {
		snprintf(path, sizeof(path), "%s/db/__db.%03d", data_dir, i);
		if (stat(path, &st) != 0)
			continue;
		seen++;
		ck_assert_msg((off_t)st.st_blocks * 512 >= st.st_size,
		    "%s: %lld bytes, %lld in blocks", path, (long long)st.st_size,
		    (long long)st.st_blocks * 512);
		if (i >= 3)
			ck_assert_msg((off_t)st.st_blocks * 512 >= (off_t)8 << 20,
			    "%s: the cache's blocks are not reserved", path);
	}
	ck_assert_int_ge(seen, 3);
}
END_TEST

UNIT_MAIN("store", UNIT_STORE | UNIT_SLOW, store_keys,
    store_put_get_and_transactions, store_survives_reopen,
    store_writers_queue_on_one_lock, store_scans_stay_in_their_prefix,
    store_reverse_scan_after_ff, store_reads_follow_every_write,
    store_regions_own_their_blocks)
