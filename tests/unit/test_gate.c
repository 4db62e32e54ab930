/* test_gate.c - unit tests of lib/gate.c (Check). */
#include "gate.h"
#include "generation.h"
#include "scope.h"
#include "store.h"
#include "unit.h"

static void
put_shutdown(const char *tenant, const char *id, int severity, const char *scope,
             const char *key_id)
{
	char key[STORE_KEY_MAX];
	json_t *rec = json_pack("{s:s, s:i, s:s, s:s}", "id", id, "severity", severity,
	    "scope", scope, "reason", "drill");

	if (key_id)
		json_object_set_new(rec, "key_id", json_string(key_id));
	store_key(key, sizeof(key), tenant, id, NULL);
	ck_assert_int_eq(store_put_json(NULL, T_ESD_ACTIVE, key, rec, 0), 0);
	json_decref(rec);
}

static void
del_shutdown(const char *tenant, const char *id)
{
	char key[STORE_KEY_MAX];
	int len = store_key(key, sizeof(key), tenant, id, NULL);

	ck_assert_int_eq(store_del(NULL, T_ESD_ACTIVE, key, (size_t)len), 0);
}

static int
gate_severity(const char *tenant, const char *key_id)
{
	struct gate_state g;

	ck_assert_int_eq(gate_evaluate(tenant, key_id, &g), 0);
	return g.severity;
}

START_TEST(gate_sees_every_write_at_once)
{
	char id[32];

	ck_assert_int_eq(gate_severity("org_a", "key_1"), 0);
	put_shutdown("org_a", "esd_1", 3, "org", NULL);
	ck_assert_int_eq(gate_severity("org_a", "key_1"), 3);
	ck_assert_int_eq(gate_severity("org_a", "key_1"), 3);     /* from the copy */
	ck_assert_int_eq(gate_severity("org_b", "key_2"), 0);     /* from the copy */
	put_shutdown("org_a", "esd_2", 5, "key", "key_1");
	ck_assert_int_eq(gate_severity("org_a", "key_1"), 5);
	ck_assert_int_eq(gate_severity("org_a", "key_9"), 3);
	put_shutdown("*", "esd_3", 4, "all", NULL);
	ck_assert_int_eq(gate_severity("org_b", "key_2"), 4);
	del_shutdown("org_a", "esd_2");
	del_shutdown("*", "esd_3");
	ck_assert_int_eq(gate_severity("org_a", "key_1"), 3);
	ck_assert_int_eq(gate_severity("org_b", "key_2"), 0);
	/* more records than the copy holds: read every time, still right */
	for (int i = 0; i < 80; i++) {
		snprintf(id, sizeof(id), "esd_many_%02d", i);
		put_shutdown("org_c", id, 1 + i % 2, "org", NULL);
	}
	ck_assert_int_eq(gate_severity("org_c", "key_3"), 2);
	ck_assert_int_eq(gate_severity("org_a", "key_1"), 3);
	del_shutdown("org_a", "esd_1");
	ck_assert_int_eq(gate_severity("org_a", "key_1"), 0);
	/* without the counters the table is read every time */
	generation_close();
	put_shutdown("org_a", "esd_4", 5, "org", NULL);
	ck_assert_int_eq(gate_severity("org_a", "key_1"), 5);
	del_shutdown("org_a", "esd_4");
	ck_assert_int_eq(gate_severity("org_a", "key_1"), 0);
}
END_TEST

UNIT_MAIN("gate", UNIT_STORE | UNIT_SLOW, gate_sees_every_write_at_once)
