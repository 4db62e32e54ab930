/*
 * test_lib.c - unit tests of the shared library (lib/), one Check test case
 * per library file: clock, ids, request, validate, router, scope, conf,
 * store, apikey, audit, tlog, ratelimit and idempotency.
 *
 * Tests that need the database open a fresh data directory under /tmp
 * (fixture store_setup); Check forks every test, so no state leaks from one
 * test to the next.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <sodium.h>

#include "apikey.h"
#include "audit.h"
#include "clock.h"
#include "conf.h"
#include "envlock.h"
#include "event.h"
#include "gate.h"
#include "generation.h"
#include "idempotency.h"
#include "ids.h"
#include "jcs.h"
#include "jsoncache.h"
#include "jsonout.h"
#include "merkle.h"
#include "pepper.h"
#include "ratelimit.h"
#include "readcache.h"
#include "request.h"
#include "response.h"
#include "router.h"
#include "scope.h"
#include "siem.h"
#include "store.h"
#include "tlog.h"
#include "validate.h"
#include "watchdog.h"
#include "notifier.h"
#include "destination.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* A temporary data directory with an open store, per test. */
static char data_dir[64];

static void
store_setup(void)
{
	char err[256];

	snprintf(data_dir, sizeof(data_dir), "/tmp/andon-unit.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(data_dir));
	ck_assert_msg(store_open(data_dir, 8, err, sizeof(err)) == 0, "%s", err);
}

static void
store_teardown(void)
{
	char cmd[128];

	store_close();
	apikey_cache_clear();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", data_dir);
	ck_assert_int_eq(system(cmd), 0);
}

/*
 * clock
 */
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

/*
 * ids
 */
static int
compare_strings(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* 1 when n strings of size width, sorted, hold no duplicate. */
static int
all_distinct(char *strings, size_t n, size_t width)
{
	qsort(strings, n, width, compare_strings);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(strings + (i - 1) * width, strings + i * width))
			return 0;
	return 1;
}

#define MANY_IDS 2000

START_TEST(ids_random_hex)
{
	static char ids[MANY_IDS][ID_SIZE];
	char small[8];

	for (size_t i = 0; i < MANY_IDS; i++) {
		id_random_hex(ids[i], ID_SIZE, "evt_", 12);
		ck_assert_uint_eq(strlen(ids[i]), 4 + 24);
		ck_assert(strncmp(ids[i], "evt_", 4) == 0);
		ck_assert_uint_eq(strspn(ids[i] + 4, "0123456789abcdef"), 24);
	}
	ck_assert(all_distinct(&ids[0][0], MANY_IDS, ID_SIZE));

	id_random_hex(ids[0], ID_SIZE, "", 8);
	ck_assert_uint_eq(strlen(ids[0]), 16);
	/* a buffer too small gets an empty string, never a cut id */
	id_random_hex(small, sizeof(small), "ks_", 8);
	ck_assert_str_eq(small, "");
}
END_TEST

START_TEST(ids_uuid4)
{
	static char ids[MANY_IDS][37];

	for (size_t i = 0; i < MANY_IDS; i++) {
		char *u = ids[i];

		id_uuid4(u);
		ck_assert_uint_eq(strlen(u), 36);
		ck_assert(u[8] == '-' && u[13] == '-' && u[18] == '-' && u[23] == '-');
		for (int j = 0; j < 36; j++)
			if (j != 8 && j != 13 && j != 18 && j != 23)
				ck_assert_msg(strchr("0123456789abcdef", u[j]) && u[j],
				    "%s has a non-hex digit", u);
		ck_assert_int_eq(u[14], '4');                /* version 4 */
		ck_assert(strchr("89ab", u[19]) != NULL);    /* RFC variant */
	}
	ck_assert(all_distinct(&ids[0][0], MANY_IDS, 37));
}
END_TEST

/* Crockford base32 digit value; -1 when not one. */
static int
crockford(char c)
{
	static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	const char *p = strchr(alphabet, c);

	return c && p ? (int)(p - alphabet) : -1;
}

START_TEST(ids_ulid)
{
	static char ids[MANY_IDS][27];
	int64_t before = clock_now_ms(), after;
	char earlier[27], later[27];

	for (size_t i = 0; i < MANY_IDS; i++) {
		id_ulid(ids[i]);
		ck_assert_uint_eq(strlen(ids[i]), 26);
		for (int j = 0; j < 26; j++)
			ck_assert_int_ge(crockford(ids[i][j]), 0);
		/* 128 bits in 130: the first digit is at most 7 */
		ck_assert_int_le(crockford(ids[i][0]), 7);
	}
	after = clock_now_ms();
	ck_assert(all_distinct(&ids[0][0], MANY_IDS, 27));

	/* the first ten digits are the time in ms */
	for (size_t i = 0; i < MANY_IDS; i += 97) {
		int64_t t = 0;

		for (int j = 0; j < 10; j++)
			t = t * 32 + crockford(ids[i][j]);
		ck_assert_int_ge(t, before);
		ck_assert_int_le(t, after);
	}
	/* so ULIDs made later sort later */
	id_ulid(earlier);
	usleep(5 * 1000);
	id_ulid(later);
	ck_assert_int_lt(strcmp(earlier, later), 0);
}
END_TEST

/*
 * request
 */
START_TEST(url_decoding)
{
	char out[64];

	ck_assert_int_eq(url_decode("a%20b+c", 7, out, sizeof(out), 1), 5);
	ck_assert_str_eq(out, "a b c");
	ck_assert_int_ge(url_decode("a+b", 3, out, sizeof(out), 0), 0);
	ck_assert_str_eq(out, "a+b");
	ck_assert_int_ge(url_decode("%41%7a%2F%c3%A9", 15, out, sizeof(out), 0), 0);
	ck_assert_str_eq(out, "Az/\xc3\xa9");
	/* len bounds the input: the rest is not read */
	ck_assert_int_eq(url_decode("abc%zz", 3, out, sizeof(out), 1), 3);
	ck_assert_str_eq(out, "abc");
	ck_assert_int_eq(url_decode("", 0, out, sizeof(out), 1), 0);
	ck_assert_str_eq(out, "");
	ck_assert_int_lt(url_decode("%zz", 3, out, sizeof(out), 1), 0);
	ck_assert_int_lt(url_decode("%4", 2, out, sizeof(out), 1), 0);
	ck_assert_int_lt(url_decode("a%", 2, out, sizeof(out), 1), 0);
	/* an escape cut by len is malformed even if more bytes follow */
	ck_assert_int_lt(url_decode("a%41", 3, out, sizeof(out), 1), 0);
	ck_assert_int_lt(url_decode("a%41", 2, out, sizeof(out), 1), 0);
	ck_assert_int_lt(url_decode("a%00b", 5, out, sizeof(out), 1), 0);
	/* output that does not fit (with its NUL) is refused */
	ck_assert_int_lt(url_decode("abcdef", 6, out, 4, 1), 0);
	ck_assert_int_lt(url_decode("abcd", 4, out, 4, 1), 0);
	ck_assert_int_eq(url_decode("abc", 3, out, 4, 1), 3);
}
END_TEST

START_TEST(query_parameters)
{
	char buf[64];

	ck_assert_int_eq(query_get("target_type=agent&target_id=rogue%2Dbot", "target_id",
	    buf, sizeof(buf)), 1);
	ck_assert_str_eq(buf, "rogue-bot");
	ck_assert_int_eq(query_get("target_type=agent&target_id=rogue%2Dbot", "target_type",
	    buf, sizeof(buf)), 1);
	ck_assert_str_eq(buf, "agent");
	/* a name is matched whole, not as a prefix */
	ck_assert_int_eq(query_get("target_idx=1", "target_id", buf, sizeof(buf)), 0);
	ck_assert_int_eq(query_get("xtarget_id=1", "target_id", buf, sizeof(buf)), 0);
	ck_assert_int_eq(query_get("", "x", buf, sizeof(buf)), 0);
	/* the first value wins; '+' is a space in a query */
	ck_assert_int_eq(query_get("q=a+b&q=c", "q", buf, sizeof(buf)), 1);
	ck_assert_str_eq(buf, "a b");
	/* present but empty */
	ck_assert_int_eq(query_get("a=1&flag&b=2", "flag", buf, sizeof(buf)), 1);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(query_get("flag=", "flag", buf, sizeof(buf)), 1);
	ck_assert_str_eq(buf, "");
	/* malformed or too long */
	ck_assert_int_lt(query_get("q=%zz", "q", buf, sizeof(buf)), 0);
	ck_assert_int_lt(query_get("q=%00", "q", buf, sizeof(buf)), 0);
	ck_assert_int_lt(query_get("q=0123456789", "q", buf, 8), 0);
}
END_TEST

START_TEST(query_numbers)
{
	static const char *const bad[] = {
		"limit=0", "limit=1001", "limit=abc", "limit=10x", "limit=+5",
		"limit=-5", "limit= 5", "limit=5%20", "limit=0x10", "limit=1e2",
		"limit=99999999999999999999", "limit=%zz", "limit=-",
	};
	struct problem p;
	long v;

	ck_assert_int_eq(query_long("limit=50", "limit", 100, 1, 1000, &v, &p), 0);
	ck_assert_int_eq(v, 50);
	ck_assert_int_eq(query_long("limit=1000", "limit", 100, 1, 1000, &v, &p), 0);
	ck_assert_int_eq(v, 1000);
	ck_assert_int_eq(query_long("a=b&limit=1", "limit", 100, 1, 1000, &v, &p), 0);
	ck_assert_int_eq(v, 1);
	/* absent or empty: the default */
	ck_assert_int_eq(query_long("skip=0", "limit", 100, 1, 1000, &v, &p), 0);
	ck_assert_int_eq(v, 100);
	ck_assert_int_eq(query_long("limit=", "limit", 100, 1, 1000, &v, &p), 0);
	ck_assert_int_eq(v, 100);
	/* negative numbers where the range allows them */
	ck_assert_int_eq(query_long("after=-7", "after", 0, -10, 10, &v, &p), 0);
	ck_assert_int_eq(v, -7);

	for (size_t i = 0; i < NELEM(bad); i++) {
		memset(&p, 0, sizeof(p));
		ck_assert_msg(query_long(bad[i], "limit", 100, 1, 1000, &v, &p) != 0,
		    "accepted %s", bad[i]);
		ck_assert_int_eq(p.status, 400);
		ck_assert_str_eq(p.code, "invalid_query");
		ck_assert_str_eq(p.field, "limit");
		ck_assert(strstr(p.detail, "1 to 1000") != NULL);
	}
}
END_TEST

/* request_parse reads FastCGI parameters: "NAME=value" strings. */
START_TEST(request_from_parameters)
{
	char *env[] = {
		"REQUEST_METHOD=POST",
		"REQUEST_URI=/v1/things/a%20b?limit=5&x=%41",
		"HTTP_AUTHORIZATION=Bearer  andon_secret \t",
		"HTTP_X_TENANT_ID=org_a",
		"HTTP_IDEMPOTENCY_KEY=k-1",
		"CONTENT_TYPE=application/json",
		"CONTENT_LENGTH=12",
		NULL,
	};
	char *cgi_env[] = {
		"SCRIPT_NAME=/cgi-bin/killswitch.cgi",
		"PATH_INFO=/v1/status",
		"QUERY_STRING=a=1",
		"HTTP_X_API_KEY=andon_direct",
		"HTTP_AUTHORIZATION=Bearer ignored",
		"CONTENT_LENGTH=12x",
		NULL,
	};
	char *bad_env[] = { "REQUEST_URI=/v1/%zz", NULL };
	char *relative_env[] = { "REQUEST_URI=v1/x", NULL };
	char *basic_env[] = { "REQUEST_URI=/", "HTTP_AUTHORIZATION=Basic abc", NULL };
	char *odd_env[] = {
		"REQUEST_URI=/first", "REQUEST_URI=/second",
		"HTTP_X_TENANT_ID_EXTRA=org_x", "HTTP_X_TENANT_ID",
		"HTTP_X_REQUEST_ID=", "REQUEST_METHOD=GET",
		"REQUEST_METHOD=POST", NULL,
	};
	struct request_io io = { NULL, NULL, env };
	static struct request r;
	struct problem p;

	ck_assert_int_eq(request_parse(&r, &io, &p), 0);
	ck_assert_str_eq(r.method, "POST");
	ck_assert_str_eq(r.path, "/v1/things/a b");
	ck_assert_str_eq(r.query, "limit=5&x=%41");
	ck_assert_str_eq(r.api_key, "andon_secret");
	ck_assert_str_eq(r.tenant_header, "org_a");
	ck_assert_str_eq(r.idempotency_key, "k-1");
	ck_assert_str_eq(r.content_type, "application/json");
	ck_assert_int_eq(r.content_length, 12);
	ck_assert_ptr_null(r.request_id_header);

	/* plain CGI: path rebuilt from SCRIPT_NAME + PATH_INFO; X-API-Key
	 * and a different Bearer conflict; a malformed length is never
	 * "small" */
	io.envp = cgi_env;
	ck_assert_int_eq(request_parse(&r, &io, &p), 0);
	ck_assert_str_eq(r.method, "GET");
	ck_assert_str_eq(r.path, "/cgi-bin/killswitch.cgi/v1/status");
	ck_assert_str_eq(r.query, "a=1");
	ck_assert_str_eq(r.api_key, "andon_direct");
	ck_assert_int_eq(r.credential_conflict, 1);
	ck_assert_int_gt(r.content_length, 1L << 30);

	io.envp = bad_env;
	ck_assert_int_ne(request_parse(&r, &io, &p), 0);
	ck_assert_int_eq(p.status, 400);
	io.envp = relative_env;
	ck_assert_int_ne(request_parse(&r, &io, &p), 0);
	ck_assert_int_eq(p.status, 400);
	io.envp = basic_env;
	ck_assert_int_eq(request_parse(&r, &io, &p), 0);
	ck_assert(r.api_key == NULL || r.api_key[0] == '\0');
	ck_assert_int_eq(r.content_length, -1);

	/* the first of a repeated name wins; a longer name sharing the
	 * prefix, or an entry without '=', is not the parameter */
	io.envp = odd_env;
	ck_assert_int_eq(request_parse(&r, &io, &p), 0);
	ck_assert_str_eq(r.path, "/first");
	ck_assert_ptr_null(r.tenant_header);
	ck_assert_str_eq(r.request_id_header, "");
	ck_assert_str_eq(r.method, "GET");
}
END_TEST

/* One credential per request, whatever the headers that carry it. */
START_TEST(request_credentials)
{
	static const struct {
		const char *env[4];
		const char *api_key;    /* NULL: none */
		int conflict;
	} cases[] = {
		{ { "HTTP_X_API_KEY=k1" }, "k1", 0 },
		{ { "HTTP_AUTHORIZATION=bearer\tk1 " }, "k1", 0 },
		{ { "HTTP_X_TORK_API_KEY= k1" }, "k1", 0 },
		{ { "HTTP_X_API_KEY=k1", "HTTP_AUTHORIZATION=Bearer k2" }, "k1", 1 },
		{ { "HTTP_AUTHORIZATION=Bearer k2", "HTTP_X_TORK_API_KEY=k1" }, "k2", 1 },
		{ { "HTTP_X_API_KEY=k1", "HTTP_X_TORK_API_KEY=k3" }, "k1", 1 },
		/* the same key twice is one credential */
		{ { "HTTP_X_API_KEY=k1", "HTTP_AUTHORIZATION=Bearer k1",
		    "HTTP_X_TORK_API_KEY=k1" }, "k1", 0 },
		/* a repeated header, joined by the server */
		{ { "HTTP_X_API_KEY=k1, k2" }, "k1", 1 },
		{ { "HTTP_X_API_KEY=k1, k1" }, "k1", 0 },
		{ { "HTTP_AUTHORIZATION=Bearer k1, Bearer k2" }, "k1", 1 },
		{ { "HTTP_X_API_KEY=,k1," }, "k1", 0 },
		/* other schemes are not a key, nor their parameters */
		{ { "HTTP_AUTHORIZATION=Basic Zm9v", "HTTP_X_API_KEY=k1" }, "k1", 0 },
		{ { "HTTP_AUTHORIZATION=Digest username=\"a\", nonce=\"b\"" }, NULL, 0 },
		{ { "HTTP_AUTHORIZATION=Bearer " }, NULL, 0 },
		{ { "HTTP_X_API_KEY=" }, NULL, 0 },
		/* lighttpd: "X_API_KEY" arrives as a second HTTP_X_API_KEY */
		{ { "HTTP_X_API_KEY=k1", "HTTP_X_API_KEY=k2" }, "k1", 1 },
		{ { "HTTP_X_API_KEY=k1", "HTTP_X_API_KEY=k1" }, "k1", 0 },
		/* ... and alone, with its conf saying X-API-Key was not sent */
		{ { "HTTP_X_API_KEY=k1",
		    "ANDON_ABSENT_HEADERS=X-API-Key X-Tork-API-Key" }, NULL, 0 },
		{ { "ANDON_ABSENT_HEADERS=x-api-key", "HTTP_X_API_KEY=k1",
		    "HTTP_X_API_KEY=k2" }, NULL, 0 },
		{ { "HTTP_X_API_KEY=k1", "HTTP_X_TORK_API_KEY=k2",
		    "ANDON_ABSENT_HEADERS=X-API-Key" }, "k2", 0 },
		{ { "HTTP_X_TORK_API_KEY=k2", "ANDON_ABSENT_HEADERS=X-Tork-API-Key",
		    "HTTP_X_API_KEY=k1" }, "k1", 0 },
	};
	static struct request r;
	struct problem p;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *env[6] = { "REQUEST_URI=/" };
		struct request_io io = { NULL, NULL, env };

		for (int j = 0; j < 4 && cases[i].env[j]; j++)
			env[j + 1] = (char *)cases[i].env[j];
		ck_assert_int_eq(request_parse(&r, &io, &p), 0);
		if (cases[i].api_key == NULL)
			ck_assert_msg(r.api_key == NULL, "case %zu: %s", i, r.api_key);
		else
			ck_assert_msg(r.api_key && !strcmp(r.api_key, cases[i].api_key),
			    "case %zu: %s", i, r.api_key ? r.api_key : "(null)");
		ck_assert_msg(r.credential_conflict == cases[i].conflict,
		    "case %zu: conflict %d", i, r.credential_conflict);
	}
}
END_TEST

