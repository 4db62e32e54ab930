/* unit.c - the fixtures and helpers of unit.h. */
#include "apikey.h"
#include "audit.h"
#include "store.h"
#include "tlog.h"
#include "unit.h"

char data_dir[64];

void
store_setup(void)
{
	char err[256];

	snprintf(data_dir, sizeof(data_dir), "/tmp/andon-unit.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(data_dir));
	ck_assert_msg(store_open(data_dir, 8, err, sizeof(err)) == 0, "%s", err);
}

void
store_teardown(void)
{
	char cmd[128];

	store_close();
	apikey_cache_clear();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", data_dir);
	ck_assert_int_eq(system(cmd), 0);
}

int
append_events(DB_TXN *txn, void *arg)
{
	int n = *(int *)arg, rc;
	char receipt[64], target[16];
	uint64_t before;

	if ((rc = audit_head(txn, &before, NULL, 0)) != 0)
		return rc;
	for (int i = 0; i < n; i++) {
		char want[TLOG_LEAF_ID_SIZE];

		snprintf(target, sizeof(target), "t-%d", i);
		struct audit_entry e = { i % 2 ? "org_a" : "org_b", "killswitch.activated",
		    NULL, NULL, "agent", target, "unit test", NULL };
		if ((rc = audit_append(txn, &e, receipt, sizeof(receipt))) != 0)
			return rc;
		/* the receipt names the event's leaf: seq - 1 */
		tlog_leaf_id(before + (uint64_t)i, want);
		ck_assert_str_eq(receipt, want);
	}
	return 0;
}

int
ensure_key(DB_TXN *txn, void *arg)
{
	(void)arg;
	return tlog_ensure_key(txn);
}

void
append_n(int n)
{
	ck_assert_int_eq(store_run(ensure_key, NULL), 0);
	ck_assert_int_eq(store_run(append_events, &n), 0);
}

int
unit_run(const char *name, unsigned flags, const TTest *const *tests, size_t n)
{
	Suite *s = suite_create(name);
	TCase *tc = tcase_create(name);
	SRunner *sr;
	int failed;

	if (sodium_init() < 0)
		return 99;
	if (flags & UNIT_STORE)
		tcase_add_checked_fixture(tc, store_setup, store_teardown);
	if (flags & UNIT_SLOW)
		tcase_set_timeout(tc, 30);
	for (size_t i = 0; i < n; i++)
		tcase_add_test(tc, tests[i]);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
