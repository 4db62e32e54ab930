/* test_localstop.c - unit tests of lib/localstop.c (Check): kills kept on
 * a site while no master can be elected, and their commit on the master. */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <time.h>

#include "killswitch.h"
#include "localstop.h"
#include "store.h"
#include "unit.h"

static const struct principal who = { .key_id = "key_0123456789abcdef",
    .tenant = "org_a", .name = "ops" };

START_TEST(localstop_keeps_finds_and_forgets)
{
	json_t *rec, *found, *all;
	char id[64];

	ck_assert_int_eq(localstop_find(data_dir, "org_a", "agent", "bot", &found),
	    DB_NOTFOUND);
	ck_assert_int_eq(localstop_list(data_dir, &all), 0);
	ck_assert_uint_eq(json_array_size(all), 0);
	json_decref(all);

	ck_assert_int_eq(localstop_add(data_dir, &who, "agent", "bot", "cut off",
	    "idem-1", "fp-1", &rec), 0);
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(rec, "id")));
	ck_assert(strncmp(id, "lks_", 4) == 0);
	ck_assert_str_eq(json_string_value(json_object_get(rec, "status")), "pending");
	json_decref(rec);

	ck_assert_int_eq(localstop_find(data_dir, "org_a", "agent", "bot", &found), 0);
	ck_assert_str_eq(json_string_value(json_object_get(found, "id")), id);
	ck_assert_str_eq(json_string_value(json_object_get(found, "reason")), "cut off");
	json_decref(found);
	/* another tenant, type or target: not killed */
	ck_assert_int_eq(localstop_find(data_dir, "org_b", "agent", "bot", &found),
	    DB_NOTFOUND);
	ck_assert_int_eq(localstop_find(data_dir, "org_a", "run", "bot", &found),
	    DB_NOTFOUND);
	ck_assert_int_eq(localstop_find(data_dir, "org_a", "agent", "bot2", &found),
	    DB_NOTFOUND);
	ck_assert_int_eq(localstop_find_replay(data_dir, who.key_id, "idem-1", &found), 0);
	json_decref(found);
	ck_assert_int_eq(localstop_find_replay(data_dir, who.key_id, "idem-2", &found),
	    DB_NOTFOUND);

	ck_assert_int_eq(localstop_remove(data_dir, id), 0);
	ck_assert_int_eq(localstop_find(data_dir, "org_a", "agent", "bot", &found),
	    DB_NOTFOUND);
	/* removing twice, or a name that is not an id */
	ck_assert_int_eq(localstop_remove(data_dir, id), 0);
	ck_assert_int_eq(localstop_remove(data_dir, "../x"), EINVAL);
}
END_TEST

START_TEST(localstop_keep_refuses_what_is_not_a_kept_kill)
{
	json_t *bad = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", "lks_../../x",
	    "organization_id", "org_a", "key_id", "k", "target_type", "agent",
	    "target_id", "bot");
	json_t *all;

	ck_assert_int_eq(localstop_keep(data_dir, bad), EINVAL);
	json_object_set_new(bad, "id", json_string("lks_0123456789abcdef0123456789abcdef"));
	json_object_del(bad, "target_id");
	ck_assert_int_eq(localstop_keep(data_dir, bad), EINVAL);
	json_object_set_new(bad, "target_id", json_string("bot"));
	ck_assert_int_eq(localstop_keep(data_dir, bad), 0);
	ck_assert_int_eq(localstop_list(data_dir, &all), 0);
	ck_assert_uint_eq(json_array_size(all), 1);
	json_decref(all);
	json_decref(bad);
}
END_TEST

START_TEST(localstop_apply_kills_once)
{
	json_t *rec, *items;
	struct problem p;

	ck_assert_int_eq(store_run(ensure_key, NULL), 0);
	ck_assert_int_eq(localstop_add(data_dir, &who, "agent", "bot", "cut off",
	    NULL, NULL, &rec), 0);
	ck_assert_int_eq(localstop_apply(rec), 0);
	/* handed over again (an answer lost): still one kill */
	ck_assert_int_eq(localstop_apply(rec), 0);
	ck_assert_int_eq(killswitch_history("org_a", "agent", "bot", &items, &p), 0);
	ck_assert_uint_eq(json_array_size(items), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(items, 0),
	    "killed_by")), who.key_id);
	json_decref(items);
	json_decref(rec);

	/* a target the master killed already: done, nothing added */
	ck_assert_int_eq(localstop_add(data_dir, &who, "agent", "bot", NULL,
	    "idem-9", "fp-9", &rec), 0);
	ck_assert_int_eq(localstop_apply(rec), 0);
	ck_assert_int_eq(killswitch_history("org_a", "agent", "bot", &items, &p), 0);
	ck_assert_uint_eq(json_array_size(items), 1);
	json_decref(items);
	json_decref(rec);
}
END_TEST

/* A check on a site where nothing is kept costs one stat() (the process
 * remembers the directory empty); a kill kept since is still found. */
START_TEST(localstop_find_sees_a_kill_kept_after_an_empty_scan)
{
	char dir[PATH_MAX];
	struct timespec old[2];
	json_t *rec, *found;

	ck_assert_int_eq(localstop_add(data_dir, &who, "agent", "bot", NULL,
	    NULL, NULL, &rec), 0);
	ck_assert_int_eq(localstop_remove(data_dir,
	    json_string_value(json_object_get(rec, "id"))), 0);
	/* an empty directory last changed a while ago */
	snprintf(dir, sizeof(dir), "%s/stops", data_dir);
	clock_gettime(CLOCK_REALTIME, &old[0]);
	old[0].tv_sec -= 10;
	old[1] = old[0];
	ck_assert_int_eq(utimensat(AT_FDCWD, dir, old, 0), 0);
	ck_assert_int_eq(localstop_find(data_dir, "org_a", "agent", "bot", &found),
	    DB_NOTFOUND);
	ck_assert_int_eq(localstop_find(data_dir, "org_a", "agent", "bot", &found),
	    DB_NOTFOUND);
	/* kept by another process: the directory changed */
	ck_assert_int_eq(localstop_keep(data_dir, rec), 0);
	ck_assert_int_eq(localstop_find(data_dir, "org_a", "agent", "bot", &found), 0);
	json_decref(found);
	json_decref(rec);
}
END_TEST

UNIT_MAIN("localstop", UNIT_STORE | UNIT_SLOW,
    localstop_keeps_finds_and_forgets,
    localstop_find_sees_a_kill_kept_after_an_empty_scan,
    localstop_keep_refuses_what_is_not_a_kept_kill,
    localstop_apply_kills_once)
