/* test_validate.c - unit tests of lib/validate.c (Check). */
#include "problem.h"
#include "request.h"
#include "validate.h"
#include "unit.h"

static const char *const colours[] = { "red", "green", NULL };

static const struct field_spec test_fields[] = {
	{ "name", FIELD_STRING, FIELD_REQUIRED | FIELD_NONEMPTY | FIELD_PRINTABLE, 5, NULL, 0, 0 },
	{ "colour", FIELD_STRING, 0, 0, colours, 0, 0 },
	{ "note", FIELD_STRING, FIELD_NULLABLE, 3, NULL, 0, 0 },
	{ "count", FIELD_INTEGER, 0, 0, NULL, 1, 5 },
	{ "score", FIELD_NUMBER, 0, 0, NULL, 0, 1 },
	{ "flag", FIELD_BOOLEAN, 0, 0, NULL, 0, 0 },
	{ "meta", FIELD_OBJECT, 0, 16, NULL, 0, 0 },
	{ "tags", FIELD_STRING_ARRAY, 0, 2, colours, 0, 0 },
	{ "items", FIELD_ANY_ARRAY, 0, 2, NULL, 0, 0 },
};

static const struct body_spec test_body = BODY_SPEC(test_fields);

/* Validates a parsed body; returns the problem code ("" when valid). */
static const char *
verdict_json(json_t *body, const struct body_spec *spec, struct problem *p)
{
	int rc;

	memset(p, 0, sizeof(*p));
	ck_assert_ptr_nonnull(body);
	rc = validate_body(body, spec, p);
	json_decref(body);
	if (rc == 0) {
		ck_assert_int_eq(p->status, 0);
		return "";
	}
	ck_assert_int_eq(p->status, 400);
	return p->code;
}

/* Parses and validates text against spec. */
static const char *
verdict_spec(const char *text, const struct body_spec *spec, struct problem *p)
{
	json_t *body;

	memset(p, 0, sizeof(*p));
	if ((body = parse_json_body(text, strlen(text), p)) == NULL)
		return p->code;
	return verdict_json(body, spec, p);
}

static const char *
verdict(const char *text, struct problem *p)
{
	return verdict_spec(text, &test_body, p);
}

START_TEST(validation_rules)
{
	struct problem p;

	ck_assert_str_eq(verdict("{\"name\":\"abc\"}", &p), "");
	ck_assert_str_eq(verdict("{\"name\":\"abc\",\"colour\":\"red\",\"note\":null,"
	    "\"count\":5,\"score\":0.5,\"flag\":true,\"meta\":{\"a\":1},"
	    "\"tags\":[\"red\",\"green\"],\"items\":[1,{}]}", &p), "");

	ck_assert_str_eq(verdict("{}", &p), "missing_field");
	ck_assert_str_eq(p.field, "name");
	ck_assert(strstr(p.detail, "name") != NULL);

	ck_assert_str_eq(verdict("{\"name\":\"abcdef\"}", &p), "field_too_long");
	ck_assert_str_eq(p.field, "name");
	ck_assert_str_eq(verdict("{\"name\":\"a\",\"note\":\"abcd\"}", &p), "field_too_long");
	ck_assert_str_eq(p.field, "note");

	/* numbers within [min, max] */
	ck_assert_str_eq(verdict("{\"name\":\"a\",\"count\":1}", &p), "");
	ck_assert_str_eq(verdict("{\"name\":\"a\",\"count\":6}", &p), "invalid_field");
	ck_assert_str_eq(p.field, "count");
	ck_assert_str_eq(verdict("{\"name\":\"a\",\"count\":0}", &p), "invalid_field");
	ck_assert_str_eq(verdict("{\"name\":\"a\",\"count\":-9223372036854775808}", &p),
	    "invalid_field");
	ck_assert_str_eq(verdict("{\"name\":\"a\",\"score\":1}", &p), "");
	ck_assert_str_eq(verdict("{\"name\":\"a\",\"score\":1.5}", &p), "invalid_field");
	ck_assert_str_eq(verdict("{\"name\":\"a\",\"score\":-0.1}", &p), "invalid_field");

	/* allowed values, for strings and array items */
	ck_assert_str_eq(verdict("{\"name\":\"a\",\"colour\":\"blue\"}", &p), "invalid_field");
	ck_assert_str_eq(p.field, "colour");
	ck_assert_str_eq(verdict("{\"name\":\"a\",\"colour\":\"Red\"}", &p), "invalid_field");
	ck_assert_str_eq(verdict("{\"name\":\"a\",\"tags\":[\"blue\"]}", &p), "invalid_field");
	ck_assert_str_eq(p.field, "tags");
	ck_assert(strstr(p.detail, "blue") != NULL);

	/* sizes of objects (serialised bytes) and arrays (items) */
	ck_assert_str_eq(verdict("{\"name\":\"a\",\"meta\":{\"long\":\"xxxxxxxxxxxx\"}}", &p),
	    "field_too_long");
	ck_assert_str_eq(p.field, "meta");
	ck_assert_str_eq(verdict("{\"name\":\"a\",\"tags\":[\"red\",\"red\",\"red\"]}", &p),
	    "field_too_long");
	ck_assert_str_eq(verdict("{\"name\":\"a\",\"items\":[1,2,3]}", &p), "field_too_long");
	ck_assert_str_eq(p.field, "items");
}
END_TEST

