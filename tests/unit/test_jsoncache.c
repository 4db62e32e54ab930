/* test_jsoncache.c - unit tests of lib/jsoncache.c (Check). */
#include "jsoncache.h"
#include "unit.h"

START_TEST(jsoncache_shares_identical_bytes_only)
{
	const char a[] = "{\"status\":\"active\",\"n\":1}";
	const char b[] = "{\"status\":\"ended\", \"n\":1}";
	json_t *first, *again, *other, *bad;

	jsoncache_clear();
	first = jsoncache_load(a, strlen(a));
	again = jsoncache_load(a, strlen(a));
	other = jsoncache_load(b, strlen(b));
	bad = jsoncache_load("{\"status\":", 10);
	ck_assert_ptr_nonnull(first);
	ck_assert_ptr_eq(first, again);
	ck_assert_ptr_nonnull(other);
	ck_assert_ptr_ne(first, other);
	ck_assert_str_eq(json_string_value(json_object_get(other, "status")), "ended");
	ck_assert_ptr_null(bad);
	/* a prefix of cached bytes is another record */
	json_decref(again);
	again = jsoncache_load(a, strlen(a) - 1);
	ck_assert_ptr_null(again);
	json_decref(first);
	json_decref(other);
	/* the slots keep their own references: still readable after decrefs */
	first = jsoncache_load(a, strlen(a));
	ck_assert_int_eq(json_integer_value(json_object_get(first, "n")), 1);
	json_decref(first);
	/* more records than slots: every answer is still right */
	for (int i = 0; i < 200; i++) {
		char text[64];
		json_t *v;

		snprintf(text, sizeof(text), "{\"i\":%d}", i);
		v = jsoncache_load(text, strlen(text));
		ck_assert_int_eq(json_integer_value(json_object_get(v, "i")), i);
		json_decref(v);
	}
	jsoncache_clear();
}
END_TEST

UNIT_MAIN("jsoncache", 0, jsoncache_shares_identical_bytes_only)
