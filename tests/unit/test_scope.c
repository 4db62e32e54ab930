/* test_scope.c - unit tests of lib/scope.c (Check). */
#include "request.h"
#include "scope.h"
#include "unit.h"

START_TEST(scope_names_and_bits)
{
	unsigned all = 0;

	ck_assert_uint_eq(scope_from_name("killswitch:check"), SCOPE_KILLSWITCH_CHECK);
	ck_assert_uint_eq(scope_from_name("platform:admin"), SCOPE_PLATFORM_ADMIN);
	ck_assert_uint_eq(scope_from_name("nope"), 0);
	ck_assert_uint_eq(scope_from_name(""), 0);
	ck_assert_uint_eq(scope_from_name("Agents:read"), 0);
	ck_assert_uint_eq(scope_from_name("agents:read "), 0);
	ck_assert_uint_eq(scope_from_name("agents:*"), 0);
	/* every listed name is one distinct bit, and its name round-trips */
	for (size_t i = 0; scope_names[i]; i++) {
		unsigned bit = scope_from_name(scope_names[i]);

		if (!strcmp(scope_names[i], "*"))
			continue;
		ck_assert_msg(bit != 0 && (bit & (bit - 1)) == 0, "%s", scope_names[i]);
		ck_assert((all & bit) == 0);
		all |= bit;
		ck_assert_str_eq(scope_name(bit), scope_names[i]);
	}
	ck_assert_uint_eq(all, SCOPE_ALL_TENANT | SCOPE_PLATFORM_ADMIN);
	ck_assert_str_eq(scope_name(0), "?");
	ck_assert_str_eq(scope_name(SCOPE_AGENTS_READ | SCOPE_AGENTS_WRITE), "?");
}
END_TEST

START_TEST(scope_star_is_every_tenant_scope)
{
	unsigned star = scope_from_name("*");

	ck_assert_uint_eq(star, SCOPE_ALL_TENANT);
	ck_assert((star & SCOPE_PLATFORM_ADMIN) == 0);
	for (unsigned bit = SCOPE_AGENTS_READ; bit < SCOPE_PLATFORM_ADMIN; bit <<= 1)
		ck_assert_msg((star & bit) == bit, "* lacks %s", scope_name(bit));
}
END_TEST

/* The mask of a JSON list written as text. */
static long
mask_of(const char *text)
{
	json_error_t err;
	json_t *names = json_loads(text, JSON_DECODE_ANY, &err);
	long mask;

	ck_assert_ptr_nonnull(names);
	mask = scope_mask_from_json(names);
	json_decref(names);
	return mask;
}

START_TEST(scope_lists)
{
	long star;

	ck_assert_int_eq(mask_of("[\"agents:read\",\"platform:admin\"]"),
	    SCOPE_AGENTS_READ | SCOPE_PLATFORM_ADMIN);
	ck_assert_int_eq(mask_of("[\"agents:read\",\"agents:read\"]"), SCOPE_AGENTS_READ);
	ck_assert_int_eq(mask_of("[]"), 0);
	ck_assert_int_eq(mask_of("[\"*\"]"), SCOPE_ALL_TENANT);
	ck_assert_int_eq(mask_of("[\"*\",\"platform:admin\"]"),
	    SCOPE_ALL_TENANT | SCOPE_PLATFORM_ADMIN);
	/* one unknown or non-string name spoils the list */
	ck_assert_int_lt(mask_of("[\"agents:read\",\"agents:teleport\"]"), 0);
	ck_assert_int_lt(mask_of("[\"agents:read\",7]"), 0);
	ck_assert_int_lt(mask_of("[null]"), 0);
	ck_assert_int_lt(mask_of("\"agents:read\""), 0);
	ck_assert_int_lt(mask_of("{\"agents:read\":true}"), 0);
	ck_assert_int_lt(scope_mask_from_json(NULL), 0);

	/* subsets, as the pipeline (needed) and key creation (granted) use them */
	star = mask_of("[\"*\"]");
	ck_assert((mask_of("[\"killswitch:write\",\"audit:read\"]") & ~star) == 0);
	ck_assert((mask_of("[\"keys:admin\",\"platform:admin\"]") & ~star) != 0);
	ck_assert((mask_of("[\"killswitch:check\"]") &
	    ~mask_of("[\"killswitch:write\"]")) != 0);   /* write does not imply check */
}
END_TEST

UNIT_MAIN("scope", 0, scope_names_and_bits, scope_star_is_every_tenant_scope,
    scope_lists)
