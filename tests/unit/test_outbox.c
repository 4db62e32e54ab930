/*
 * test_outbox.c - lib/outbox.c: the fan-out from the committed audit log
 * and where it keeps its cursor.
 */
#include "unit.h"

#include "audit.h"
#include "outbox.h"
#include "pepper.h"
#include "store.h"
#include "webhook.h"

struct subscription {
	json_t *rec;
};

static int
subscribe(DB_TXN *txn, void *arg)
{
	struct subscription *s = arg;
	char secret[WEBHOOK_SECRET_TEXT];
	json_t *events = json_pack("[s]", "killswitch.*");
	int rc = webhook_create(txn, "org_a", "https://hooks.example/a", events,
	    NULL, &s->rec, secret);

	json_decref(events);
	return rc;
}

static const char *
subscribe_org_a(void)
{
	static const unsigned char bytes[PEPPER_BYTES] = { 1, 2, 3 };
	static char id[64];
	struct subscription s = { NULL };

	pepper_set(bytes);
	ck_assert_int_eq(store_run(subscribe, &s), 0);
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(s.rec, "id")));
	json_decref(s.rec);
	return id;
}

static long
deliveries_of(const char *webhook_id)
{
	json_t *items;
	long n;

	ck_assert_int_eq(outbox_list("org_a", webhook_id, 1000, &items), 0);
	n = (long)json_array_size(items);
	json_decref(items);
	return n;
}

static uint64_t
cursor_in(enum store_table t)
{
	json_t *v;
	uint64_t seq;

	if (store_get_json(NULL, t, "outbox_fanout", &v, 0) != 0)
		return 0;
	seq = (uint64_t)json_integer_value(json_object_get(v, "seq"));
	json_decref(v);
	return seq;
}

/* Every committed event after the subscription, once; the cursor is kept
 * in T_CURSORS, never in T_META (where the audit head every writer locks
 * is). */
START_TEST(outbox_fans_out_once_with_its_own_cursor)
{
	const char *id;
	uint64_t head;
	unsigned fanned;

	append_n(3);                        /* before: never delivered */
	id = subscribe_org_a();
	append_n(4);                        /* org_a gets every other one */
	ck_assert_int_eq(outbox_catch_up(1000), 0);
	ck_assert_int_eq(deliveries_of(id), 2);
	ck_assert_int_eq(audit_head(NULL, &head, NULL, 0), 0);
	ck_assert_uint_eq(cursor_in(T_CURSORS), head);
	ck_assert_uint_eq(cursor_in(T_META), 0);
	/* again: nothing new, nothing twice */
	ck_assert_int_eq(outbox_fan_out(1000, &fanned), 0);
	ck_assert_uint_eq(fanned, 0);
	ck_assert_int_eq(deliveries_of(id), 2);
}
END_TEST

static int
put_legacy_cursor(DB_TXN *txn, void *arg)
{
	json_t *v = json_pack("{s:I}", "seq", (json_int_t)*(uint64_t *)arg);
	int rc = store_put_json(txn, T_META, "outbox_fanout", v, 0);

	json_decref(v);
	return rc;
}

/* A data directory from before T_CURSORS kept the cursor in T_META: the
 * fan-out goes on from there (no event fanned out twice, none skipped). */
START_TEST(outbox_continues_from_a_legacy_cursor)
{
	const char *id = subscribe_org_a();
	uint64_t head;

	append_n(4);                        /* two for org_a */
	ck_assert_int_eq(audit_head(NULL, &head, NULL, 0), 0);
	head -= 2;                          /* as if all but the last two were done */
	ck_assert_int_eq(store_run(put_legacy_cursor, &head), 0);
	ck_assert_int_eq(outbox_catch_up(1000), 0);
	ck_assert_int_eq(deliveries_of(id), 1);
	ck_assert_uint_eq(cursor_in(T_CURSORS), head + 2);
}
END_TEST

UNIT_MAIN("outbox", UNIT_STORE,
          outbox_fans_out_once_with_its_own_cursor,
          outbox_continues_from_a_legacy_cursor)