START_TEST(validation_unknown_fields)
{
	struct problem p;

	ck_assert_str_eq(verdict("{\"name\":\"abc\",\"nmae\":1}", &p), "unknown_field");
	ck_assert_str_eq(p.field, "nmae");
	ck_assert(strstr(p.detail, "nmae") != NULL);
	/* an unknown field is named even when a required one is missing */
	ck_assert_str_eq(verdict("{\"nmae\":\"abc\"}", &p), "unknown_field");
	ck_assert_str_eq(p.field, "nmae");
	/* names are case-sensitive */
	ck_assert_str_eq(verdict("{\"name\":\"abc\",\"Name\":\"x\"}", &p), "unknown_field");
	ck_assert_str_eq(p.field, "Name");
	/* a very long unknown name is cut, never overflows */
	ck_assert_str_eq(verdict("{\"name\":\"a\",\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\":1}", &p),
	    "unknown_field");
	ck_assert_uint_lt(strlen(p.field), sizeof(p.field));
}
END_TEST

/* One optional field of every kind; each gets every wrong JSON type. */
static const struct field_spec kind_fields[] = {
	{ "s", FIELD_STRING, 0, 0, NULL, 0, 0 },
	{ "i", FIELD_INTEGER, 0, 0, NULL, 0, 0 },
	{ "n", FIELD_NUMBER, 0, 0, NULL, 0, 0 },
	{ "b", FIELD_BOOLEAN, 0, 0, NULL, 0, 0 },
	{ "o", FIELD_OBJECT, 0, 0, NULL, 0, 0 },
	{ "sa", FIELD_STRING_ARRAY, 0, 0, NULL, 0, 0 },
	{ "aa", FIELD_ANY_ARRAY, 0, 0, NULL, 0, 0 },
};

static const struct body_spec kind_body = BODY_SPEC(kind_fields);

