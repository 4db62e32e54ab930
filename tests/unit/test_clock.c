/* test_clock.c - unit tests of lib/clock.c (Check). */
#include "clock.h"
#include "unit.h"

START_TEST(clock_formats_rfc3339_utc)
{
	char text[CLOCK_TEXT_SIZE];

	clock_format(1776531600123LL, text);
	ck_assert_str_eq(text, "2026-04-18T17:00:00.123Z");
	clock_format(0, text);
	ck_assert_str_eq(text, "1970-01-01T00:00:00.000Z");
	clock_format(951782400005LL, text);          /* leap day, 5 ms */
	ck_assert_str_eq(text, "2000-02-29T00:00:00.005Z");
}
END_TEST

START_TEST(clock_parses_zones_and_fractions)
{
	int64_t ms;

	ck_assert_int_eq(clock_parse("2026-04-18T17:00:00Z", &ms), 0);
	ck_assert_int_eq(ms, 1776531600000LL);
	ck_assert_int_eq(clock_parse("2026-04-18T17:00:00.5Z", &ms), 0);
	ck_assert_int_eq(ms, 1776531600500LL);
	ck_assert_int_eq(clock_parse("2026-04-18T17:00:00.123456Z", &ms), 0);
	ck_assert_int_eq(ms, 1776531600123LL);
	ck_assert_int_eq(clock_parse("2026-04-18T19:00:00+02:00", &ms), 0);
	ck_assert_int_eq(ms, 1776531600000LL);
	ck_assert_int_eq(clock_parse("2026-04-18T16:30:00-00:30", &ms), 0);
	ck_assert_int_eq(ms, 1776531600000LL);
	ck_assert_int_eq(clock_parse("2026-04-18t17:00:00z", &ms), 0);
	ck_assert_int_eq(ms, 1776531600000LL);
	ck_assert_int_eq(clock_parse("2024-02-29T00:00:00Z", &ms), 0);
	ck_assert_int_eq(clock_parse("2000-02-29T00:00:00Z", &ms), 0);
}
END_TEST

START_TEST(clock_round_trips)
{
	static const int64_t times[] = { 0, 1, 999, 1000, 1776531600123LL,
	                                 4102444799999LL };
	char text[CLOCK_TEXT_SIZE];
	int64_t ms;

	for (size_t i = 0; i < NELEM(times); i++) {
		clock_format(times[i], text);
		ck_assert_uint_eq(strlen(text), 24);
		ck_assert_int_eq(clock_parse(text, &ms), 0);
		ck_assert_int_eq(ms, times[i]);
	}
}
END_TEST

START_TEST(clock_refuses_garbage)
{
	static const char *const bad[] = {
		"", "yesterday", "2026-04-18", "2026-04-18T17:00:00",
		"2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z",
		"2026-02-30T00:00:00Z", "2025-02-29T00:00:00Z",
		"1900-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
		"2026-04-00T00:00:00Z", "2026-04-18T25:00:00Z",
		"2026-04-18T17:60:00Z", "2026-04-18T17:00:61Z",
		"2026-04-18T17:00:00ZZ", "2026-04-18T17:00:00Z ",
		"2026-04-18T17:00:00+2", "2026-04-18T17:00:00+24:00",
		"2026-04-18T17:00:00+02:60", "2026-04-18T17:00:00+0200",
		"2026-04-18T17:00Z", "2026-04-18T17:00:00.Z",
		"2026/04/18T17:00:00Z", "26-04-18T17:00:00Z",
		"2026-4-18T17:00:00Z", "2026-04-18X17:00:00Z",
		" 2026-04-18T17:00:00Z", "2026-04-18T17:00:00.12aZ",
	};
	int64_t ms;

	for (size_t i = 0; i < NELEM(bad); i++)
		ck_assert_msg(clock_parse(bad[i], &ms) != 0, "accepted '%s'", bad[i]);
}
END_TEST

START_TEST(clock_now_is_now)
{
	int64_t a = clock_now_ms(), b;

	ck_assert_int_gt(a, 1700000000000LL);     /* after November 2023 */
	usleep(20 * 1000);
	b = clock_now_ms();
	ck_assert_int_ge(b - a, 15);
	ck_assert_int_lt(b - a, 5000);
}
END_TEST

UNIT_MAIN("clock", 0, clock_formats_rfc3339_utc,
    clock_parses_zones_and_fractions, clock_round_trips,
    clock_refuses_garbage, clock_now_is_now)
