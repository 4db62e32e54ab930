/* test_jsonout.c - unit tests of lib/jsonout.c (Check). */
#include <math.h>

#include "jsonout.h"
#include "unit.h"

/* jsonout must write what json_dumps(JSON_COMPACT) writes, except that a
 * real may take fewer digits: then both texts read back as equal values. */
static void
same_as_jansson(const json_t *v)
{
	char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	size_t n = jsonout_compact(v, NULL, 0);
	char *got = malloc(n + 1);

	ck_assert_ptr_nonnull(want);
	ck_assert_uint_eq(jsonout_compact(v, got, n), n);
	got[n] = '\0';
	if (strcmp(got, want) != 0) {
		json_t *a = json_loads(got, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
		json_t *b = json_loads(want, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);

		ck_assert_msg(a && b && json_equal(a, b) && n < strlen(want),
		    "jsonout %s, jansson %s", got, want);
		json_decref(a);
		json_decref(b);
	}
	free(got);
	free(want);
}

/* Reals: the shortest digits that read back the same, ".0" when whole. */
START_TEST(jsonout_writes_shortest_reals)
{
	static const struct { double d; const char *text; } cases[] = {
		{ 0.9, "0.9" }, { 0.1, "0.1" }, { 1.0, "1.0" }, { -2.0, "-2.0" },
		{ 0.30000000000000004, "0.30000000000000004" }, { 1e300, "1e+300" },
		{ 1.5e-7, "1.5e-07" }, { 123456789012345680.0, "1.2345678901234568e+17" },
		{ 5e-324, "5e-324" }, { 100.0, "100.0" }, { 1e21, "1e+21" },
	};
	char out[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_uint_eq(jsonout_real(cases[i].d, out, sizeof(out)),
		    strlen(cases[i].text));
		ck_assert_str_eq(out, cases[i].text);
	}
	for (int i = 0; i < 10000; i++) {
		double d = ((double)random() / RAND_MAX - 0.5) * pow(10, random() % 40 - 20);

		ck_assert_uint_ne(jsonout_real(d, out, sizeof(out)), 0);
		ck_assert(strtod(out, NULL) == d);
	}
	ck_assert_uint_eq(jsonout_real(0.1, out, 3), 0);
}
END_TEST

/* A random value of random depth with random UTF-8 strings. */
static json_t *
random_value(int depth)
{
	static const unsigned ranges[][2] = {
		{ 0x00, 0x7f }, { 0x00, 0x20 }, { 0x80, 0x7ff },
		{ 0x800, 0xd7ff }, { 0xe000, 0xffff }, { 0x10000, 0x10ffff },
	};
	char text[64];
	size_t len = 0;
	json_t *v;

	switch (depth > 3 ? randombytes_uniform(5) : randombytes_uniform(7)) {
	case 0:
		return json_integer((json_int_t)randombytes_random() -
		    (json_int_t)randombytes_random() * 65536);
	case 1:
		return json_real((double)randombytes_random() / 7.0);
	case 2:
		return randombytes_uniform(3) == 0 ? json_null() :
		    json_boolean(randombytes_uniform(2));
	case 3:
	case 4:
		for (unsigned n = randombytes_uniform(12); n > 0; n--) {
			const unsigned *r = ranges[randombytes_uniform(6)];
			unsigned cp = r[0] + randombytes_uniform(r[1] - r[0] + 1);

			if (cp < 0x80) {
				text[len++] = (char)cp;
			} else if (cp < 0x800) {
				text[len++] = (char)(0xc0 | cp >> 6);
				text[len++] = (char)(0x80 | (cp & 0x3f));
			} else if (cp < 0x10000) {
				text[len++] = (char)(0xe0 | cp >> 12);
				text[len++] = (char)(0x80 | ((cp >> 6) & 0x3f));
				text[len++] = (char)(0x80 | (cp & 0x3f));
			} else {
				text[len++] = (char)(0xf0 | cp >> 18);
				text[len++] = (char)(0x80 | ((cp >> 12) & 0x3f));
				text[len++] = (char)(0x80 | ((cp >> 6) & 0x3f));
				text[len++] = (char)(0x80 | (cp & 0x3f));
			}
		}
		return json_stringn(text, len);
	case 5:
		v = json_array();
		for (unsigned n = randombytes_uniform(5); n > 0; n--)
			json_array_append_new(v, random_value(depth + 1));
		return v;
	default:
		v = json_object();
		for (unsigned n = randombytes_uniform(5); n > 0; n--) {
			snprintf(text, sizeof(text), "k\"%u\t\xc3\xa9", randombytes_uniform(100));
			json_object_set_new(v, text, random_value(depth + 1));
		}
		return v;
	}
}

START_TEST(jsonout_writes_what_jansson_writes)
{
	char all_controls[33], small[8], *full;
	json_t *v, *deep;
	size_t n;

	for (int i = 0; i < 32; i++)
		all_controls[i] = (char)(i + 1 == 32 ? 0x7f : i + 1);
	all_controls[32] = '\0';
	v = json_pack("{s:b, s:s, s:s, s:n, s:I, s:I, s:f, s:f, s:f, s:[], s:{}, s:s#}",
	    "is_killed", 1, "target_id", "a\"b\\c/d\u00e9\U0001F600",
	    "controls", all_controls, "reason", "min",
	    (json_int_t)INT64_MIN, "max", (json_int_t)INT64_MAX,
	    "real", 0.1, "whole", 1.0, "big", 1e300, "empty_array", "empty_object",
	    "nul", "a\0b", (int)3);
	ck_assert_ptr_nonnull(v);
	same_as_jansson(v);
	same_as_jansson(json_object_get(v, "controls"));
	/* too small a buffer: the whole length, and a prefix of the text */
	n = jsonout_compact(v, NULL, 0);
	full = malloc(n);
	ck_assert_uint_eq(jsonout_compact(v, full, n), n);
	ck_assert_uint_eq(jsonout_compact(v, small, sizeof(small)), n);
	ck_assert(memcmp(small, full, sizeof(small)) == 0);
	free(full);
	json_decref(v);

	for (int i = 0; i < 2000; i++) {
		v = random_value(0);
		same_as_jansson(v);
		json_decref(v);
	}

	/* nesting deeper than JSONOUT_MAX_DEPTH is refused, not followed */
	deep = json_array();
	v = deep;
	for (int i = 0; i < JSONOUT_MAX_DEPTH + 2; i++) {
		json_t *inner = json_array();

		json_array_append_new(v, inner);
		v = inner;
	}
	ck_assert_uint_eq(jsonout_compact(deep, small, sizeof(small)), 0);
	ck_assert_uint_eq(jsonout_compact(NULL, small, sizeof(small)), 0);
	json_decref(deep);
}
END_TEST

UNIT_MAIN("jsonout", 0, jsonout_writes_what_jansson_writes,
    jsonout_writes_shortest_reals)