static const struct {
	const char *field;
	const char *good[3];
	const char *bad[7];
} kind_cases[] = {
	{ "s", { "\"x\"", "\"\"", "\"\\u00e9\"" },
	  { "1", "1.5", "true", "[]", "{}", "null", "[\"x\"]" } },
	{ "i", { "0", "-3", "9007199254740993" },
	  { "\"1\"", "1.5", "1e2", "true", "[]", "{}", "null" } },
	{ "n", { "1.5", "2", "-1e-3" },
	  { "\"1\"", "false", "[]", "{}", "null", "[1]", "\"NaN\"" } },
	{ "b", { "true", "false", NULL },
	  { "0", "1", "\"true\"", "null", "[]", "{}", "[true]" } },
	{ "o", { "{}", "{\"k\":[1]}", NULL },
	  { "[]", "\"{}\"", "1", "null", "true", "2.5", "[{}]" } },
	{ "sa", { "[]", "[\"a\",\"b\"]", NULL },
	  { "\"a\"", "{}", "[1]", "[null]", "null", "[[\"a\"]]", "[\"a\",2]" } },
	{ "aa", { "[]", "[1,\"a\",null,{}]", NULL },
	  { "{}", "\"[]\"", "1", "null", "true", "0.5", "\"x\"" } },
};

START_TEST(validation_types_per_kind)
{
	struct problem p;
	char text[128];

	for (size_t i = 0; i < NELEM(kind_cases); i++) {
		const char *field = kind_cases[i].field;

		for (size_t j = 0; j < NELEM(kind_cases[i].good) && kind_cases[i].good[j]; j++) {
			snprintf(text, sizeof(text), "{\"%s\":%s}", field, kind_cases[i].good[j]);
			ck_assert_msg(!strcmp(verdict_spec(text, &kind_body, &p), ""),
			    "%s refused: %s", text, p.detail);
		}
		for (size_t j = 0; j < NELEM(kind_cases[i].bad); j++) {
			snprintf(text, sizeof(text), "{\"%s\":%s}", field, kind_cases[i].bad[j]);
			ck_assert_msg(!strcmp(verdict_spec(text, &kind_body, &p), "invalid_type"),
			    "%s gave '%s' instead of invalid_type", text, p.code ? p.code : "");
			ck_assert_str_eq(p.field, field);
			ck_assert(strstr(p.detail, field) != NULL);
		}
	}
}
END_TEST

/* A string of n copies of one UTF-8 character, as a JSON body. */
static json_t *
repeated(const char *field, const char *ch, size_t n)
{
	size_t len = strlen(ch);
	char *s = malloc(n * len + 1);
	json_t *body;

	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < n; i++)
		memcpy(s + i * len, ch, len);
	s[n * len] = '\0';
	body = json_pack("{s:s}", field, s);
	free(s);
	return body;
}

START_TEST(validation_length_in_code_points)
{
	static const struct field_spec fields[] = {
		{ "text", FIELD_STRING, FIELD_PRINTABLE, 2000, NULL, 0, 0 },
	};
	static const struct body_spec spec = BODY_SPEC(fields);
	/* 1, 2, 3 and 4 bytes per character */
	static const char *const chars[] = { "a", "\xc3\xa9", "\xe2\x82\xac",
	                                     "\xf0\x9f\x98\x80" };
	struct problem p;

	for (size_t i = 0; i < NELEM(chars); i++) {
		ck_assert_str_eq(verdict_json(repeated("text", chars[i], 2000), &spec, &p), "");
		ck_assert_str_eq(verdict_json(repeated("text", chars[i], 2001), &spec, &p),
		    "field_too_long");
		ck_assert_str_eq(p.field, "text");
		ck_assert(strstr(p.detail, "2000") != NULL);
	}
	/* escapes count as the characters they stand for */
	ck_assert_str_eq(verdict_spec("{\"name\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"}",
	    &test_body, &p), "");
	ck_assert_str_eq(verdict_spec("{\"name\":\"\\ud83d\\ude00\\ud83d\\ude00"
	    "\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\"}", &test_body, &p),
	    "field_too_long");
	ck_assert_uint_eq(utf8_length(""), 0);
	ck_assert_uint_eq(utf8_length("\xc3\xa9t\xc3\xa9"), 3);
	ck_assert_uint_eq(utf8_length("\xf0\x9f\x98\x80\xe2\x82\xac"), 2);
}
END_TEST

