/* test_jcs.c - unit tests of lib/jcs.c (Check). */
#include <math.h>

#include "jcs.h"
#include "unit.h"

static void
jcs_is(const char *input, const char *want)
{
	json_error_t err;
	json_t *v = json_loads(input, JSON_DECODE_ANY, &err);
	char *text;

	ck_assert_msg(v != NULL, "%s: %s", input, err.text);
	text = jcs_dump(v, NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert_str_eq(text, want);
	free(text);
	json_decref(v);
}

START_TEST(jcs_writes_rfc8785_examples)
{
	/* section 3.2.2: the sample input and its canonical form */
	jcs_is("{\"numbers\": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],"
	    " \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\","
	    " \"literals\": [null, true, false]}",
	    "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
	    "\"string\":\"\u20ac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
	/* section 3.2.3: members sorted by UTF-16 code units, so the emoji
	 * (a surrogate pair) sorts before U+FB33 */
	jcs_is("{\"\\u20ac\": \"Euro Sign\", \"\\r\": \"Carriage Return\","
	    " \"\\ufb33\": \"Hebrew Letter Dalet With Dagesh\", \"1\": \"One\","
	    " \"\\ud83d\\ude00\": \"Emoji: Grinning Face\", \"\\u0080\": \"Control\","
	    " \"\\u00f6\": \"Latin Small Letter O With Diaeresis\"}",
	    "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\","
	    "\"\u00f6\":\"Latin Small Letter O With Diaeresis\",\"\u20ac\":\"Euro Sign\","
	    "\"\U0001F600\":\"Emoji: Grinning Face\",\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}");
	/* nested objects sorted too; DEL and non-ASCII as they are; every
	 * control character escaped, lower-case hex */
	jcs_is("{\"b\": {\"z\": 1, \"a\": [{\"y\": 2, \"x\": 3}]}, \"a\": \"\\u007f\\u001f\\b\"}",
	    "{\"a\":\"\x7f\\u001f\\b\",\"b\":{\"a\":[{\"x\":3,\"y\":2}],\"z\":1}}");
	jcs_is("\"Drained \\u20ac3k \\u2014 \\u00fcber limit\"",
	    "\"Drained \u20ac3k \u2014 \u00fcber limit\"");
	/* integers are the doubles they denote */
	jcs_is("[9007199254740993, -0, 0.0, 1.0, 100, 1e21, 9.2e18]",
	    "[9007199254740992,0,0,1,100,1e+21,9200000000000000000]");
	/* from 2^63 to 1e21 the digits are an integer jansson cannot read
	 * back: refused (tests/fuzz/regress/fuzz_json) */
	for (const char *const *n = (const char *const[]){ "1e20", "30e18",
	    "-1e20", "9223372036854775807", NULL }; *n; n++) {
		json_error_t err;
		json_t *v = json_loads(*n, JSON_DECODE_ANY, &err);

		ck_assert_ptr_nonnull(v);
		ck_assert_msg(jcs_dump(v, NULL) == NULL, "%s is refused", *n);
		json_decref(v);
	}
}
END_TEST

START_TEST(jcs_numbers_as_ecmascript)
{
	/* RFC 8785 appendix B */
	static const struct { uint64_t bits; const char *text; } cases[] = {
		{ 0x0000000000000000ULL, "0" },
		{ 0x8000000000000000ULL, "0" },
		{ 0x0000000000000001ULL, "5e-324" },
		{ 0x8000000000000001ULL, "-5e-324" },
		{ 0x7fefffffffffffffULL, "1.7976931348623157e+308" },
		{ 0xffefffffffffffffULL, "-1.7976931348623157e+308" },
		{ 0x4340000000000000ULL, "9007199254740992" },
		{ 0xc340000000000000ULL, "-9007199254740992" },
		{ 0x4430000000000000ULL, "295147905179352830000" },
		{ 0x44b52d02c7e14af5ULL, "9.999999999999997e+22" },
		{ 0x44b52d02c7e14af6ULL, "1e+23" },
		{ 0x44b52d02c7e14af7ULL, "1.0000000000000001e+23" },
		{ 0x444b1ae4d6e2ef4eULL, "999999999999999700000" },
		{ 0x444b1ae4d6e2ef4fULL, "999999999999999900000" },
		{ 0x444b1ae4d6e2ef50ULL, "1e+21" },
		{ 0x3eb0c6f7a0b5ed8cULL, "9.999999999999997e-7" },
		{ 0x3eb0c6f7a0b5ed8dULL, "0.000001" },
		{ 0x41b3de4355555553ULL, "333333333.3333332" },
		{ 0x41b3de4355555554ULL, "333333333.33333325" },
		{ 0x41b3de4355555555ULL, "333333333.3333333" },
		{ 0x41b3de4355555556ULL, "333333333.3333334" },
		{ 0x41b3de4355555557ULL, "333333333.33333343" },
		{ 0xbecbf647612f3696ULL, "-0.0000033333333333333333" },
		{ 0x43143ff3c1cb0959ULL, "1424953923781206.2" },
	};
	char out[40];
	double d;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(&d, &cases[i].bits, sizeof(d));
		ck_assert_uint_eq(jcs_number(d, out, sizeof(out)), strlen(cases[i].text));
		ck_assert_str_eq(out, cases[i].text);
	}
	/* NaN and infinities have no JSON form */
	ck_assert_uint_eq(jcs_number(NAN, out, sizeof(out)), 0);
	ck_assert_uint_eq(jcs_number(-INFINITY, out, sizeof(out)), 0);
}
END_TEST

/* An integer is written as the double it denotes, whichever way jcs_dump
 * takes to write it (its digits up to 2^53, the shortest form above). */
START_TEST(jcs_integers_as_the_doubles_they_denote)
{
	static const json_int_t cases[] = { 0, 1, -1, 42, 1700000000000LL,
	    (1LL << 53) - 1, 1LL << 53, -(1LL << 53), (1LL << 53) + 1,
	    -(1LL << 53) - 1, 1LL << 60, 123456789012345678LL };
	char want[48], *got;
	size_t len;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *v = json_pack("[I]", cases[i]);

		want[0] = '[';
		len = jcs_number((double)cases[i], want + 1, sizeof(want) - 2);
		ck_assert_uint_gt(len, 0);
		memcpy(want + 1 + len, "]", 2);
		ck_assert_ptr_nonnull(got = jcs_dump(v, &len));
		ck_assert_str_eq(got, want);
		free(got);
		json_decref(v);
	}
}
END_TEST

UNIT_MAIN("jcs", 0, jcs_writes_rfc8785_examples, jcs_numbers_as_ecmascript,
    jcs_integers_as_the_doubles_they_denote)
