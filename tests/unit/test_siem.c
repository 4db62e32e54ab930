/* test_siem.c - unit tests of lib/siem.c (Check). */
#include "siem.h"
#include "unit.h"

/* The SIEM's syslog message: RFC 5424 header from the event, MSG the
 * stored text with every non-ASCII character escaped. */
START_TEST(siem_message)
{
	static const char event[] = "{\"at\":\"2026-12-02T01:02:03.456Z\","
	    "\"reason\":\"\xe2\x82\xac \xc3\xbc \xf0\x9d\x84\x9e \\\"q\\\"\","
	    "\"seq\":7,\"type\":\"killswitch.activated\"}";
	static const char odd[] = "{\"type\":\"a23456789012345678901234567890123\","
	    "\"x\":\"\xff\"}";
	char *buf = NULL;
	size_t cap = 0, len;
	json_error_t err;
	json_t *a, *b;
	const char *msg;

	ck_assert_int_eq(siem_syslog_message(event, strlen(event), 19, "host-1",
	    "andon", 42, &buf, &cap, &len), 0);
	ck_assert_uint_eq(strlen(buf), len);
	ck_assert_str_eq(buf, "<157>1 2026-12-02T01:02:03.456Z host-1 andon 42 "
	    "killswitch.activated - {\"at\":\"2026-12-02T01:02:03.456Z\","
	    "\"reason\":\"\\u20AC \\u00FC \\uD834\\uDD1E \\\"q\\\"\","
	    "\"seq\":7,\"type\":\"killswitch.activated\"}");
	/* MSG parses to the stored event */
	msg = strstr(buf, " - ") + 3;
	a = json_loads(msg, 0, &err);
	b = json_loads(event, 0, &err);
	ck_assert_ptr_nonnull(a);
	ck_assert(json_equal(a, b));
	json_decref(a);
	json_decref(b);

	/* no time, an overlong type, a host with a space, a malformed byte:
	 * NILVALUEs and U+FFFD */
	ck_assert_int_eq(siem_syslog_message(odd, strlen(odd), 16, "bad host",
	    "andon", 1, &buf, &cap, &len), 0);
	ck_assert_str_eq(buf, "<133>1 - - andon 1 - - {\"type\":"
	    "\"a23456789012345678901234567890123\",\"x\":\"\\uFFFD\"}");
	free(buf);
}
END_TEST

UNIT_MAIN("siem", 0, siem_message)