START_TEST(validation_flags)
{
	static const struct field_spec fields[] = {
		{ "opt", FIELD_STRING, FIELD_NULLABLE, 0, NULL, 0, 0 },
		{ "req", FIELD_INTEGER, FIELD_REQUIRED | FIELD_NULLABLE, 0, NULL, 0, 0 },
		{ "plain", FIELD_STRING, 0, 0, NULL, 0, 0 },
		{ "nonempty", FIELD_STRING, FIELD_NONEMPTY, 0, NULL, 0, 0 },
	};
	static const struct body_spec spec = BODY_SPEC(fields);
	static const struct body_spec some = { fields, 1, 1 };   /* "opt" only */
	static const char *const controls[] = {
		"\\u0001", "\\t", "\\n", "\\r", "\\u001b", "\\u001f", "\\u007f",
	};
	struct problem p;
	char text[64];

	/* NULLABLE: null means absent */
	ck_assert_str_eq(verdict_spec("{\"req\":1,\"opt\":null}", &spec, &p), "");
	ck_assert_str_eq(verdict_spec("{\"req\":null}", &spec, &p), "missing_field");
	ck_assert_str_eq(p.field, "req");
	ck_assert_str_eq(verdict_spec("{\"req\":1,\"plain\":null}", &spec, &p), "invalid_type");
	ck_assert_str_eq(p.field, "plain");
	ck_assert_str_eq(verdict_spec("{\"req\":1,\"opt\":false}", &spec, &p), "invalid_type");

	/* NONEMPTY: not empty nor only white space */
	ck_assert_str_eq(verdict("{\"name\":\"\"}", &p), "empty_field");
	ck_assert_str_eq(p.field, "name");
	ck_assert_str_eq(verdict("{\"name\":\"   \"}", &p), "empty_field");
	ck_assert_str_eq(verdict_spec("{\"req\":1,\"nonempty\":\" \\t\\n\"}", &spec, &p),
	    "empty_field");
	ck_assert_str_eq(verdict_spec("{\"req\":1,\"nonempty\":\" x \"}", &spec, &p), "");
	ck_assert_str_eq(verdict_spec("{\"req\":1,\"plain\":\"\"}", &spec, &p), "");

	/* PRINTABLE: no C0 control characters nor DEL */
	for (size_t i = 0; i < NELEM(controls); i++) {
		snprintf(text, sizeof(text), "{\"name\":\"a%sb\"}", controls[i]);
		ck_assert_msg(!strcmp(verdict(text, &p), "invalid_field"), "%s accepted", text);
		ck_assert_str_eq(p.field, "name");
		/* the same text in a field without the flag is fine */
		snprintf(text, sizeof(text), "{\"req\":1,\"plain\":\"a%sb\"}", controls[i]);
		ck_assert_str_eq(verdict_spec(text, &spec, &p), "");
	}
	ck_assert_str_eq(verdict("{\"name\":\"a~ \\u00e9\"}", &p), "");
	ck_assert(text_printable("plain text, \xc3\xa9 \xf0\x9f\x98\x80"));
	ck_assert(!text_printable("bell\a"));
	ck_assert(text_blank(""));
	ck_assert(text_blank(" \t\n"));
	ck_assert(!text_blank(" x "));

	/* at_least_one: an empty object is refused */
	ck_assert_str_eq(verdict_spec("{}", &some, &p), "empty_body");
	ck_assert_str_eq(verdict_spec("{\"opt\":\"x\"}", &some, &p), "");
}
END_TEST

/* FIELD_RATE_LIMITED: a body naming the field (not as null) is flagged;
 * an empty description takes only an empty object. */
