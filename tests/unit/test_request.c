/* test_request.c - unit tests of lib/request.c (Check). */
#include "problem.h"
#include "request.h"
#include "server.h"
#include "unit.h"

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

UNIT_MAIN("request", 0, url_decoding, query_parameters, query_numbers,
    request_from_parameters, request_credentials, body_limits)