START_TEST(response_head_and_body)
{
	struct response resp;
	char *text, *big_value;
	size_t len;

	response_init(&resp);
	response_json(&resp, 201, json_pack("{s:s, s:i}", "id", "ks_1", "n", 7));
	response_header(&resp, "Location", "/v1/x/ks_1");
	response_header(&resp, "X-Bad", "a\r\nInjected: 1");
	text = response_serialise(&resp, "req_1", 0, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(len, strlen(text));
	ck_assert_str_eq(text,
	    "Status: 201 Created\r\n"
	    "Content-Length: 19\r\n"
	    "X-Request-Id: req_1\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Content-Type: application/json\r\n"
	    "Location: /v1/x/ks_1\r\n"
	    "\r\n"
	    "{\"id\":\"ks_1\",\"n\":7}");
	free(text);
	/* HEAD: the length of the body, no body */
	text = response_serialise(&resp, "req_2", 1, &len);
	ck_assert_ptr_nonnull(strstr(text, "Content-Length: 19\r\n"));
	ck_assert_str_eq(text + len - 4, "\r\n\r\n");
	free(text);
	response_reset(&resp);

	/* a body bigger than the stack buffer is dumped whole */
	big_value = malloc(20001);
	memset(big_value, 'v', 20000);
	big_value[20000] = '\0';
	response_json(&resp, 200, json_pack("{s:s}", "v", big_value));
	text = response_serialise(&resp, "req_3", 0, &len);
	ck_assert_ptr_nonnull(strstr(text, "Content-Length: 20008\r\n"));
	ck_assert_uint_eq(strlen(strstr(text, "\r\n\r\n") + 4), 20008);
	free(text);
	free(big_value);
	response_reset(&resp);

	/* 204: no body, no type */
	resp.status = 204;
	text = response_serialise(&resp, "req_4", 0, &len);
	ck_assert_ptr_nonnull(strstr(text, "Status: 204 No Content\r\nContent-Length: 0\r\n"));
	ck_assert_ptr_null(strstr(text, "\nContent-Type:"));
	free(text);
}
END_TEST

struct fake_body {
	const char *data;
	size_t len, pos, chunk;
};

static long
fake_read(void *ctx, char *buf, size_t len)
{
	struct fake_body *f = ctx;
	size_t n = f->len - f->pos;

	if (n > len)
		n = len;
	if (n > f->chunk)
		n = f->chunk;
	memcpy(buf, f->data + f->pos, n);
	f->pos += n;
	return (long)n;
}

static int
read_body(const char *data, long content_length, size_t max_body,
          struct problem *p, struct request *r)
{
	static struct fake_body f;

	memset(r, 0, sizeof(*r));
	f.data = data;
	f.len = strlen(data);
	f.pos = 0;
	f.chunk = 3;
	r->io.ctx = &f;
	r->io.read = fake_read;
	r->content_length = content_length;
	return request_read_body(r, max_body, p);
}

START_TEST(body_limits)
{
	static struct request r;
	static char big[20000];
	struct problem p;

	ck_assert_int_eq(read_body("{\"a\":1}", 7, 16, &p, &r), 0);
	ck_assert_uint_eq(r.body_len, 7);
	ck_assert_str_eq(r.body, "{\"a\":1}");
	request_free(&r);

	/* declared over the limit: refused before reading */
	ck_assert_int_ne(read_body("0123456789abcdefX", 17, 16, &p, &r), 0);
	ck_assert_int_eq(p.status, 413);
	ck_assert_str_eq(p.code, "body_too_large");
	request_free(&r);

	/* exactly the limit is accepted */
	ck_assert_int_eq(read_body("0123456789abcdef", 16, 16, &p, &r), 0);
	request_free(&r);

	/* Content-Length bounds what is read */
	ck_assert_int_eq(read_body("abcdefgh", 4, 16, &p, &r), 0);
	ck_assert_str_eq(r.body, "abcd");
	request_free(&r);

	/* Content-Length: 0 reads nothing */
	ck_assert_int_eq(read_body("ignored", 0, 16, &p, &r), 0);
	ck_assert_uint_eq(r.body_len, 0);
	request_free(&r);

	/* no Content-Length (chunked): counted while reading */
	ck_assert_int_ne(read_body("0123456789abcdefX0123456789", -1, 16, &p, &r), 0);
	ck_assert_int_eq(p.status, 413);
	request_free(&r);
	ck_assert_int_eq(read_body("short", -1, 16, &p, &r), 0);
	ck_assert_str_eq(r.body, "short");
	request_free(&r);

	/* chunked bodies larger than the first buffer grow it */
	memset(big, 'x', sizeof(big) - 1);
	ck_assert_int_eq(read_body(big, -1, 65536, &p, &r), 0);
	ck_assert_uint_eq(r.body_len, sizeof(big) - 1);
	request_free(&r);
	ck_assert_int_ne(read_body(big, -1, 10000, &p, &r), 0);
	ck_assert_int_eq(p.status, 413);
	request_free(&r);
}
END_TEST

/*
 * validate
 */
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

/*
 * router
 */
static int dummy(struct ctx *c) { (void)c; return 0; }

static const struct route test_routes[] = {
	{ "POST", "/v1/things", dummy, 0, 0, NULL },
	{ "GET", "/v1/things", dummy, 0, 0, NULL },
	{ "GET", "/v1/things/{id}", dummy, 0, 0, NULL },
	{ "DELETE", "/v1/things/{id}", dummy, 0, 0, NULL },
	{ "POST", "/v1/things/{id}/parts/{part}", dummy, 0, 0, NULL },
	{ "GET", "/v1/things/special", dummy, 0, 0, NULL },
};

static const char *params[REQUEST_MAX_PARAMS];
static char parambuf[256], allow[128];

static enum route_match
route(const char *method, const char *path, const struct route **found)
{
	enum route_match m = router_find(test_routes, NELEM(test_routes), method,
	    path, found, params, REQUEST_MAX_PARAMS, parambuf, sizeof(parambuf));

	/* what an OPTIONS or 405 answer would list */
	router_allow(test_routes, NELEM(test_routes), path, allow, sizeof(allow));
	ck_assert_int_eq(allow[0] != '\0', m != ROUTE_NO_PATH);
	return m;
}

START_TEST(routing_matches_patterns)
{
	const struct route *found;

	ck_assert_int_eq(route("GET", "/v1/things/abc", &found), ROUTE_FOUND);
	ck_assert_ptr_eq(found, &test_routes[2]);
	ck_assert_str_eq(params[0], "abc");
	ck_assert_int_eq(route("DELETE", "/v1/things/abc", &found), ROUTE_FOUND);
	ck_assert_ptr_eq(found, &test_routes[3]);
	ck_assert_int_eq(route("POST", "/v1/things/a/parts/b", &found), ROUTE_FOUND);
	ck_assert_ptr_eq(found, &test_routes[4]);
	ck_assert_str_eq(params[0], "a");
	ck_assert_str_eq(params[1], "b");
	ck_assert_int_eq(route("POST", "/v1/things", &found), ROUTE_FOUND);
	ck_assert_ptr_eq(found, &test_routes[0]);
	/* HEAD is served by the GET route */
	ck_assert_int_eq(route("HEAD", "/v1/things/abc", &found), ROUTE_FOUND);
	ck_assert_ptr_eq(found, &test_routes[2]);
	/* the first matching row wins: {id} before the literal segment */
	ck_assert_int_eq(route("GET", "/v1/things/special", &found), ROUTE_FOUND);
	ck_assert_ptr_eq(found, &test_routes[2]);
	/* one trailing slash is tolerated */
	ck_assert_int_eq(route("GET", "/v1/things/", &found), ROUTE_FOUND);
	ck_assert_ptr_eq(found, &test_routes[1]);
	ck_assert_int_eq(route("GET", "/v1/things/abc/", &found), ROUTE_FOUND);
	ck_assert_str_eq(params[0], "abc");
}
END_TEST

START_TEST(routing_404_and_405)
{
	static const char *const unknown[] = {
		"/v1/thing", "/v1/thingsx", "/v1/things/a/b", "/v1/things//parts/x",
		"/v1/things/a/parts", "/v1/things/a/parts/b/c", "/", "",
		"/v1/things//", "v1/things", "/V1/things",
	};
	const struct route *found;

	for (size_t i = 0; i < NELEM(unknown); i++) {
		ck_assert_msg(route("GET", unknown[i], &found) == ROUTE_NO_PATH,
		    "%s matched", unknown[i]);
		ck_assert_msg(route("POST", unknown[i], &found) == ROUTE_NO_PATH,
		    "%s matched", unknown[i]);
		ck_assert_ptr_null(found);
	}
	/* a known path with another method: 405 and the methods it takes */
	ck_assert_int_eq(route("PUT", "/v1/things/abc", &found), ROUTE_NO_METHOD);
	ck_assert_ptr_null(found);
	ck_assert_str_eq(allow, "GET, HEAD, DELETE, OPTIONS");
	ck_assert_int_eq(route("DELETE", "/v1/things", &found), ROUTE_NO_METHOD);
	ck_assert_str_eq(allow, "POST, GET, HEAD, OPTIONS");
	ck_assert_int_eq(route("GET", "/v1/things/a/parts/b", &found), ROUTE_NO_METHOD);
	ck_assert_str_eq(allow, "POST, OPTIONS");
	ck_assert_int_eq(route("HEAD", "/v1/things/a/parts/b", &found), ROUTE_NO_METHOD);
	/* methods are case-sensitive */
	ck_assert_int_eq(route("get", "/v1/things", &found), ROUTE_NO_METHOD);
	/* found routes fill Allow too */
	ck_assert_int_eq(route("GET", "/v1/things", &found), ROUTE_FOUND);
	ck_assert_str_eq(allow, "POST, GET, HEAD, OPTIONS");
}
END_TEST

/*
 * scope
 */
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

/*
 * conf
 */
static int
load_conf_text(const char *text, struct conf *c, char *err, size_t errlen)
{
	char path[] = "/tmp/andon-conf.XXXXXX";
	int fd = mkstemp(path), rc;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	err[0] = '\0';
	rc = conf_load(c, path, err, errlen);
	unlink(path);
	return rc;
}

START_TEST(conf_defaults_are_documented)
{
	struct conf c, loaded;
	char err[256];

	memset(&c, 0xa5, sizeof(c));
	conf_defaults(&c);
	ck_assert_str_eq(c.data_dir, ANDON_DATA_DIR);
	ck_assert_int_eq(c.data_dir[0], '/');
	ck_assert_uint_eq(c.max_body, 65536);
	ck_assert_uint_eq(c.argon2_t_cost, 2);
	ck_assert_uint_eq(c.argon2_m_cost_kib, 19456);
	ck_assert_uint_eq(c.argon2_parallelism, 1);
	ck_assert_uint_eq(c.rate_limit_per_minute, 30);
	ck_assert_uint_eq(c.rate_limit_burst, 30);
	ck_assert_uint_eq(c.check_rate_limit_per_minute, 0);
	ck_assert_uint_eq(c.watchdog_seconds, 60);
	ck_assert_int_eq(c.audit_syslog, 0);
	ck_assert_str_eq(c.audit_jsonl, "");
	ck_assert_str_eq(c.audit_syslog_socket, "/dev/log");
	ck_assert_str_eq(c.audit_syslog_ident, "andon");
	ck_assert_int_eq(c.audit_syslog_facility, 16);

	ck_assert_str_eq(c.key_pepper_file, "");
	/* an empty file gives the defaults, and the pepper beside the conf */
	snprintf(c.key_pepper_file, sizeof(c.key_pepper_file), "/tmp/andon.pepper");
	unsetenv("ANDON_DATA");
	ck_assert_int_eq(load_conf_text("", &loaded, err, sizeof(err)), 0);
	ck_assert_mem_eq(&loaded, &c, sizeof(c));
	ck_assert_int_eq(load_conf_text("# only a comment\n\n   \n", &loaded, err,
	    sizeof(err)), 0);
	ck_assert_mem_eq(&loaded, &c, sizeof(c));
}
END_TEST

START_TEST(conf_file)
{
	struct conf c;
	char err[256];

	unsetenv("ANDON_DATA");
	ck_assert_int_eq(load_conf_text("# comment\nmax_body = 1024\n\nargon2_t_cost=3\n"
	    "audit_jsonl = /tmp/x.jsonl\n  rate_limit_burst\t=\t7  # trailing comment\n"
	    "audit_syslog = yes\ndata_dir = /var/lib/andon\n", &c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.max_body, 1024);
	ck_assert_uint_eq(c.argon2_t_cost, 3);
	ck_assert_uint_eq(c.rate_limit_burst, 7);
	ck_assert_uint_eq(c.rate_limit_per_minute, 30);   /* untouched default */
	ck_assert_uint_eq(c.tenant_rate_limit_burst, 7);  /* follows the key's */
	ck_assert_uint_eq(c.tenant_rate_limit_per_minute, 30);
	ck_assert_str_eq(c.audit_jsonl, "/tmp/x.jsonl");
	ck_assert_str_eq(c.data_dir, "/var/lib/andon");
	ck_assert_int_eq(c.audit_syslog, 1);
	ck_assert_str_eq(c.key_pepper_file, "/tmp/andon.pepper");
	ck_assert_int_eq(load_conf_text("key_pepper_file = /etc/andon/pepper\n", &c,
	    err, sizeof(err)), 0);
	ck_assert_str_eq(c.key_pepper_file, "/etc/andon/pepper");
	ck_assert_int_eq(load_conf_text("audit_syslog = no\n", &c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.audit_syslog, 0);
	ck_assert_int_eq(load_conf_text("audit_syslog_facility = local7\n"
	    "audit_syslog_ident = andon-prod.1\naudit_syslog_socket = /run/x.sock\n",
	    &c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.audit_syslog_facility, 23);
	ck_assert_str_eq(c.audit_syslog_ident, "andon-prod.1");
	ck_assert_str_eq(c.audit_syslog_socket, "/run/x.sock");
	ck_assert_int_eq(load_conf_text("audit_syslog_facility = daemon\n",
	    &c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.audit_syslog_facility, 3);
	ck_assert_int_eq(load_conf_text("rate_limit_per_minute = 5\n"
	    "tenant_rate_limit_per_minute = 0\ntenant_rate_limit_burst = 90\n",
	    &c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.rate_limit_per_minute, 5);
	ck_assert_uint_eq(c.tenant_rate_limit_per_minute, 0);
	ck_assert_uint_eq(c.tenant_rate_limit_burst, 90);
	/* bounds are inclusive */
	ck_assert_int_eq(load_conf_text("argon2_t_cost = 100\nargon2_t_cost = 1\n",
	    &c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.argon2_t_cost, 1);   /* the last line wins */

	/* ANDON_DATA overrides the file */
	setenv("ANDON_DATA", "/srv/andon", 1);
	ck_assert_int_eq(load_conf_text("data_dir = /var/lib/andon\n", &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.data_dir, "/srv/andon");
	unsetenv("ANDON_DATA");

	setenv("ANDON_CONF", "/etc/andon/andon.conf", 1);
	ck_assert_str_eq(conf_default_path(), "/etc/andon/andon.conf");
	unsetenv("ANDON_CONF");
	ck_assert_str_eq(conf_default_path(), ANDON_CONF_PATH);
	ck_assert_int_eq(ANDON_CONF_PATH[0], '/');

	/* a relative data directory would land wherever a program started */
	ck_assert_int_ne(load_conf_text("data_dir = ./var\n", &c, err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "line 1: data_dir: the data directory must be an "
	    "absolute path") != NULL, "%s", err);
	setenv("ANDON_DATA", "var", 1);
	ck_assert_int_ne(load_conf_text("max_body = 65536\n", &c, err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "ANDON_DATA: ") != NULL, "%s", err);
	unsetenv("ANDON_DATA");
}
END_TEST

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

START_TEST(conf_refuses_bad_lines)
{
	static const struct {
		const char *text;
		const char *in_error;
	} bad[] = {
		{ "max_bodyy = 2048\n", "max_bodyy" },
		{ "# ok\nmax_body = 2048\nnope = 1\n", "line 3" },
		{ "max_body = lots\n", "max_body" },
		{ "max_body = -1\n", "max_body" },
		{ "max_body = 1023\n", "max_body" },          /* under the minimum */
		{ "max_body = 2k\n", "max_body" },
		{ "max_body = 1e4\n", "max_body" },
		{ "max_body = \n", "max_body" },
		{ "max_body = 99999999999999999999999\n", "max_body" },
		{ "argon2_t_cost = 0\n", "argon2_t_cost" },
		{ "argon2_t_cost = 101\n", "argon2_t_cost" },
		{ "argon2_m_cost_kib = 4294967296\n", "argon2_m_cost_kib" },
		{ "rate_limit_burst = 0\n", "rate_limit_burst" },
		{ "checkpoint_minutes = -0\n", "checkpoint_minutes" },
		{ "checkpoint_minutes = 1441\n", "checkpoint_minutes" },
		{ "audit_syslog = maybe\n", "audit_syslog" },
		{ "audit_syslog_facility = local8\n", "audit_syslog_facility" },
		{ "audit_syslog_facility = 16\n", "audit_syslog_facility" },
		{ "audit_syslog_facility = \n", "audit_syslog_facility" },
		{ "audit_syslog_ident = \n", "audit_syslog_ident" },
		{ "audit_syslog_ident = two words\n", "audit_syslog_ident" },
		{ "audit_syslog_ident = caf\xc3\xa9\n", "audit_syslog_ident" },
		{ "audit_syslog_ident = "
		  "a23456789012345678901234567890123456789012345678X\n", "audit_syslog_ident" },
		{ "max_body\n", "line 1" },
		{ "= 5\n", "line 1" },
		{ "MAX_BODY = 2048\n", "MAX_BODY" },
	};
	struct conf c;
	char err[256];

	unsetenv("ANDON_DATA");
	for (size_t i = 0; i < NELEM(bad); i++) {
		ck_assert_msg(load_conf_text(bad[i].text, &c, err, sizeof(err)) != 0,
		    "accepted %s", bad[i].text);
		ck_assert_msg(strstr(err, bad[i].in_error) != NULL,
		    "error for '%s' is '%s'", bad[i].text, err);
	}
	ck_assert_int_ne(conf_load(&c, "/nonexistent/andon.conf", err, sizeof(err)), 0);
	ck_assert(strstr(err, "/nonexistent/andon.conf") != NULL);
}
END_TEST

/*
 * store
 */
struct seen {
	char text[64];
	int stop_after;   /* 0: never */
	int calls;
};

/* Records the last character of each key. */
static int
collect(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct seen *s = arg;
	size_t n = strlen(s->text);

	(void)val;
	(void)vlen;
	if (n + 1 < sizeof(s->text)) {
		s->text[n] = ((const char *)key)[klen - 1];
		s->text[n + 1] = '\0';
	}
	s->calls++;
	return s->stop_after && s->calls >= s->stop_after ? 1 : 0;
}

static int
failing_scan(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	(void)arg; (void)key; (void)klen; (void)val; (void)vlen;
	return -42;
}

/* tenant-a's keys sit between neighbours on both sides in key order. */
static int
put_tenants(DB_TXN *txn, void *arg)
{
	static const char *const rows[][2] = {
		{ "tenant-", "0" }, { "tenant-a", "1" }, { "tenant-a", "2" },
		{ "tenant-a", "3" }, { "tenant-ab", "9" }, { "tenant-b", "8" },
		{ "tenant-a\x1e", "7" },
	};
	int rc;

	(void)arg;
	for (size_t i = 0; i < NELEM(rows); i++) {
		char key[64];

		/* "tenant-a\x1e" holds no separator: build it by hand */
		snprintf(key, sizeof(key), "%s%c%s", rows[i][0], KEY_SEP, rows[i][1]);
		if ((rc = store_put(txn, T_META, key, strlen(key), "x", 1, 0)) != 0)
			return rc;
	}
	/* a key equal to the bare tenant name, no separator */
	return store_put(txn, T_META, "tenant-a", 8, "x", 1, 0);
}

static const char *
scan_text(const char *tenant, int reverse, int stop_after)
{
	static struct seen s;
	char prefix[64];
	int len = store_key(prefix, sizeof(prefix), tenant, "", NULL);

	memset(&s, 0, sizeof(s));
	s.stop_after = stop_after;
	ck_assert_int_eq(store_scan(NULL, T_META, prefix, (size_t)len, reverse, collect, &s), 0);
	return s.text;
}

/* A missing data directory is an error that names it; nothing is made. */
START_TEST(store_never_makes_the_data_dir)
{
	char dir[] = "/tmp/andon-unit.XXXXXX", missing[64], file[64], err[512];
	struct stat st;
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(missing, sizeof(missing), "%s/missing", dir);
	ck_assert_int_ne(store_open(missing, 8, err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, missing) && strstr(err, "No such file or directory") &&
	    strstr(err, "andonctl init creates it"), "%s", err);
	ck_assert_int_ne(stat(missing, &st), 0);

	snprintf(file, sizeof(file), "%s/file", dir);
	ck_assert_int_ge(fd = open(file, O_CREAT | O_WRONLY, 0600), 0);
	close(fd);
	ck_assert_int_ne(store_open(file, 8, err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "is not a directory") != NULL, "%s", err);
	unlink(file);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

START_TEST(store_keys)
{
	char key[64];
	unsigned char be[8];
	int len;

	len = store_key(key, sizeof(key), "a", "b", "c", NULL);
	ck_assert_int_eq(len, 5);
	ck_assert_mem_eq(key, "a\x1f" "b\x1f" "c", 6);
	ck_assert_int_eq(store_key(key, sizeof(key), "solo", NULL), 4);
	ck_assert_str_eq(key, "solo");
	ck_assert_int_eq(store_key(key, sizeof(key), "t", "", NULL), 2);
	ck_assert_mem_eq(key, "t\x1f", 3);
	/* too long for the buffer, or a part holding the separator */
	ck_assert_int_lt(store_key(key, 4, "abc", "def", NULL), 0);
	ck_assert_int_lt(store_key(key, sizeof(key), "a\x1f" "b", "c", NULL), 0);
	ck_assert_int_lt(store_key(key, sizeof(key), "a", "\x1f", NULL), 0);

	/* big-endian sequence numbers sort as numbers */
	store_u64_be(be, 0x0102030405060708ULL);
	ck_assert_mem_eq(be, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	ck_assert_uint_eq(store_be_u64(be), 0x0102030405060708ULL);
	for (uint64_t a = 1; a < (1ULL << 40); a = a * 3 + 1) {
		unsigned char x[8], y[8];

		store_u64_be(x, a);
		store_u64_be(y, a + 1);
		ck_assert_int_lt(memcmp(x, y, 8), 0);
	}
}
END_TEST

static int
put_two(DB_TXN *txn, void *arg)
{
	int rc;

	(void)arg;
	if ((rc = store_put(txn, T_META, "k1", 2, "value one", 9, 0)) != 0)
		return rc;
	return store_put(txn, T_META, "k2", 2, "v2", 2, 0);
}

static int
put_then_rollback(DB_TXN *txn, void *arg)
{
	int rc = store_put(txn, T_META, "gone", 4, "x", 1, 0);

	return rc != 0 ? rc : *(int *)arg;
}

START_TEST(store_put_get_and_transactions)
{
	void *val;
	size_t vlen;
	json_t *j;
	uint64_t count;
	int outcome;

	ck_assert_int_eq(store_get(NULL, T_META, "k1", 2, &val, &vlen, 0), DB_NOTFOUND);
	ck_assert_int_eq(store_run(put_two, NULL), 0);
	ck_assert_int_eq(store_get(NULL, T_META, "k1", 2, &val, &vlen, 0), 0);
	ck_assert_uint_eq(vlen, 9);
	ck_assert_mem_eq(val, "value one", 9);
	free(val);
	ck_assert_int_eq(store_exists(NULL, T_META, "k2", 2), 0);
	ck_assert_int_eq(store_exists(NULL, T_META, "k3", 2), DB_NOTFOUND);
	/* tables are separate */
	ck_assert_int_eq(store_exists(NULL, T_TENANTS, "k1", 2), DB_NOTFOUND);
	ck_assert_int_eq(store_count(T_META, &count), 0);
	ck_assert_uint_eq(count, 2);

	/* overwrite, refuse to overwrite, delete */
	ck_assert_int_eq(store_put(NULL, T_META, "k1", 2, "new", 3, 0), 0);
	ck_assert_int_eq(store_put(NULL, T_META, "k1", 2, "newer", 5, DB_NOOVERWRITE),
	    DB_KEYEXIST);
	ck_assert_int_eq(store_get(NULL, T_META, "k1", 2, &val, &vlen, 0), 0);
	ck_assert_mem_eq(val, "new", 3);
	ck_assert_uint_eq(vlen, 3);
	free(val);
	ck_assert_int_eq(store_del(NULL, T_META, "k1", 2), 0);
	ck_assert_int_eq(store_exists(NULL, T_META, "k1", 2), DB_NOTFOUND);

	/* JSON records */
	j = json_pack("{s:s, s:i}", "name", "x", "n", 3);
	ck_assert_int_eq(store_put_json(NULL, T_TENANTS, "org_a", j, 0), 0);
	json_decref(j);
	ck_assert_int_eq(store_get_json(NULL, T_TENANTS, "org_a", &j, 0), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "n")), 3);
	json_decref(j);

	/* store_run: STORE_ROLLBACK aborts quietly, an error aborts loudly */
	outcome = STORE_ROLLBACK;
	ck_assert_int_eq(store_run(put_then_rollback, &outcome), 0);
	ck_assert_int_eq(store_exists(NULL, T_META, "gone", 4), DB_NOTFOUND);
	outcome = EINVAL;
	ck_assert_int_eq(store_run(put_then_rollback, &outcome), EINVAL);
	ck_assert_int_eq(store_exists(NULL, T_META, "gone", 4), DB_NOTFOUND);
	outcome = 0;
	ck_assert_int_eq(store_run(put_then_rollback, &outcome), 0);
	ck_assert_int_eq(store_exists(NULL, T_META, "gone", 4), 0);
}
END_TEST

START_TEST(store_survives_reopen)
{
	char err[256];
	void *val;
	size_t vlen;

	ck_assert_int_eq(store_run(put_two, NULL), 0);
	store_close();
	ck_assert_msg(store_open(data_dir, 8, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(store_get(NULL, T_META, "k2", 2, &val, &vlen, 0), 0);
	ck_assert_mem_eq(val, "v2", 2);
	free(val);
}
END_TEST

/*
 * Every write transaction takes the audit head's lock first, so a second
 * writer queues on it (here: a transaction that may not wait is refused
 * it) until the first commits; the commit returns with the log on disk.
 */
START_TEST(store_writers_queue_on_one_lock)
{
	DB_ENV *env = store_env();
	DB_LOG_STAT *ls;
	DB_TXN *first, *second;
	void *val;
	size_t vlen;
	int rc;

	ck_assert_int_eq(store_begin_write(&first), 0);
	ck_assert_int_eq(store_put(first, T_TENANTS, "org_q", 5, "{}", 2, 0), 0);
	/* another table, another page: not the queue */
	ck_assert_int_eq(env->txn_begin(env, NULL, &second, DB_TXN_NOWAIT), 0);
	ck_assert_int_eq(store_put(second, T_APIKEYS, "k", 1, "{}", 2, 0), 0);
	rc = store_get(second, T_META, STORE_AUDIT_HEAD, strlen(STORE_AUDIT_HEAD),
	    &val, &vlen, DB_RMW);
	ck_assert_msg(rc == DB_LOCK_DEADLOCK || rc == DB_LOCK_NOTGRANTED,
	    "the second writer was not queued: %s", db_strerror(rc));
	store_abort(second);
	ck_assert_int_eq(store_commit(first), 0);
	ck_assert_int_eq(env->log_stat(env, &ls, 0), 0);
	ck_assert_uint_eq(ls->st_disk_file, ls->st_cur_file);
	ck_assert_uint_eq(ls->st_disk_offset, ls->st_cur_offset);
	free(ls);
	/* free again: the next writer gets it at once */
	ck_assert_int_eq(env->txn_begin(env, NULL, &second, DB_TXN_NOWAIT), 0);
	rc = store_get(second, T_META, STORE_AUDIT_HEAD, strlen(STORE_AUDIT_HEAD),
	    &val, &vlen, DB_RMW);
	ck_assert_int_eq(rc, DB_NOTFOUND);
	store_abort(second);
	ck_assert_int_eq(store_exists(NULL, T_TENANTS, "org_q", 5), 0);
}
END_TEST

START_TEST(store_scans_stay_in_their_prefix)
{
	struct seen s;

	ck_assert_int_eq(store_run(put_tenants, NULL), 0);
	ck_assert_str_eq(scan_text("tenant-a", 0, 0), "123");
	ck_assert_str_eq(scan_text("tenant-a", 1, 0), "321");
	ck_assert_str_eq(scan_text("tenant-ab", 0, 0), "9");
	ck_assert_str_eq(scan_text("tenant-ab", 1, 0), "9");
	/* the last prefix in the table, and one with no key at all */
	ck_assert_str_eq(scan_text("tenant-b", 1, 0), "8");
	ck_assert_str_eq(scan_text("tenant-c", 0, 0), "");
	ck_assert_str_eq(scan_text("tenant-c", 1, 0), "");
	ck_assert_str_eq(scan_text("a-tenant", 1, 0), "");
	/* a callback returning 1 stops the walk */
	ck_assert_str_eq(scan_text("tenant-a", 0, 2), "12");
	ck_assert_str_eq(scan_text("tenant-a", 1, 1), "3");
	/* a callback's error is passed back */
	ck_assert_int_eq(store_scan(NULL, T_META, "tenant", 6, 0, failing_scan, NULL), -42);
	/* an empty prefix walks the whole table */
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(store_scan(NULL, T_META, "", 0, 1, collect, &s), 0);
	ck_assert_int_eq(s.calls, 8);
}
END_TEST

/* Reverse scans whose prefix ends in 0xff bytes (no simple successor). */
START_TEST(store_reverse_scan_after_ff)
{
	static const unsigned char pre[] = { 'p', 0xff, 0xff };
	unsigned char key[4];
	struct seen s;

	key[0] = 'p';
	key[1] = 0xff;
	key[2] = 0xff;
	for (unsigned char c = '1'; c <= '3'; c++) {
		key[3] = c;
		ck_assert_int_eq(store_put(NULL, T_META, key, 4, "x", 1, 0), 0);
	}
	ck_assert_int_eq(store_put(NULL, T_META, "q", 1, "x", 1, 0), 0);
	ck_assert_int_eq(store_put(NULL, T_META, "p\xfe" "9", 3, "x", 1, 0), 0);
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(store_scan(NULL, T_META, pre, sizeof(pre), 1, collect, &s), 0);
	ck_assert_str_eq(s.text, "321");
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(store_scan(NULL, T_META, pre, sizeof(pre), 0, collect, &s), 0);
	ck_assert_str_eq(s.text, "123");
}
END_TEST

/*
 * apikey
 */
struct key_job {
	struct conf conf;
	const char *tenant;
	json_t *scopes;
	int64_t expires_ms;
	char secret[APIKEY_TEXT_SIZE];
	char key_id[32];
	json_t *record;
};

static int
create_key_txn(DB_TXN *txn, void *arg)
{
	struct key_job *j = arg;

	json_decref(j->record);
	j->record = NULL;
	return apikey_create(txn, &j->conf, j->tenant, "unit", j->scopes,
	    j->expires_ms, NULL, j->secret, &j->record);
}

struct revoke_job {
	const char *tenant;
	const char *key_id;
};

static int
revoke_key_txn(DB_TXN *txn, void *arg)
{
	struct revoke_job *r = arg;

	return apikey_revoke(txn, r->tenant, r->key_id, NULL);
}

static void
new_key_costing(struct key_job *j, const char *tenant, const char *scopes,
                int64_t expires_ms, unsigned t_cost, unsigned m_cost_kib)
{
	json_error_t err;

	memset(j, 0, sizeof(*j));
	conf_defaults(&j->conf);
	j->conf.argon2_t_cost = t_cost;
	j->conf.argon2_m_cost_kib = m_cost_kib;
	j->conf.argon2_parallelism = 1;
	j->tenant = tenant;
	j->scopes = json_loads(scopes, 0, &err);
	ck_assert_ptr_nonnull(j->scopes);
	j->expires_ms = expires_ms;
	ck_assert_int_eq(store_run(create_key_txn, j), 0);
	json_decref(j->scopes);
	ck_assert_ptr_nonnull(j->record);
	snprintf(j->key_id, sizeof(j->key_id), "%s",
	    json_string_value(json_object_get(j->record, "id")));
	json_decref(j->record);
	j->record = NULL;
}

/* Small Argon2 costs: the tests exercise the logic, not the hardness. */
static void
new_key(struct key_job *j, const char *tenant, const char *scopes, int64_t expires_ms)
{
	new_key_costing(j, tenant, scopes, expires_ms, 1, 64);
}

static int
is_base64url(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!s[i] || !strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789-_", s[i]))
			return 0;
	return 1;
}

START_TEST(apikey_format_and_record)
{
	struct key_job j, k;
	json_t *stored, *pub;
	char prefix[32], *text;
	const char *hash;

	new_key(&j, "org_test", "[\"killswitch:check\",\"audit:read\"]", 0);
	/* andon_<16 hex>_<43 base64url> */
	ck_assert_uint_eq(strlen(j.secret), 6 + 16 + 1 + 43);
	ck_assert(strncmp(j.secret, "andon_", 6) == 0);
	ck_assert_uint_eq(strspn(j.secret + 6, "0123456789abcdef"), 16);
	ck_assert_int_eq(j.secret[22], '_');
	ck_assert(is_base64url(j.secret + 23, 43));
	/* the id is the hex part; the prefix is safe to show */
	ck_assert_uint_eq(strlen(j.key_id), 4 + 16);
	ck_assert(strncmp(j.key_id, "key_", 4) == 0);
	ck_assert_mem_eq(j.key_id + 4, j.secret + 6, 16);

	/* the stored record holds an Argon2id hash, never the secret */
	ck_assert_int_eq(store_get_json(NULL, T_APIKEYS, j.key_id, &stored, 0), 0);
	hash = json_string_value(json_object_get(stored, "hash"));
	ck_assert_ptr_nonnull(hash);
	ck_assert(strncmp(hash, "$argon2id$", 10) == 0);
	ck_assert(strstr(hash, "m=64,t=1,p=1") != NULL);
	text = json_dumps(stored, 0);
	ck_assert_ptr_nonnull(text);
	ck_assert(strstr(text, j.secret + 23) == NULL);
	free(text);
	snprintf(prefix, sizeof(prefix), "%.22s", j.secret);
	ck_assert_str_eq(json_string_value(json_object_get(stored, "prefix")), prefix);
	ck_assert_str_eq(json_string_value(json_object_get(stored, "tenant")), "org_test");
	ck_assert(json_is_null(json_object_get(stored, "revoked_at")));
	pub = apikey_public(stored);
	ck_assert_ptr_null(json_object_get(pub, "hash"));
	ck_assert_str_eq(json_string_value(json_object_get(pub, "id")), j.key_id);
	json_decref(pub);
	json_decref(stored);

	/* two keys never share an id or a secret */
	new_key(&k, "org_test", "[\"killswitch:check\"]", 0);
	ck_assert_str_ne(j.key_id, k.key_id);
	ck_assert_str_ne(j.secret + 23, k.secret + 23);
}
END_TEST

START_TEST(apikey_lifecycle)
{
	struct principal who;
	struct problem p;
	struct key_job j;
	struct revoke_job rv;
	char wrong[APIKEY_TEXT_SIZE];
	unsigned long calls;

	new_key(&j, "org_test", "[\"killswitch:check\",\"agents:read\"]", 0);

	calls = apikey_argon2_calls();
	ck_assert_int_eq(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);
	ck_assert_str_eq(who.tenant, "org_test");
	ck_assert_str_eq(who.key_id, j.key_id);
	ck_assert_str_eq(who.name, "unit");
	ck_assert_uint_eq(who.scopes, SCOPE_KILLSWITCH_CHECK | SCOPE_AGENTS_READ);
	ck_assert_uint_eq(apikey_argon2_calls(), calls + 1);
	/* the second request is served by the cache: no Argon2 */
	ck_assert_int_eq(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);
	ck_assert_uint_eq(apikey_argon2_calls(), calls + 1);

	/* a wrong secret with the right key id is refused, cache or not */
	snprintf(wrong, sizeof(wrong), "%s", j.secret);
	wrong[30] = wrong[30] == 'A' ? 'B' : 'A';
	memset(&p, 0, sizeof(p));
	ck_assert_int_ne(apikey_authenticate(&j.conf, wrong, &who, &p), 0);
	ck_assert_int_eq(p.status, 401);
	ck_assert_str_eq(p.code, "unauthorized");
	/* malformed keys and unknown ids */
	ck_assert_int_ne(apikey_authenticate(&j.conf, "andon_zz", &who, &p), 0);
	ck_assert_int_ne(apikey_authenticate(&j.conf, "", &who, &p), 0);
	ck_assert_int_ne(apikey_authenticate(&j.conf, NULL, &who, &p), 0);
	snprintf(wrong, sizeof(wrong), "%s", j.secret);
	wrong[6] = wrong[6] == '0' ? '1' : '0';   /* another id, same secret */
	ck_assert_int_ne(apikey_authenticate(&j.conf, wrong, &who, &p), 0);
	snprintf(wrong, sizeof(wrong), "%s", j.secret);
	strcat(wrong, "x");                                 /* one char longer */
	ck_assert_int_ne(apikey_authenticate(&j.conf, wrong, &who, &p), 0);
	snprintf(wrong, sizeof(wrong), "%s", j.secret);
	wrong[40] = '=';                                    /* not base64url */
	ck_assert_int_ne(apikey_authenticate(&j.conf, wrong, &who, &p), 0);
	/* the right secret still works after wrong ones */
	ck_assert_int_eq(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);

	/* another tenant cannot revoke it */
	rv.tenant = "org_other";
	rv.key_id = j.key_id;
	ck_assert_int_eq(store_run(revoke_key_txn, &rv), DB_NOTFOUND);
	ck_assert_int_eq(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);

	/* revoked: refused on the very next request although cached */
	rv.tenant = "org_test";
	ck_assert_int_eq(store_run(revoke_key_txn, &rv), 0);
	memset(&p, 0, sizeof(p));
	ck_assert_int_ne(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);
	ck_assert_int_eq(p.status, 401);
	ck_assert(strstr(p.detail, "revoked") != NULL);
	ck_assert_int_ne(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);
	ck_assert_int_eq(store_run(revoke_key_txn, &rv), DB_KEYEXIST);
}
END_TEST

START_TEST(apikey_expiry)
{
	struct principal who;
	struct problem p;
	struct key_job j, past;

	new_key(&j, "org_test", "[\"killswitch:check\"]", clock_now_ms() + 1500);
	ck_assert_int_eq(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);
	ck_assert_int_eq(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);  /* cached */
	usleep(1600 * 1000);
	memset(&p, 0, sizeof(p));
	ck_assert_int_ne(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);
	ck_assert_int_eq(p.status, 401);
	ck_assert(strstr(p.detail, "expired") != NULL);

	/* already expired when created: never accepted */
	new_key(&past, "org_test", "[\"killswitch:check\"]", clock_now_ms() - 1000);
	ck_assert_int_ne(apikey_authenticate(&past.conf, past.secret, &who, &p), 0);
	ck_assert(strstr(p.detail, "expired") != NULL);
}
END_TEST

START_TEST(apikey_cache_follows_the_record)
{
	struct principal who;
	struct problem p;
	struct key_job j;
	json_t *rec;

	new_key(&j, "org_test", "[\"agents:read\"]", 0);
	ck_assert_int_eq(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);
	ck_assert_int_eq(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);  /* cached */
	ck_assert_uint_eq(who.scopes, SCOPE_AGENTS_READ);
	/* the record changes behind the cache's back, to a record of the very
	 * same length: the new scopes apply at once */
	ck_assert_int_eq(store_get_json(NULL, T_APIKEYS, j.key_id, &rec, 0), 0);
	json_object_set_new(rec, "scopes", json_pack("[s]", "agents:kill"));
	ck_assert_int_eq(store_put_json(NULL, T_APIKEYS, j.key_id, rec, 0), 0);
	json_decref(rec);
	ck_assert_int_eq(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);
	ck_assert_uint_eq(who.scopes, SCOPE_AGENTS_KILL);
	/* an expiry set later is honoured at once */
	ck_assert_int_eq(store_get_json(NULL, T_APIKEYS, j.key_id, &rec, 0), 0);
	json_object_set_new(rec, "expires_at", json_string("2020-01-01T00:00:00.000Z"));
	ck_assert_int_eq(store_put_json(NULL, T_APIKEYS, j.key_id, rec, 0), 0);
	json_decref(rec);
	ck_assert_int_ne(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);
	/* a deleted key is gone */
	ck_assert_int_eq(store_del(NULL, T_APIKEYS, j.key_id, strlen(j.key_id)), 0);
	ck_assert_int_ne(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);
}
END_TEST

/* A key checked by the pepper's verifier never runs Argon2, right or wrong. */
START_TEST(apikey_pepper_verifier)
{
	unsigned char bytes[PEPPER_BYTES];
	struct principal who;
	struct problem p;
	struct key_job j;
	char wrong[APIKEY_TEXT_SIZE];
	unsigned long calls;
	json_t *rec, *pub;

	randombytes_buf(bytes, sizeof(bytes));
	pepper_set(bytes);
	new_key(&j, "org_test", "[\"killswitch:check\"]", 0);
	ck_assert_int_eq(store_get_json(NULL, T_APIKEYS, j.key_id, &rec, 0), 0);
	ck_assert(strncmp(json_string_value(json_object_get(rec, "verifier")),
	    pepper_id(), strlen(pepper_id())) == 0);
	pub = apikey_public(rec);
	ck_assert_ptr_null(json_object_get(pub, "verifier"));
	ck_assert_ptr_null(json_object_get(pub, "hash"));
	json_decref(pub);
	json_decref(rec);

	calls = apikey_argon2_calls();
	snprintf(wrong, sizeof(wrong), "%s", j.secret);
	for (int i = 0; i < 200; i++) {
		wrong[30 + i % 20] = "ABCDEFGHIJ"[i % 10];
		memset(&p, 0, sizeof(p));
		ck_assert_int_ne(apikey_authenticate(&j.conf, wrong, &who, &p), 0);
		ck_assert_int_eq(p.status, 401);
		ck_assert_str_eq(p.detail, "the API key is not valid");
	}
	ck_assert_int_eq(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);
	apikey_cache_clear();   /* as a new process (plain CGI) would */
	ck_assert_int_eq(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);
	ck_assert_uint_eq(apikey_argon2_calls(), calls);

	/* another pepper: the verifier is not its own, Argon2 decides, and
	 * the record gains this pepper's verifier */
	randombytes_buf(bytes, sizeof(bytes));
	pepper_set(bytes);
	apikey_cache_clear();
	ck_assert_int_eq(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);
	ck_assert_uint_eq(apikey_argon2_calls(), calls + 1);
	apikey_cache_clear();
	ck_assert_int_eq(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);
	ck_assert_int_ne(apikey_authenticate(&j.conf, wrong, &who, &p), 0);
	ck_assert_uint_eq(apikey_argon2_calls(), calls + 1);
	pepper_set(NULL);
}
END_TEST

/* A record without a verifier: Argon2 within a budget, then 503. */
START_TEST(apikey_argon2_budget)
{
	struct principal who;
	struct problem p;
	struct key_job j;
	char wrong[APIKEY_TEXT_SIZE];
	unsigned long calls;
	int busy = 0, refused = 0;

	pepper_set(NULL);
	/* the shipped cost (~20 ms a run): the budget is a share of time */
	new_key_costing(&j, "org_test", "[\"killswitch:check\"]", 0, 2, 19456);
	calls = apikey_argon2_calls();
	snprintf(wrong, sizeof(wrong), "%s", j.secret);
	for (int i = 0; i < 40; i++) {
		int at = 30 + i % 20;
		char c = "ABCDEFGHIJ"[i % 10];

		/* never the secret's own character there: always a wrong key */
		wrong[at] = c != j.secret[at] ? c : 'Z';
		memset(&p, 0, sizeof(p));
		ck_assert_int_ne(apikey_authenticate(&j.conf, wrong, &who, &p), 0);
		if (p.status == 503) {
			ck_assert_str_eq(p.code, "key_verification_busy");
			busy++;
		} else {
			ck_assert_int_eq(p.status, 401);
			refused++;
		}
	}
	/* a tenth of the loop's time, a burst of 100 ms: a few runs */
	ck_assert_uint_le(apikey_argon2_calls() - calls, 8);
	ck_assert_int_ge(busy, 30);
	ck_assert_int_ge(refused, 1);
	/* the bucket refills with time: the right key is accepted then */
	for (int i = 0; i < 200; i++) {
		memset(&p, 0, sizeof(p));
		if (apikey_authenticate(&j.conf, j.secret, &who, &p) == 0)
			break;
		ck_assert_int_eq(p.status, 503);
		usleep(100 * 1000);
	}
	ck_assert_int_eq(p.status, 0);
	ck_assert_str_eq(who.key_id, j.key_id);
}
END_TEST

/*
 * jcs: RFC 8785's own examples
 */
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
	jcs_is("[9007199254740993, -0, 0.0, 1.0, 100, 1e21, 1e20]",
	    "[9007199254740992,0,0,1,100,1e+21,100000000000000000000]");
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


/*
 * audit
 */
static int
append_events(DB_TXN *txn, void *arg)
{
	int n = *(int *)arg, rc;
	char receipt[64], target[16];
	uint64_t before;

	if ((rc = audit_head(txn, &before, NULL, 0)) != 0)
		return rc;
	for (int i = 0; i < n; i++) {
		char want[TLOG_LEAF_ID_SIZE];

		snprintf(target, sizeof(target), "t-%d", i);
		struct audit_entry e = { i % 2 ? "org_a" : "org_b", "killswitch.activated",
		    NULL, NULL, "agent", target, "unit test", NULL };
		if ((rc = audit_append(txn, &e, receipt, sizeof(receipt))) != 0)
			return rc;
		/* the receipt names the event's leaf: seq - 1 */
		tlog_leaf_id(before + (uint64_t)i, want);
		ck_assert_str_eq(receipt, want);
	}
	return 0;
}

static int
ensure_key(DB_TXN *txn, void *arg)
{
	(void)arg;
	return tlog_ensure_key(txn);
}

static void
append_n(int n)
{
	ck_assert_int_eq(store_run(ensure_key, NULL), 0);
	ck_assert_int_eq(store_run(append_events, &n), 0);
}

static int
append_then_fail(DB_TXN *txn, void *arg)
{
	int n = 1, rc = append_events(txn, &n);

	(void)arg;
	return rc != 0 ? rc : STORE_ROLLBACK;
}

/* Rewrites stored event seq through fn; with rehash its own hash too. */
static void
rewrite_event(uint64_t seq, const char *reason, int rehash)
{
	unsigned char key[8], digest[crypto_hash_sha256_BYTES];
	char hex[65], *text;
	json_t *event;

	ck_assert_int_eq(audit_get(NULL, seq, &event), 0);
	ck_assert(event_hash_ok(event));
	json_object_set_new(event, "reason", json_string(reason));
	ck_assert(!event_hash_ok(event));
	if (rehash) {
		/* a careful forger recomputes the event's own hash */
		json_object_del(event, "hash");
		text = event_canonical(event);
		crypto_hash_sha256(digest, (unsigned char *)text, strlen(text));
		free(text);
		sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
		json_object_set_new(event, "hash", json_string(hex));
		ck_assert(event_hash_ok(event));
	}
	text = event_canonical(event);
	store_u64_be(key, seq);
	ck_assert_int_eq(store_put(NULL, T_AUDIT, key, 8, text, strlen(text), 0), 0);
	free(text);
	json_decref(event);
}

START_TEST(audit_chain_verifies)
{
	uint64_t events, seq;
	char why[256] = "", head[65];
	json_t *e1, *e2;

	append_n(7);
	ck_assert_msg(audit_verify_all(&events, why, sizeof(why)) == 0, "%s", why);
	ck_assert_uint_eq(events, 7);
	append_n(3);
	ck_assert_msg(audit_verify_all(&events, why, sizeof(why)) == 0, "%s", why);
	ck_assert_uint_eq(events, 10);

	/* the chain: each event names its predecessor's hash */
	ck_assert_int_eq(audit_get(NULL, 1, &e1), 0);
	ck_assert_int_eq(audit_get(NULL, 2, &e2), 0);
	ck_assert_str_eq(json_string_value(json_object_get(e1, "prev_hash")),
	    "0000000000000000000000000000000000000000000000000000000000000000");
	ck_assert_str_eq(json_string_value(json_object_get(e2, "prev_hash")),
	    json_string_value(json_object_get(e1, "hash")));
	ck_assert_int_eq(json_integer_value(json_object_get(e2, "seq")), 2);
	ck_assert_str_eq(json_string_value(json_object_get(e2, "tenant")), "org_a");
	ck_assert_str_eq(json_string_value(json_object_get(e2, "reason")), "unit test");
	json_decref(e1);
	json_decref(e2);
	ck_assert_int_eq(audit_head(NULL, &seq, head, sizeof(head)), 0);
	ck_assert_uint_eq(seq, 10);
	ck_assert_int_eq(audit_get(NULL, 10, &e1), 0);
	ck_assert_str_eq(head, json_string_value(json_object_get(e1, "hash")));
	json_decref(e1);
	ck_assert_int_eq(audit_get(NULL, 11, &e1), DB_NOTFOUND);

	/* events of a rolled-back transaction leave no trace */
	ck_assert_int_eq(store_run(append_then_fail, NULL), 0);
	ck_assert_int_eq(audit_head(NULL, &seq, NULL, 0), 0);
	ck_assert_uint_eq(seq, 10);
	ck_assert_msg(audit_verify_all(&events, why, sizeof(why)) == 0, "%s", why);
}
END_TEST

START_TEST(audit_chain_empty_verifies)
{
	uint64_t events = 99;
	char why[256] = "";

	ck_assert_msg(audit_verify_all(&events, why, sizeof(why)) == 0, "%s", why);
	ck_assert_uint_eq(events, 0);
}
END_TEST

START_TEST(audit_detects_an_altered_event)
{
	uint64_t events;
	char why[256];

	append_n(7);
	rewrite_event(3, "nothing to see", 0);
	ck_assert_int_ne(audit_verify_all(&events, why, sizeof(why)), 0);
	ck_assert(strstr(why, "3") != NULL);
}
END_TEST

START_TEST(audit_detects_a_rehashed_event)
{
	uint64_t events;
	char why[256];

	/* the last event: no successor's prev_hash gives it away, the
	 * audit head and the transparency log leaf do */
	append_n(4);
	rewrite_event(4, "rewritten", 1);
	ck_assert_int_ne(audit_verify_all(&events, why, sizeof(why)), 0);
	/* a middle one: its successor no longer chains */
	store_teardown();
	store_setup();
	append_n(4);
	rewrite_event(2, "rewritten", 1);
	ck_assert_int_ne(audit_verify_all(&events, why, sizeof(why)), 0);
}
END_TEST

START_TEST(audit_detects_a_deleted_event)
{
	unsigned char key[8];
	uint64_t events;
	char why[256];

	append_n(5);
	store_u64_be(key, 2);
	ck_assert_int_eq(store_del(NULL, T_AUDIT, key, 8), 0);
	ck_assert_int_ne(audit_verify_all(&events, why, sizeof(why)), 0);
	/* and the last one */
	store_teardown();
	store_setup();
	append_n(5);
	store_u64_be(key, 5);
	ck_assert_int_eq(store_del(NULL, T_AUDIT, key, 8), 0);
	ck_assert_int_ne(audit_verify_all(&events, why, sizeof(why)), 0);
}
END_TEST

START_TEST(audit_detects_a_tampered_log_node)
{
	unsigned char key[9];
	merkle_hash node;
	uint64_t events;
	char why[256];

	append_n(6);
	/* level 1, index 1: the node over leaves 2 and 3 */
	key[0] = 1;
	store_u64_be(key + 1, 1);
	ck_assert_int_eq(tlog_node(NULL, 1, 1, node), 0);
	node[5] ^= 0x40;
	ck_assert_int_eq(store_put(NULL, T_TLOG, key, sizeof(key), node, sizeof(node), 0), 0);
	ck_assert_int_ne(audit_verify_all(&events, why, sizeof(why)), 0);
	ck_assert(strstr(why, "transparency") != NULL);
}
END_TEST

START_TEST(audit_event_hash_checks)
{
	json_t *event;

	append_n(1);
	ck_assert_int_eq(audit_get(NULL, 1, &event), 0);
	ck_assert(event_hash_ok(event));
	/* short, long, missing or non-string hashes are refused (and the
	 * check never reads past a short one) */
	json_object_set_new(event, "hash", json_string("abc"));
	ck_assert(!event_hash_ok(event));
	json_object_set_new(event, "hash", json_string(""));
	ck_assert(!event_hash_ok(event));
	json_object_set_new(event, "hash", json_integer(7));
	ck_assert(!event_hash_ok(event));
	json_object_del(event, "hash");
	ck_assert(!event_hash_ok(event));
	json_decref(event);

	ck_assert_int_eq(audit_get(NULL, 1, &event), 0);
	{
		char longer[80];

		snprintf(longer, sizeof(longer), "%s00",
		    json_string_value(json_object_get(event, "hash")));
		json_object_set_new(event, "hash", json_string(longer));
		ck_assert(!event_hash_ok(event));
	}
	json_decref(event);
}
END_TEST

static int
collect_seq(void *arg, uint64_t seq)
{
	json_array_append_new(arg, json_integer((json_int_t)seq));
	return 0;
}

/* The seqs a query finds, as a compact JSON array. */
static char *
query_seqs(const char *tenant, const char *type, const char *target, int newest_first,
           uint64_t after)
{
	struct audit_filter f = { tenant, type, target, NULL, INT64_MIN, INT64_MAX,
	    after, newest_first };
	json_t *seqs = json_array();
	char *text;

	ck_assert_int_eq(audit_query(&f, collect_seq, seqs), 0);
	text = json_dumps(seqs, JSON_COMPACT);
	json_decref(seqs);
	return text;
}

START_TEST(audit_queries_walk_the_tenant_index)
{
	char key[64], id[64], *text;
	json_t *event, *found;
	int klen;

	append_n(6);   /* org_b: 1 3 5, org_a: 2 4 6; targets t-0 .. t-5 */
	text = query_seqs("org_a", NULL, NULL, 0, 0);
	ck_assert_str_eq(text, "[2,4,6]");
	free(text);
	text = query_seqs("org_a", NULL, NULL, 1, 0);
	ck_assert_str_eq(text, "[6,4,2]");
	free(text);
	text = query_seqs("org_a", NULL, NULL, 1, 2);
	ck_assert_str_eq(text, "[6,4]");
	free(text);
	text = query_seqs("org_b", "killswitch.*", "t-2", 0, 0);
	ck_assert_str_eq(text, "[3]");
	free(text);
	text = query_seqs("org_b", "killswitch", NULL, 0, 0);
	ck_assert_str_eq(text, "[]");
	free(text);
	text = query_seqs("org_c", NULL, NULL, 0, 0);
	ck_assert_str_eq(text, "[]");
	free(text);

	/* by id, in its own tenant only */
	ck_assert_int_eq(audit_get(NULL, 4, &event), 0);
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(event, "id")));
	json_decref(event);
	ck_assert_int_eq(audit_find("org_a", id, &found), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(found, "seq")), 4);
	json_decref(found);
	ck_assert_int_eq(audit_find("org_b", id, &found), DB_NOTFOUND);
	ck_assert_int_eq(audit_find("org_a", "evt_nothing", &found), DB_NOTFOUND);
	/* events indexed before the summaries and the id index: the first
	 * ones of the tenant's index, read and matched whole */
	klen = store_key(key, sizeof(key) - 9, "org_a", "", NULL);
	for (uint64_t seq = 2; seq <= 4; seq += 2) {
		store_u64_be((unsigned char *)key + klen, seq);
		ck_assert_int_eq(store_put(NULL, T_AUDIT_TENANT, key, (size_t)klen + 8,
		    "", 0, 0), 0);
	}
	ck_assert_int_eq(store_del(NULL, T_AUDIT_IDS, id, strlen(id)), 0);
	ck_assert_int_eq(audit_find("org_a", id, &found), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(found, "seq")), 4);
	json_decref(found);
	ck_assert_int_eq(audit_find("org_b", id, &found), DB_NOTFOUND);
	text = query_seqs("org_a", "killswitch.activated", "t-3", 1, 0);
	ck_assert_str_eq(text, "[4]");
	free(text);
	text = query_seqs("org_a", NULL, NULL, 1, 0);
	ck_assert_str_eq(text, "[6,4,2]");
	free(text);
}
END_TEST

START_TEST(audit_events_hash_their_jcs_form)
{
	json_t *event, *legacy;
	char *text, *jcs;
	uint64_t events;
	char why[256];

	append_n(1);
	ck_assert_int_eq(audit_get(NULL, 1, &event), 0);
	/* new events are marked, stored and hashed in RFC 8785 form */
	ck_assert_str_eq(json_string_value(json_object_get(event, "canon")), "jcs");
	json_object_set_new(event, "reason", json_string("Drained \u20ac3k \u2014 \u00fcber limit"));
	text = event_canonical(event);
	jcs = jcs_dump(event, NULL);
	ck_assert_str_eq(text, jcs);
	ck_assert_ptr_nonnull(strstr(text, "\u20ac3k"));
	free(text);
	free(jcs);
	/* an event without the marker (written before it) keeps the old rule */
	legacy = json_deep_copy(event);
	json_object_del(legacy, "canon");
	text = event_canonical(legacy);
	ck_assert_ptr_nonnull(strstr(text, "\\u20AC3k"));
	free(text);
	/* an unknown marker is not guessed at */
	json_object_set_new(legacy, "canon", json_string("v9"));
	ck_assert_ptr_null(event_canonical(legacy));
	ck_assert(!event_hash_ok(legacy));
	json_decref(legacy);
	json_decref(event);
	ck_assert_msg(audit_verify_all(&events, why, sizeof(why)) == 0, "%s", why);
}
END_TEST

/*
 * tlog
 */
/* MTH over leaves[start .. start + n), exactly as RFC 9162 2.1.1 says. */
static void
naive_mth(const merkle_hash *leaves, uint64_t n, merkle_hash out)
{
	merkle_hash l, r;
	uint64_t k = 1;

	if (n == 0) {
		crypto_hash_sha256(out, NULL, 0);
		return;
	}
	if (n == 1) {
		memcpy(out, leaves[0], MERKLE_HASH_SIZE);
		return;
	}
	while (k * 2 < n)
		k *= 2;
	naive_mth(leaves, k, l);
	naive_mth(leaves + k, n - k, r);
	merkle_node_hash(l, r, out);
}

#define TLOG_EVENTS 21

START_TEST(tlog_root_matches_the_events)
{
	merkle_hash leaves[TLOG_EVENTS], root, want, stored;
	uint64_t size;

	ck_assert_int_eq(audit_head(NULL, &size, NULL, 0), 0);
	ck_assert_uint_eq(size, 0);
	ck_assert_int_eq(tlog_root(NULL, 0, root), 0);
	naive_mth(leaves, 0, want);
	ck_assert_mem_eq(root, want, MERKLE_HASH_SIZE);

	/* one event per transaction: every tree size from 1 up */
	for (uint64_t n = 1; n <= TLOG_EVENTS; n++) {
		json_t *event;
		char *canon;

		append_n(1);
		ck_assert_int_eq(audit_head(NULL, &size, NULL, 0), 0);
		ck_assert_uint_eq(size, n);
		/* the leaf is the event's canonical JSON, "hash" included */
		ck_assert_int_eq(audit_get(NULL, n, &event), 0);
		canon = event_canonical(event);
		merkle_leaf_hash(canon, strlen(canon), leaves[n - 1]);
		free(canon);
		json_decref(event);
		ck_assert_int_eq(tlog_node(NULL, 0, n - 1, stored), 0);
		ck_assert_mem_eq(stored, leaves[n - 1], MERKLE_HASH_SIZE);

		ck_assert_int_eq(tlog_root(NULL, n, root), 0);
		naive_mth(leaves, n, want);
		ck_assert_msg(memcmp(root, want, MERKLE_HASH_SIZE) == 0,
		    "root of %d leaves differs", (int)n);
	}
	/* earlier roots stay computable, and consistent with the latest */
	for (uint64_t m = 1; m < TLOG_EVENTS; m += 3) {
		merkle_hash proof[MERKLE_MAX_PROOF], old;
		size_t count;

		ck_assert_int_eq(tlog_root(NULL, m, old), 0);
		naive_mth(leaves, m, want);
		ck_assert_mem_eq(old, want, MERKLE_HASH_SIZE);
		ck_assert_int_eq(merkle_consistency_proof(tlog_node, NULL, m, TLOG_EVENTS,
		    proof, &count), 0);
		ck_assert(merkle_verify_consistency(m, TLOG_EVENTS, old, root, proof, count));
	}
	/* a batch of events in one transaction gives the same shape */
	append_n(5);
	ck_assert_int_eq(audit_head(NULL, &size, NULL, 0), 0);
	ck_assert_uint_eq(size, TLOG_EVENTS + 5);
}
END_TEST

START_TEST(tlog_head_signature)
{
	unsigned char pk[32], msg[50], sig[64], pk_again[32], decoded[32];
	merkle_hash root;
	json_t *sth;
	const char *text;
	size_t len;

	append_n(3);
	ck_assert_int_eq(tlog_public_key(pk), 0);
	ck_assert_int_eq(tlog_public_key(pk_again), 0);
	ck_assert_mem_eq(pk, pk_again, 32);
	ck_assert_int_eq(tlog_signed_head(3, &sth), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(sth, "tree_size")), 3);
	text = json_string_value(json_object_get(sth, "signature"));
	ck_assert_int_eq(sodium_base642bin(sig, sizeof(sig), text, strlen(text), NULL, &len,
	    NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	ck_assert_uint_eq(len, 64);
	text = json_string_value(json_object_get(sth, "public_key"));
	ck_assert_int_eq(sodium_base642bin(decoded, sizeof(decoded), text, strlen(text), NULL,
	    &len, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	ck_assert_mem_eq(decoded, pk, 32);
	ck_assert_int_eq(tlog_root(NULL, 3, root), 0);
	text = json_string_value(json_object_get(sth, "root_hash"));
	ck_assert_int_eq(sodium_base642bin(decoded, sizeof(decoded), text, strlen(text), NULL,
	    &len, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	ck_assert_mem_eq(decoded, root, 32);

	/* the signed message is exactly the 50 bytes of tlog.h */
	tlog_head_message(msg, json_integer_value(json_object_get(sth, "timestamp")), 3, root);
	ck_assert_int_eq(msg[0], 0);
	ck_assert_int_eq(msg[1], 1);
	ck_assert_uint_eq(store_be_u64(msg + 10), 3);
	ck_assert_mem_eq(msg + 18, root, 32);
	ck_assert_int_eq(crypto_sign_verify_detached(sig, msg, sizeof(msg), pk), 0);
	msg[49] ^= 1;
	ck_assert_int_ne(crypto_sign_verify_detached(sig, msg, sizeof(msg), pk), 0);
	json_decref(sth);
}
END_TEST

static json_t *
b64_string(const unsigned char *bin, size_t len)
{
	char text[128];

	sodium_bin2base64(text, sizeof(text), bin, len, sodium_base64_VARIANT_ORIGINAL);
	return json_string(text);
}

/* The receipt document GET /v1/transparency/receipts/{id} serves. */
static json_t *
make_receipt(uint64_t index, uint64_t size)
{
	merkle_hash proof[MERKLE_MAX_PROOF];
	json_t *event, *sth, *path = json_array();
	size_t count;

	ck_assert_int_eq(audit_get(NULL, index + 1, &event), 0);
	ck_assert_int_eq(tlog_signed_head(size, &sth), 0);
	ck_assert_int_eq(merkle_inclusion_proof(tlog_node, NULL, index, size, proof,
	    &count), 0);
	for (size_t i = 0; i < count; i++)
		json_array_append_new(path, b64_string(proof[i], MERKLE_HASH_SIZE));
	return json_pack("{s:I, s:I, s:o, s:o, s:o}", "leaf_index", (json_int_t)index,
	    "tree_size", (json_int_t)size, "event", event, "inclusion_proof", path,
	    "sth", sth);
}

/* Flips one bit of a base64 string member. */
static void
flip_b64(json_t *obj, const char *name)
{
	unsigned char bin[64];
	const char *text = json_string_value(json_object_get(obj, name));
	size_t len;

	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(sodium_base642bin(bin, sizeof(bin), text, strlen(text), NULL, &len,
	    NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	bin[len / 2] ^= 0x08;
	json_object_set_new(obj, name, b64_string(bin, len));
}

START_TEST(tlog_receipts_verify_offline)
{
	unsigned char pk[32], other_pk[32], other_sk[64];
	char why[256];
	json_t *r, *bad, *event;

	append_n(11);
	ck_assert_int_eq(tlog_public_key(pk), 0);
	for (uint64_t i = 0; i < 11; i++) {
		r = make_receipt(i, 11);
		why[0] = '\0';
		ck_assert_msg(tlog_verify_proof(r, pk, why, sizeof(why)) == 1,
		    "receipt %d: %s", (int)i, why);
		json_decref(r);
	}
	/* a receipt against an older head still verifies */
	r = make_receipt(2, 3);
	ck_assert(tlog_verify_proof(r, pk, why, sizeof(why)) == 1);
	json_decref(r);

	r = make_receipt(5, 11);

	/* another key */
	crypto_sign_keypair(other_pk, other_sk);
	ck_assert(tlog_verify_proof(r, other_pk, why, sizeof(why)) == 0);
	ck_assert(strstr(why, "signature") != NULL);

	/* the event changed */
	bad = json_deep_copy(r);
	event = json_object_get(bad, "event");
	json_object_set_new(event, "reason", json_string("forged"));
	ck_assert(tlog_verify_proof(bad, pk, why, sizeof(why)) == 0);
	json_decref(bad);

	/* another leaf index */
	bad = json_deep_copy(r);
	json_object_set_new(bad, "leaf_index", json_integer(4));
	ck_assert(tlog_verify_proof(bad, pk, why, sizeof(why)) == 0);
	json_object_set_new(bad, "leaf_index", json_integer(11));
	ck_assert(tlog_verify_proof(bad, pk, why, sizeof(why)) == 0);
	json_object_set_new(bad, "leaf_index", json_integer(-1));
	ck_assert(tlog_verify_proof(bad, pk, why, sizeof(why)) == 0);
	json_object_del(bad, "leaf_index");
	ck_assert(tlog_verify_proof(bad, pk, why, sizeof(why)) == 0);
	json_decref(bad);

	/* a proof hash altered, dropped, added or malformed */
	bad = json_deep_copy(r);
	{
		json_t *path = json_object_get(bad, "inclusion_proof");
		unsigned char h[32];
		size_t len;
		const char *text = json_string_value(json_array_get(path, 1));

		ck_assert_int_eq(sodium_base642bin(h, sizeof(h), text, strlen(text), NULL,
		    &len, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
		h[0] ^= 1;
		json_array_set_new(path, 1, b64_string(h, 32));
		ck_assert(tlog_verify_proof(bad, pk, why, sizeof(why)) == 0);
		json_array_remove(path, 1);
		ck_assert(tlog_verify_proof(bad, pk, why, sizeof(why)) == 0);
		json_array_append_new(path, b64_string(h, 32));
		json_array_append_new(path, b64_string(h, 32));
		ck_assert(tlog_verify_proof(bad, pk, why, sizeof(why)) == 0);
		json_array_set_new(path, 0, json_string("not base64!"));
		ck_assert(tlog_verify_proof(bad, pk, why, sizeof(why)) == 0);
		json_array_set_new(path, 0, json_integer(1));
		ck_assert(tlog_verify_proof(bad, pk, why, sizeof(why)) == 0);
	}
	json_decref(bad);

	/* the signed head: size, time, root or signature altered */
	bad = json_deep_copy(r);
	json_object_set_new(json_object_get(bad, "sth"), "tree_size", json_integer(12));
	ck_assert(tlog_verify_proof(bad, pk, why, sizeof(why)) == 0);
	json_decref(bad);
	bad = json_deep_copy(r);
	{
		json_t *sth = json_object_get(bad, "sth");

		json_object_set_new(sth, "timestamp", json_integer(
		    json_integer_value(json_object_get(sth, "timestamp")) + 1));
	}
	ck_assert(tlog_verify_proof(bad, pk, why, sizeof(why)) == 0);
	ck_assert(strstr(why, "signature") != NULL);
	json_decref(bad);
	bad = json_deep_copy(r);
	flip_b64(json_object_get(bad, "sth"), "root_hash");
	ck_assert(tlog_verify_proof(bad, pk, why, sizeof(why)) == 0);
	json_decref(bad);
	bad = json_deep_copy(r);
	flip_b64(json_object_get(bad, "sth"), "signature");
	ck_assert(tlog_verify_proof(bad, pk, why, sizeof(why)) == 0);
	json_decref(bad);
	bad = json_deep_copy(r);
	json_object_set_new(json_object_get(bad, "sth"), "signature", json_string("AAAA"));
	ck_assert(tlog_verify_proof(bad, pk, why, sizeof(why)) == 0);
	json_decref(bad);

	/* pieces missing */
	bad = json_deep_copy(r);
	json_object_del(bad, "sth");
	ck_assert(tlog_verify_proof(bad, pk, why, sizeof(why)) == 0);
	json_decref(bad);
	bad = json_deep_copy(r);
	json_object_del(bad, "event");
	ck_assert(tlog_verify_proof(bad, pk, why, sizeof(why)) == 0);
	json_decref(bad);
	bad = json_deep_copy(r);
	json_object_set_new(bad, "inclusion_proof", json_string("x"));
	ck_assert(tlog_verify_proof(bad, pk, why, sizeof(why)) == 0);
	json_decref(bad);
	ck_assert(tlog_verify_proof(json_object_get(r, "nothing"), pk, why, sizeof(why)) == 0);

	/* the untouched receipt still verifies */
	ck_assert(tlog_verify_proof(r, pk, why, sizeof(why)) == 1);
	json_decref(r);
}
END_TEST

START_TEST(receipt_ids)
{
	char id[TLOG_LEAF_ID_SIZE];
	uint64_t index;

	tlog_leaf_id(42, id);
	ck_assert_str_eq(id, "rcpt_000000000000002a");
	ck_assert_int_eq(tlog_parse_leaf_id(id, &index), 0);
	ck_assert_uint_eq(index, 42);
	tlog_leaf_id(UINT64_MAX, id);
	ck_assert_int_eq(tlog_parse_leaf_id(id, &index), 0);
	ck_assert_uint_eq(index, UINT64_MAX);
	ck_assert_int_ne(tlog_parse_leaf_id("rcpt_", &index), 0);
	ck_assert_int_ne(tlog_parse_leaf_id("rcpt_xyz", &index), 0);
	ck_assert_int_ne(tlog_parse_leaf_id("rcpt_000000000000002A", &index), 0);
	ck_assert_int_ne(tlog_parse_leaf_id("rcpt_000000000000002", &index), 0);
	ck_assert_int_ne(tlog_parse_leaf_id("rcpt_000000000000002a0", &index), 0);
	ck_assert_int_ne(tlog_parse_leaf_id("rcpt_00000000000000-1", &index), 0);
	ck_assert_int_ne(tlog_parse_leaf_id("evt_0000000000000001", &index), 0);
	ck_assert_int_ne(tlog_parse_leaf_id("", &index), 0);
}
END_TEST

/*
 * ratelimit
 */
struct spend_job {
	const char *key_id;
	const char *bucket;
	unsigned per_minute, burst;
};

static int
spend_txn(DB_TXN *txn, void *arg)
{
	struct spend_job *s = arg;

	return ratelimit_spend(txn, s->key_id, s->bucket, s->per_minute, s->burst);
}

static void
spend(const char *key_id, const char *bucket, unsigned per_minute, unsigned burst)
{
	struct spend_job s = { key_id, bucket, per_minute, burst };

	ck_assert_int_eq(store_run(spend_txn, &s), 0);
}

START_TEST(rate_limit_burst_then_refuse)
{
	int retry = 0;

	for (int i = 0; i < 3; i++) {
		ck_assert(ratelimit_check("key_unit", "admin", 3, 3, &retry));
		spend("key_unit", "admin", 3, 3);
	}
	ck_assert(!ratelimit_check("key_unit", "admin", 3, 3, &retry));
	/* 3 a minute: one token every 20 s */
	ck_assert_int_ge(retry, 19);
	ck_assert_int_le(retry, 20);
	/* other keys and other buckets are independent */
	ck_assert(ratelimit_check("key_other", "admin", 3, 3, &retry));
	ck_assert(ratelimit_check("key_unit", "check", 3, 3, &retry));
	/* a rate of 0 means no limit */
	ck_assert(ratelimit_check("key_unit", "admin", 0, 3, &retry));
	spend("key_unit", "unlimited", 0, 1);
	spend("key_unit", "unlimited", 0, 1);
	ck_assert(ratelimit_check("key_unit", "unlimited", 0, 1, &retry));
}
END_TEST

START_TEST(rate_limit_refills_with_time)
{
	int retry = 0;

	/* 120 a minute is a token every 500 ms: wide margins on a busy box */
	spend("key_unit", "fast", 120, 2);
	spend("key_unit", "fast", 120, 2);
	ck_assert(!ratelimit_check("key_unit", "fast", 120, 2, &retry));
	ck_assert_int_eq(retry, 1);   /* rounded up, never 0: clients would spin */
	usleep(650 * 1000);
	ck_assert(ratelimit_check("key_unit", "fast", 120, 2, &retry));

	/* spending an empty bucket never drives it below zero */
	for (int i = 0; i < 6; i++)
		spend("key_unit", "overdrawn", 120, 2);
	usleep(650 * 1000);
	ck_assert(ratelimit_check("key_unit", "overdrawn", 120, 2, &retry));

	/* refills stop at the burst size */
	spend("key_unit", "capped", 120, 2);
	usleep(1600 * 1000);                      /* would be 4 tokens uncapped */
	spend("key_unit", "capped", 120, 2);
	spend("key_unit", "capped", 120, 2);
	ck_assert(!ratelimit_check("key_unit", "capped", 120, 2, &retry));
}
END_TEST

/*
 * idempotency
 */
/* jsoncache: the parse is shared only for identical bytes */
/*
 * generation: shared change counters, and the gate's copy keyed by one
 */
START_TEST(generation_counts_watched_writes)
{
	uint64_t keys = generation_read(GEN_APIKEYS);
	uint64_t esd = generation_read(GEN_SHUTDOWNS);
	DB_TXN *txn;
	pid_t child;
	int status;

	ck_assert_uint_ne(keys, GENERATION_UNKNOWN);
	ck_assert_uint_ne(esd, GENERATION_UNKNOWN);
	/* a table no cache depends on moves nothing */
	ck_assert_int_eq(store_put(NULL, T_META, "k", 1, "v", 1, 0), 0);
	ck_assert_uint_eq(generation_read(GEN_APIKEYS), keys);
	ck_assert_uint_eq(generation_read(GEN_SHUTDOWNS), esd);
	/* a watched table moves its own counter only, inside the writer's
	 * transaction, before the commit */
	ck_assert_int_eq(store_begin(&txn), 0);
	ck_assert_int_eq(store_put(txn, T_APIKEYS, "key_x", 5, "{}", 2, 0), 0);
	ck_assert_uint_eq(generation_read(GEN_APIKEYS), keys + 1);
	ck_assert_int_eq(store_commit(txn), 0);
	ck_assert_uint_eq(generation_read(GEN_SHUTDOWNS), esd);
	/* a write outside a transaction too */
	ck_assert_int_eq(store_put(NULL, T_ESD_ACTIVE, "t" KEY_SEP_STR "e", 3, "{}", 2, 0), 0);
	ck_assert_uint_eq(generation_read(GEN_SHUTDOWNS), esd + 1);
	ck_assert_int_eq(store_del(NULL, T_ESD_ACTIVE, "t" KEY_SEP_STR "e", 3), 0);
	ck_assert_uint_eq(generation_read(GEN_SHUTDOWNS), esd + 2);
	/* a delete of nothing writes nothing */
	ck_assert_int_eq(store_del(NULL, T_ESD_ACTIVE, "t" KEY_SEP_STR "e", 3), DB_NOTFOUND);
	ck_assert_uint_eq(generation_read(GEN_SHUTDOWNS), esd + 2);
	/* another process sees the same counters */
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		generation_bump(GEN_SHUTDOWNS);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert_uint_eq(generation_read(GEN_SHUTDOWNS), esd + 3);
	/* unmapped: the answer that turns every cache off */
	generation_close();
	ck_assert_uint_eq(generation_read(GEN_APIKEYS), GENERATION_UNKNOWN);
	generation_bump(GEN_APIKEYS);
}
END_TEST

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

/* The value of key in T_KS_ACTIVE as store_get sees it, or "-" if absent. */
static const char *
active_value(const char *key)
{
	static char text[64];
	void *val;
	size_t vlen;
	int rc = store_get(NULL, T_KS_ACTIVE, key, strlen(key), &val, &vlen, 0);

	if (rc == DB_NOTFOUND)
		return "-";
	ck_assert_int_eq(rc, 0);
	snprintf(text, sizeof(text), "%.*s", (int)vlen, (const char *)val);
	free(val);
	return text;
}

START_TEST(store_reads_follow_every_write)
{
	DB_TXN *txn;
	pid_t child;
	int status;

	/* an absent key is remembered as absent, until a write */
	ck_assert_str_eq(active_value("k1"), "-");
	ck_assert_str_eq(active_value("k1"), "-");
	ck_assert_int_eq(store_exists(NULL, T_KS_ACTIVE, "k1", 2), DB_NOTFOUND);
	ck_assert_int_eq(store_put(NULL, T_KS_ACTIVE, "k1", 2, "v1", 2, 0), 0);
	ck_assert_str_eq(active_value("k1"), "v1");
	ck_assert_str_eq(active_value("k1"), "v1");
	ck_assert_int_eq(store_exists(NULL, T_KS_ACTIVE, "k1", 2), 0);
	/* a write in a transaction, seen once committed */
	ck_assert_int_eq(store_begin(&txn), 0);
	ck_assert_int_eq(store_put(txn, T_KS_ACTIVE, "k1", 2, "v2", 2, 0), 0);
	ck_assert_int_eq(store_commit(txn), 0);
	ck_assert_str_eq(active_value("k1"), "v2");
	/* an aborted write leaves the stored value */
	ck_assert_int_eq(store_begin(&txn), 0);
	ck_assert_int_eq(store_put(txn, T_KS_ACTIVE, "k1", 2, "v3", 2, 0), 0);
	store_abort(txn);
	ck_assert_str_eq(active_value("k1"), "v2");
	/* another process writes: this one sees it on its next read */
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		char err[256];

		/* a child must not use its parent's handles: its own open */
		if (store_open(data_dir, 8, err, sizeof(err)) != 0 ||
		    store_put(NULL, T_KS_ACTIVE, "k1", 2, "v4", 2, 0) != 0 ||
		    store_del(NULL, T_KS_ACTIVE, "k2", 2) != DB_NOTFOUND)
			_exit(1);
		store_close();
		_exit(0);
	}
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_str_eq(active_value("k1"), "v4");
	ck_assert_int_eq(store_del(NULL, T_KS_ACTIVE, "k1", 2), 0);
	ck_assert_str_eq(active_value("k1"), "-");
	ck_assert_int_eq(store_exists(NULL, T_KS_ACTIVE, "k1", 2), DB_NOTFOUND);
	/* a dropped copy is read again */
	ck_assert_int_eq(store_put(NULL, T_KS_ACTIVE, "k1", 2, "v5", 2, 0), 0);
	ck_assert_str_eq(active_value("k1"), "v5");
	readcache_clear();
	ck_assert_str_eq(active_value("k1"), "v5");
}
END_TEST

START_TEST(envlock_fences_a_forced_recovery)
{
	char path[128];
	int fds[2], fd;
	pid_t child;
	char ch;

	/* store_setup opened the store: this process holds the lock shared */
	ck_assert_int_eq(envlock_recovery_requested(), 0);
	envlock_request_recovery();
	ck_assert_int_eq(envlock_recovery_requested(), 1);
	/* another process attached (its own open of the lock file, shared) */
	ck_assert_int_eq(pipe(fds), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		snprintf(path, sizeof(path), "%s/env.lock", data_dir);
		if ((fd = open(path, O_RDWR)) < 0 || flock(fd, LOCK_SH) != 0)
			_exit(1);
		if (write(fds[1], "x", 1) != 1)
			_exit(1);
		sleep(30);              /* killed by the parent */
		_exit(0);
	}
	ck_assert_int_eq(read(fds[0], &ch, 1), 1);
	/* not granted while it stays attached */
	ck_assert_int_eq(envlock_exclusive(300), 0);
	kill(child, SIGKILL);
	ck_assert_int_eq(waitpid(child, NULL, 0), child);
	/* its death releases the lock: granted */
	ck_assert_int_eq(envlock_exclusive(300), 1);
	ck_assert_int_eq(envlock_share(), 0);
	envlock_recovery_done();
	ck_assert_int_eq(envlock_recovery_requested(), 0);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

START_TEST(a_zombie_is_not_alive)
{
	siginfo_t info;
	pid_t child;

	ck_assert_int_eq(store_pid_alive(getpid()), 1);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		sleep(30);              /* killed below */
		_exit(0);
	}
	ck_assert_int_eq(store_pid_alive(child), 1);
	kill(child, SIGKILL);
	/* dead but not reaped: a zombie still answers kill(pid, 0) */
	memset(&info, 0, sizeof(info));
	ck_assert_int_eq(waitid(P_PID, (id_t)child, &info, WEXITED | WNOWAIT), 0);
	ck_assert_int_eq(kill(child, 0), 0);
	ck_assert_int_eq(store_pid_alive(child), 0);
	/* reaped: gone */
	ck_assert_int_eq(waitpid(child, NULL, 0), child);
	ck_assert_int_eq(store_pid_alive(child), 0);
	/* the environment's own check still runs */
	ck_assert_int_eq(store_failchk(), 0);
}
END_TEST

/* Runs a child that arms the watchdog for 1 s, disarms it at once when
 * in_time, and then sleeps 3 s; returns its exit status. */
static int
watched_child(int in_time)
{
	pid_t child = fork();
	int status;

	ck_assert_int_ge(child, 0);
	if (child == 0) {
		if (watchdog_start() != 0)
			_exit(1);
		watchdog_arm(1);
		if (in_time)
			watchdog_disarm();
		sleep(3);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

START_TEST(watchdog_ends_stuck_work_only)
{
	/* work that ended in time: the process lives on, no marker */
	ck_assert_int_eq(watched_child(1), 0);
	ck_assert_int_eq(envlock_recovery_requested(), 0);
	/* work past its deadline: exit 75, and a forced recovery asked for */
	ck_assert_int_eq(watched_child(0), 75);
	ck_assert_int_eq(envlock_recovery_requested(), 1);
	envlock_recovery_done();
}
END_TEST

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

START_TEST(idempotency_key_syntax)
{
	char key[300];

	ck_assert(idem_key_valid("k-1"));
	ck_assert(idem_key_valid("a b"));
	ck_assert(idem_key_valid(" "));
	ck_assert(idem_key_valid("~!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}"));
	ck_assert(idem_key_valid("550e8400-e29b-41d4-a716-446655440000"));
	ck_assert(!idem_key_valid(""));
	ck_assert(!idem_key_valid("tab\there"));
	ck_assert(!idem_key_valid("new\nline"));
	ck_assert(!idem_key_valid("cr\r"));
	ck_assert(!idem_key_valid("del\x7f"));
	ck_assert(!idem_key_valid("caf\xc3\xa9"));
	ck_assert(!idem_key_valid("\x1f"));
	memset(key, 'k', 255);
	key[255] = '\0';
	ck_assert(idem_key_valid(key));
	key[255] = 'k';
	key[256] = '\0';
	ck_assert(!idem_key_valid(key));
}
END_TEST

START_TEST(idempotency_fingerprints)
{
	struct request a, b;
	char fa[65], fb[65];

	memset(&a, 0, sizeof(a));
	a.method = "POST";
	snprintf(a.path, sizeof(a.path), "/v1/kill");
	a.body = "{\"x\":1}";
	a.body_len = strlen(a.body);
	b = a;
	idem_fingerprint(&a, fa);
	idem_fingerprint(&b, fb);
	ck_assert_uint_eq(strlen(fa), 64);
	ck_assert_str_eq(fa, fb);
	b.body = "{\"x\":2}";
	idem_fingerprint(&b, fb);
	ck_assert_str_ne(fa, fb);
	b = a;
	snprintf(b.path, sizeof(b.path), "/v1/revive");
	idem_fingerprint(&b, fb);
	ck_assert_str_ne(fa, fb);
	b = a;
	b.method = "PUT";
	idem_fingerprint(&b, fb);
	ck_assert_str_ne(fa, fb);
	/* method and path are delimited: "POST" "/x" differs from "POST/" "x" */
	b = a;
	b.method = "POST/";
	snprintf(b.path, sizeof(b.path), "v1/kill");
	idem_fingerprint(&b, fb);
	ck_assert_str_ne(fa, fb);
}
END_TEST

struct idem_job {
	const char *key_id, *idem_key, *fingerprint;
	struct response *resp;
	enum idem_result result;
	int store;
	int withhold;
};

static int
idem_txn(DB_TXN *txn, void *arg)
{
	struct idem_job *j = arg;

	if (j->store)
		return idem_store(txn, j->key_id, j->idem_key, j->fingerprint, j->resp,
		    j->withhold);
	return idem_lookup(txn, j->key_id, j->idem_key, j->fingerprint, j->resp, &j->result);
}

static enum idem_result
lookup(const char *key_id, const char *idem_key, const char *fp, struct response *resp)
{
	struct idem_job j = { key_id, idem_key, fp, resp, IDEM_MISMATCH, 0, 0 };

	ck_assert_int_eq(store_run(idem_txn, &j), 0);
	return j.result;
}

START_TEST(idempotency_replays_the_first_response)
{
	const char *fp = "1111111111111111111111111111111111111111111111111111111111111111";
	const char *other = "2222222222222222222222222222222222222222222222222222222222222222";
	struct response first, again;
	struct idem_job j;

	response_init(&first);
	response_init(&again);
	ck_assert_int_eq(lookup("key_a", "k-1", fp, &again), IDEM_NEW);

	response_json(&first, 201, json_pack("{s:s}", "id", "ks_1"));
	j = (struct idem_job){ "key_a", "k-1", fp, &first, IDEM_NEW, 1, 0 };
	ck_assert_int_eq(store_run(idem_txn, &j), 0);

	ck_assert_int_eq(lookup("key_a", "k-1", fp, &again), IDEM_REPLAYED);
	ck_assert_int_eq(again.status, 201);
	ck_assert_ptr_nonnull(again.raw);
	ck_assert_uint_eq(again.raw_len, strlen("{\"id\":\"ks_1\"}"));
	ck_assert_mem_eq(again.raw, "{\"id\":\"ks_1\"}", again.raw_len);
	ck_assert(strstr(again.headers, "Idempotent-Replayed: true") != NULL);
	ck_assert(strstr(again.headers, "Secret-Withheld") == NULL);
	response_reset(&again);

	/* same key, another request: mismatch; other keys are their own */
	ck_assert_int_eq(lookup("key_a", "k-1", other, &again), IDEM_MISMATCH);
	ck_assert_int_eq(lookup("key_b", "k-1", fp, &again), IDEM_NEW);
	ck_assert_int_eq(lookup("key_a", "k-2", fp, &again), IDEM_NEW);
	response_reset(&again);
	response_reset(&first);
}
END_TEST

/* A route that shows a secret keeps its answer with the secret null: the
 * stored bytes never hold it, the replay says it was withheld. */
START_TEST(idempotency_withholds_secrets)
{
	const char *fp = "3333333333333333333333333333333333333333333333333333333333333333";
	const char *secret = "andon_0123456789abcdef_SECRETSECRETSECRETSECRETSECRETSECRETSECR";
	char key[STORE_KEY_MAX];
	struct response first, again;
	struct idem_job j;
	void *raw;
	size_t raw_len;

	response_init(&first);
	response_init(&again);
	response_json(&first, 201, json_pack("{s:s, s:s, s:s}", "id", "key_1",
	    "key", secret, "name", "ci"));
	j = (struct idem_job){ "key_a", "s-1", fp, &first, IDEM_NEW, 1, 1 };
	ck_assert_int_eq(store_run(idem_txn, &j), 0);
	/* the answer itself still shows it, once */
	ck_assert_str_eq(json_string_value(json_object_get(first.json, "key")), secret);

	ck_assert_int_gt(store_key(key, sizeof(key), "key_a", "s-1", NULL), 0);
	ck_assert_int_eq(store_get(NULL, T_IDEMPOTENCY, key, strlen(key), &raw,
	    &raw_len, 0), 0);
	ck_assert_ptr_null(memmem(raw, raw_len, "SECRETSECRET", 12));
	free(raw);

	ck_assert_int_eq(lookup("key_a", "s-1", fp, &again), IDEM_REPLAYED);
	ck_assert_int_eq(again.status, 201);
	ck_assert_mem_eq(again.raw, "{\"id\":\"key_1\",\"key\":null,\"name\":\"ci\"}",
	    again.raw_len);
	ck_assert(strstr(again.headers, "Secret-Withheld: key\r\n") != NULL);
	response_reset(&again);
	response_reset(&first);

	/* an answer a secret cannot be taken out of is not kept */
	response_raw(&first, 201, "text/plain", strdup(secret), strlen(secret));
	j = (struct idem_job){ "key_a", "s-2", fp, &first, IDEM_NEW, 1, 1 };
	ck_assert_int_eq(store_run(idem_txn, &j), 0);
	ck_assert_int_eq(lookup("key_a", "s-2", fp, &again), IDEM_REPLAYED);
	ck_assert_uint_eq(again.raw_len, 0);
	response_reset(&again);
	response_reset(&first);
}
END_TEST


/* The Standard Webhooks specification's own example: secret, id,
 * timestamp and body give this signature; two keys give two. */
START_TEST(webhook_signature_matches_the_spec)
{
	unsigned char keys[2][24];
	char sig[256];
	size_t len;

	ck_assert_int_eq(sodium_base642bin(keys[0], 24, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	    32, NULL, &len, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	ck_assert_uint_eq(len, 24);
	notifier_sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
	    "{\"test\": 2432232314}", (const unsigned char (*)[24])keys, 1, sig,
	    sizeof(sig));
	ck_assert_str_eq(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	memcpy(keys[1], keys[0], 24);
	notifier_sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
	    "{\"test\": 2432232314}", (const unsigned char (*)[24])keys, 2, sig,
	    sizeof(sig));
	ck_assert_str_eq(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= "
	    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}
END_TEST

static int
private_address(const char *text)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(text, ':')) {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		ck_assert_int_eq(inet_pton(AF_INET6, text,
		    &((struct sockaddr_in6 *)&ss)->sin6_addr), 1);
	} else {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		ck_assert_int_eq(inet_pton(AF_INET, text,
		    &((struct sockaddr_in *)&ss)->sin_addr), 1);
	}
	return destination_address_private((struct sockaddr *)&ss);
}

START_TEST(webhook_destinations_classified)
{
	static const char *const refused[] = { "127.0.0.1", "127.255.0.9", "0.0.0.0",
	    "10.0.0.1", "100.64.0.1", "169.254.169.254", "172.16.0.1",
	    "172.31.255.255", "192.168.0.1", "192.0.0.8", "198.18.0.1", "224.0.0.1",
	    "239.255.255.250", "240.0.0.1", "255.255.255.255", "::", "::1",
	    "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "::ffff:127.0.0.1",
	    "::ffff:10.1.2.3", "2001:db8::1", "64:ff9b::a00:1", NULL };
	static const char *const accepted[] = { "93.184.215.14", "8.8.8.8",
	    "172.15.255.255", "172.32.0.1", "100.128.0.1", "198.20.0.1",
	    "223.255.255.255", "2606:4700::1111", "::ffff:8.8.8.8", NULL };

	for (const char *const *a = refused; *a; a++)
		ck_assert_msg(private_address(*a), "%s must be refused", *a);
	for (const char *const *a = accepted; *a; a++)
		ck_assert_msg(!private_address(*a), "%s must be accepted", *a);
}
END_TEST

static Suite *
lib_suite(void)
{
	Suite *s = suite_create("lib");
	TCase *tc;

	tc = tcase_create("clock");
	tcase_add_test(tc, clock_formats_rfc3339_utc);
	tcase_add_test(tc, clock_parses_zones_and_fractions);
	tcase_add_test(tc, clock_round_trips);
	tcase_add_test(tc, clock_refuses_garbage);
	tcase_add_test(tc, clock_now_is_now);
	suite_add_tcase(s, tc);

	tc = tcase_create("ids");
	tcase_add_test(tc, ids_random_hex);
	tcase_add_test(tc, ids_uuid4);
	tcase_add_test(tc, ids_ulid);
	suite_add_tcase(s, tc);

	tc = tcase_create("request");
	tcase_add_test(tc, url_decoding);
	tcase_add_test(tc, query_parameters);
	tcase_add_test(tc, query_numbers);
	tcase_add_test(tc, request_from_parameters);
	tcase_add_test(tc, request_credentials);
	tcase_add_test(tc, response_head_and_body);
	tcase_add_test(tc, body_limits);
	suite_add_tcase(s, tc);

	tc = tcase_create("validate");
	tcase_add_test(tc, validation_rules);
	tcase_add_test(tc, validation_unknown_fields);
	tcase_add_test(tc, validation_types_per_kind);
	tcase_add_test(tc, validation_length_in_code_points);
	tcase_add_test(tc, validation_flags);
	tcase_add_test(tc, validation_flagged_fields);
	tcase_add_test(tc, json_body_parsing);
	suite_add_tcase(s, tc);

	tc = tcase_create("router");
	tcase_add_test(tc, routing_matches_patterns);
	tcase_add_test(tc, routing_404_and_405);
	suite_add_tcase(s, tc);

	tc = tcase_create("scope");
	tcase_add_test(tc, scope_names_and_bits);
	tcase_add_test(tc, scope_star_is_every_tenant_scope);
	tcase_add_test(tc, scope_lists);
	suite_add_tcase(s, tc);

	tc = tcase_create("conf");
	tcase_add_test(tc, conf_defaults_are_documented);
	tcase_add_test(tc, conf_file);
	tcase_add_test(tc, conf_refuses_bad_lines);
	tcase_add_test(tc, store_never_makes_the_data_dir);
	tcase_add_test(tc, siem_message);
	suite_add_tcase(s, tc);

	tc = tcase_create("store");
	tcase_add_checked_fixture(tc, store_setup, store_teardown);
	tcase_add_test(tc, store_keys);
	tcase_add_test(tc, store_put_get_and_transactions);
	tcase_add_test(tc, store_survives_reopen);
	tcase_add_test(tc, store_writers_queue_on_one_lock);
	tcase_add_test(tc, store_scans_stay_in_their_prefix);
	tcase_add_test(tc, store_reverse_scan_after_ff);
	suite_add_tcase(s, tc);

	tc = tcase_create("apikey");
	tcase_add_checked_fixture(tc, store_setup, store_teardown);
	tcase_add_test(tc, apikey_format_and_record);
	tcase_add_test(tc, apikey_lifecycle);
	tcase_add_test(tc, apikey_expiry);
	tcase_add_test(tc, apikey_cache_follows_the_record);
	tcase_add_test(tc, apikey_pepper_verifier);
	tcase_add_test(tc, apikey_argon2_budget);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("audit");
	tcase_add_checked_fixture(tc, store_setup, store_teardown);
	tcase_add_test(tc, audit_chain_verifies);
	tcase_add_test(tc, audit_chain_empty_verifies);
	tcase_add_test(tc, audit_detects_an_altered_event);
	tcase_add_test(tc, audit_detects_a_rehashed_event);
	tcase_add_test(tc, audit_detects_a_deleted_event);
	tcase_add_test(tc, audit_detects_a_tampered_log_node);
	tcase_add_test(tc, audit_event_hash_checks);
	tcase_add_test(tc, audit_events_hash_their_jcs_form);
	tcase_add_test(tc, audit_queries_walk_the_tenant_index);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("tlog");
	tcase_add_checked_fixture(tc, store_setup, store_teardown);
	tcase_add_test(tc, tlog_root_matches_the_events);
	tcase_add_test(tc, tlog_head_signature);
	tcase_add_test(tc, tlog_receipts_verify_offline);
	tcase_add_test(tc, receipt_ids);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("ratelimit");
	tcase_add_checked_fixture(tc, store_setup, store_teardown);
	tcase_add_test(tc, rate_limit_burst_then_refuse);
	tcase_add_test(tc, rate_limit_refills_with_time);
	tcase_set_timeout(tc, 30);   /* it sleeps ~3 s; durable commits on a busy box */
	suite_add_tcase(s, tc);

	tc = tcase_create("idempotency");
	tcase_add_checked_fixture(tc, store_setup, store_teardown);
	tcase_add_test(tc, idempotency_key_syntax);
	tcase_add_test(tc, idempotency_fingerprints);
	tcase_add_test(tc, idempotency_replays_the_first_response);
	tcase_add_test(tc, idempotency_withholds_secrets);
	suite_add_tcase(s, tc);

	tc = tcase_create("generation");
	tcase_add_checked_fixture(tc, store_setup, store_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, generation_counts_watched_writes);
	tcase_add_test(tc, store_reads_follow_every_write);
	tcase_add_test(tc, envlock_fences_a_forced_recovery);
	tcase_add_test(tc, watchdog_ends_stuck_work_only);
	tcase_add_test(tc, a_zombie_is_not_alive);
	tcase_add_test(tc, gate_sees_every_write_at_once);
	suite_add_tcase(s, tc);

	tc = tcase_create("jsoncache");
	tcase_add_test(tc, jsoncache_shares_identical_bytes_only);
	tcase_add_test(tc, jsonout_writes_what_jansson_writes);
	tcase_add_test(tc, jsonout_writes_shortest_reals);
	tcase_add_test(tc, jcs_writes_rfc8785_examples);
	tcase_add_test(tc, jcs_numbers_as_ecmascript);
	tcase_add_test(tc, webhook_signature_matches_the_spec);
	tcase_add_test(tc, webhook_destinations_classified);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	if (sodium_init() < 0)
		return 99;
	sr = srunner_create(lib_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