START_TEST(validation_flagged_fields)
{
	static const struct field_spec fields[] = {
		{ "status", FIELD_STRING, FIELD_RATE_LIMITED | FIELD_NULLABLE, 0, NULL, 0, 0 },
		{ "note", FIELD_STRING, 0, 0, NULL, 0, 0 },
	};
	static const struct body_spec spec = BODY_SPEC(fields);
	static const struct body_spec none = { NULL, 0, 0 };
	static const char *const bodies[] = {
		"{\"status\":\"x\"}", "{\"note\":\"n\",\"status\":\"x\"}",
		"{\"note\":\"n\"}", "{\"status\":null}", "{}",
	};
	static const int flagged[] = { 1, 1, 0, 0, 0 };
	struct problem p;

	for (size_t i = 0; i < NELEM(bodies); i++) {
		json_t *body = json_loads(bodies[i], 0, NULL);

		ck_assert_msg(body_names_flagged(body, &spec, FIELD_RATE_LIMITED) ==
		    flagged[i], "%s", bodies[i]);
		ck_assert(!body_names_flagged(body, &spec, FIELD_PRINTABLE));
		json_decref(body);
	}
	ck_assert_str_eq(verdict_spec("{}", &none, &p), "");
	ck_assert_str_eq(verdict_spec("{\"force\":true}", &none, &p), "unknown_field");
	ck_assert_str_eq(p.field, "force");
}
END_TEST

START_TEST(json_body_parsing)
{
	static const struct {
		const char *text;
		const char *code;
	} bad[] = {
		{ "{\"a\":", "invalid_json" },
		{ "{\"a\":1} x", "invalid_json" },
		{ "{\"a\":1}{}", "invalid_json" },
		{ "{'a':1}", "invalid_json" },
		{ "{\"a\":1,}", "invalid_json" },
		{ "[1]", "invalid_json" },
		{ "\"x\"", "invalid_json" },
		{ "42", "invalid_json" },
		{ "null", "invalid_json" },
		{ " ", "invalid_json" },
		{ "{\"a\":1,\"a\":2}", "invalid_json" },
		{ "{\"a\":\"\\u0000\"}", "invalid_json" },
		{ "{\"a\":\"\xff\"}", "invalid_utf8" },
		{ "{\"a\":\"\xc0\xaf\"}", "invalid_utf8" },          /* overlong '/' */
		{ "{\"a\":\"\xed\xa0\x80\"}", "invalid_utf8" },      /* surrogate */
		{ "{\"a\":\"\xe2\x82\"}", "invalid_utf8" },          /* cut short */
		{ "{\"\xff\":1}", "invalid_utf8" },
	};
	struct problem p;
	json_t *v;

	/* an empty body is an empty object */
	v = parse_json_body("", 0, &p);
	ck_assert(json_is_object(v) && json_object_size(v) == 0);
	json_decref(v);
	v = parse_json_body(NULL, 0, &p);
	ck_assert(json_is_object(v) && json_object_size(v) == 0);
	json_decref(v);
	v = parse_json_body(" {\"a\":[1,2]}\n", 13, &p);
	ck_assert(json_is_object(v));
	ck_assert_uint_eq(json_array_size(json_object_get(v, "a")), 2);
	json_decref(v);

	for (size_t i = 0; i < NELEM(bad); i++) {
		memset(&p, 0, sizeof(p));
		v = parse_json_body(bad[i].text, strlen(bad[i].text), &p);
		ck_assert_msg(v == NULL, "accepted %s", bad[i].text);
		ck_assert_int_eq(p.status, 400);
		ck_assert_msg(!strcmp(p.code, bad[i].code), "%s gave %s", bad[i].text, p.code);
	}
	parse_json_body("[1]", 3, &p);
	ck_assert(strstr(p.detail, "object") != NULL);
	/* len is honoured: a body is not read past its length */
	v = parse_json_body("{}garbage", 2, &p);
	ck_assert(json_is_object(v));
	json_decref(v);
}
END_TEST

UNIT_MAIN("validate", 0, validation_rules, validation_unknown_fields,
    validation_types_per_kind, validation_length_in_code_points,
    validation_flags, validation_flagged_fields, json_body_parsing)
