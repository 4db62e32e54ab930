/*
 * test_lib.c - unit tests of the shared library (lib/), one test case per
 * library file: clock, ids, request parsing and limits, validation rules,
 * router, scopes, conf, store, API keys, audit chain, transparency log,
 * rate limits and idempotency keys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <sodium.h>

#include "apikey.h"
#include "audit.h"
#include "clock.h"
#include "conf.h"
#include "idempotency.h"
#include "ids.h"
#include "merkle.h"
#include "ratelimit.h"
#include "request.h"
#include "router.h"
#include "scope.h"
#include "store.h"
#include "tlog.h"
#include "validate.h"

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
}
END_TEST

START_TEST(clock_parses_zones_and_fractions)
{
	int64_t ms;

	ck_assert_int_eq(clock_parse("2026-04-18T17:00:00Z", &ms), 0);
	ck_assert_int_eq(ms, 1776531600000LL);
	ck_assert_int_eq(clock_parse("2026-04-18T17:00:00.5Z", &ms), 0);
	ck_assert_int_eq(ms, 1776531600500LL);
	ck_assert_int_eq(clock_parse("2026-04-18T19:00:00+02:00", &ms), 0);
	ck_assert_int_eq(ms, 1776531600000LL);
	ck_assert_int_eq(clock_parse("2026-04-18T16:30:00-00:30", &ms), 0);
	ck_assert_int_eq(ms, 1776531600000LL);
}
END_TEST

START_TEST(clock_refuses_garbage)
{
	static const char *const bad[] = {
		"", "yesterday", "2026-04-18", "2026-04-18T17:00:00",
		"2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
		"2026-04-18T25:00:00Z", "2026-04-18T17:00:00ZZ",
		"2026-04-18T17:00:00+2", "2026-04-18T17:00Z",
	};
	int64_t ms;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(clock_parse(bad[i], &ms) != 0, "accepted '%s'", bad[i]);
}
END_TEST

/*
 * ids
 */
START_TEST(ids_have_their_shapes)
{
	char a[ID_SIZE], b[ID_SIZE], uuid[37], ulid[27];

	id_random_hex(a, sizeof(a), "evt_", 12);
	id_random_hex(b, sizeof(b), "evt_", 12);
	ck_assert_uint_eq(strlen(a), 4 + 24);
	ck_assert(strncmp(a, "evt_", 4) == 0);
	ck_assert_uint_eq(strspn(a + 4, "0123456789abcdef"), 24);
	ck_assert_str_ne(a, b);

	id_uuid4(uuid);
	ck_assert_uint_eq(strlen(uuid), 36);
	ck_assert(uuid[8] == '-' && uuid[13] == '-' && uuid[18] == '-' && uuid[23] == '-');
	ck_assert_int_eq(uuid[14], '4');
	ck_assert(strchr("89ab", uuid[19]) != NULL);

	id_ulid(ulid);
	ck_assert_uint_eq(strlen(ulid), 26);
	ck_assert_uint_eq(strspn(ulid, "0123456789ABCDEFGHJKMNPQRSTVWXYZ"), 26);
}
END_TEST

/*
 * request
 */
START_TEST(url_decoding)
{
	char out[64];

	ck_assert_int_ge(url_decode("a%20b+c", 7, out, sizeof(out), 1), 0);
	ck_assert_str_eq(out, "a b c");
	ck_assert_int_ge(url_decode("a+b", 3, out, sizeof(out), 0), 0);
	ck_assert_str_eq(out, "a+b");
	ck_assert_int_lt(url_decode("%zz", 3, out, sizeof(out), 1), 0);
	ck_assert_int_lt(url_decode("%4", 2, out, sizeof(out), 1), 0);
	ck_assert_int_lt(url_decode("a%00b", 5, out, sizeof(out), 1), 0);
	ck_assert_int_lt(url_decode("abcdef", 6, out, 4, 1), 0);
}
END_TEST

START_TEST(query_parameters)
{
	struct problem p;
	char buf[64];
	long v;

	ck_assert_int_eq(query_get("target_type=agent&target_id=rogue%2Dbot", "target_id",
	    buf, sizeof(buf)), 1);
	ck_assert_str_eq(buf, "rogue-bot");
	ck_assert_int_eq(query_get("target_idx=1", "target_id", buf, sizeof(buf)), 0);
	ck_assert_int_eq(query_get("", "x", buf, sizeof(buf)), 0);

	ck_assert_int_eq(query_long("limit=50", "limit", 100, 1, 1000, &v, &p), 0);
	ck_assert_int_eq(v, 50);
	ck_assert_int_eq(query_long("skip=0", "limit", 100, 1, 1000, &v, &p), 0);
	ck_assert_int_eq(v, 100);
	ck_assert_int_ne(query_long("limit=0", "limit", 100, 1, 1000, &v, &p), 0);
	ck_assert_int_eq(p.status, 400);
	ck_assert_str_eq(p.field, "limit");
	ck_assert_int_ne(query_long("limit=1001", "limit", 100, 1, 1000, &v, &p), 0);
	ck_assert_int_ne(query_long("limit=abc", "limit", 100, 1, 1000, &v, &p), 0);
	ck_assert_int_ne(query_long("limit=10x", "limit", 100, 1, 1000, &v, &p), 0);
	ck_assert_int_ne(query_long("limit=+5", "limit", 100, 1, 1000, &v, &p), 0);
	ck_assert_int_ne(query_long("limit=99999999999999999999", "limit", 100, 1, 1000, &v, &p), 0);
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
	struct request r;
	struct problem p;

	ck_assert_int_eq(read_body("{\"a\":1}", 7, 16, &p, &r), 0);
	ck_assert_uint_eq(r.body_len, 7);
	ck_assert_str_eq(r.body, "{\"a\":1}");
	request_free(&r);

	/* declared over the limit: refused before reading */
	ck_assert_int_ne(read_body("0123456789abcdefX", 17, 16, &p, &r), 0);
	ck_assert_int_eq(p.status, 413);
	request_free(&r);

	/* exactly the limit is accepted */
	ck_assert_int_eq(read_body("0123456789abcdef", 16, 16, &p, &r), 0);
	request_free(&r);

	/* no Content-Length (chunked): counted while reading */
	ck_assert_int_ne(read_body("0123456789abcdefX0123456789", -1, 16, &p, &r), 0);
	ck_assert_int_eq(p.status, 413);
	request_free(&r);
	ck_assert_int_eq(read_body("short", -1, 16, &p, &r), 0);
	ck_assert_str_eq(r.body, "short");
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
};
static const struct body_spec test_body = BODY_SPEC(test_fields);

/* Validates text; returns the problem code ("" when valid). */
static const char *
verdict(const char *text, struct problem *p)
{
	json_t *body = parse_json_body(text, strlen(text), p);
	int rc;

	if (body == NULL)
		return p->code;
	rc = validate_body(body, &test_body, p);
	json_decref(body);
	return rc == 0 ? "" : p->code;
}

START_TEST(validation_rules)
{
	struct problem p;

	ck_assert_str_eq(verdict("{\"name\":\"abc\"}", &p), "");
	ck_assert_str_eq(verdict("{\"name\":\"abc\",\"colour\":\"red\",\"note\":null,"
	    "\"count\":5,\"score\":0.5,\"flag\":true,\"meta\":{\"a\":1},"
	    "\"tags\":[\"red\",\"green\"]}", &p), "");

	ck_assert_str_eq(verdict("{\"name\":\"abc\",\"nmae\":1}", &p), "unknown_field");
	ck_assert_str_eq(p.field, "nmae");
	ck_assert(strstr(p.detail, "nmae") != NULL);
	ck_assert_int_eq(p.status, 400);

	ck_assert_str_eq(verdict("{}", &p), "missing_field");
	ck_assert_str_eq(p.field, "name");
	ck_assert_str_eq(verdict("{\"name\":\"\"}", &p), "empty_field");
	ck_assert_str_eq(verdict("{\"name\":\"   \"}", &p), "empty_field");
	ck_assert_str_eq(verdict("{\"name\":\"a\\u0001b\"}", &p), "invalid_field");
	ck_assert_str_eq(verdict("{\"name\":\"a\\u007fb\"}", &p), "invalid_field");

	/* lengths are code points, not bytes */
	ck_assert_str_eq(verdict("{\"name\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}", &p), "");
	ck_assert_str_eq(verdict("{\"name\":\"abcdef\"}", &p), "field_too_long");
	ck_assert_str_eq(p.field, "name");

	ck_assert_str_eq(verdict("{\"name\":7}", &p), "invalid_type");
	ck_assert_str_eq(verdict("{\"name\":null}", &p), "invalid_type");
	ck_assert_str_eq(verdict("{\"name\":\"a\",\"count\":\"5\"}", &p), "invalid_type");
	ck_assert_str_eq(verdict("{\"name\":\"a\",\"count\":2.5}", &p), "invalid_type");
	ck_assert_str_eq(verdict("{\"name\":\"a\",\"count\":6}", &p), "invalid_field");
	ck_assert_str_eq(verdict("{\"name\":\"a\",\"count\":0}", &p), "invalid_field");
	ck_assert_str_eq(verdict("{\"name\":\"a\",\"score\":1.5}", &p), "invalid_field");
	ck_assert_str_eq(verdict("{\"name\":\"a\",\"score\":\"x\"}", &p), "invalid_type");
	ck_assert_str_eq(verdict("{\"name\":\"a\",\"flag\":1}", &p), "invalid_type");
	ck_assert_str_eq(verdict("{\"name\":\"a\",\"meta\":[]}", &p), "invalid_type");
	ck_assert_str_eq(verdict("{\"name\":\"a\",\"meta\":{\"long\":\"xxxxxxxxxxxx\"}}", &p),
	    "field_too_long");
	ck_assert_str_eq(verdict("{\"name\":\"a\",\"tags\":\"red\"}", &p), "invalid_type");
	ck_assert_str_eq(verdict("{\"name\":\"a\",\"tags\":[1]}", &p), "invalid_type");
	ck_assert_str_eq(verdict("{\"name\":\"a\",\"tags\":[\"blue\"]}", &p), "invalid_field");
	ck_assert_str_ne(verdict("{\"name\":\"a\",\"tags\":[\"red\",\"red\",\"red\"]}", &p), "");
	ck_assert_str_eq(verdict("{\"name\":\"a\",\"colour\":\"blue\"}", &p), "invalid_field");
	ck_assert_str_eq(verdict("{\"name\":\"a\",\"note\":\"abcd\"}", &p), "field_too_long");
}
END_TEST

START_TEST(json_body_parsing)
{
	struct problem p;
	json_t *v;

	v = parse_json_body("", 0, &p);
	ck_assert(json_is_object(v) && json_object_size(v) == 0);
	json_decref(v);
	ck_assert_ptr_null(parse_json_body("{\"a\":", 5, &p));
	ck_assert_str_eq(p.code, "invalid_json");
	ck_assert_ptr_null(parse_json_body("[1]", 3, &p));
	ck_assert_str_eq(p.code, "invalid_json");
	ck_assert(strstr(p.detail, "object") != NULL);
	ck_assert_ptr_null(parse_json_body("\"x\"", 3, &p));
	ck_assert(strstr(p.detail, "object") != NULL);
	ck_assert_ptr_null(parse_json_body("{\"a\":\"\xff\"}", 8, &p));
	ck_assert_str_eq(p.code, "invalid_utf8");
	ck_assert_ptr_null(parse_json_body("{\"a\":1,\"a\":2}", 13, &p));
	ck_assert_str_eq(p.code, "invalid_json");
	ck_assert_uint_eq(utf8_length("\xc3\xa9t\xc3\xa9"), 3);
	ck_assert(text_blank(" \t\n"));
	ck_assert(!text_blank(" x "));
	ck_assert(text_printable("plain text, \xc3\xa9"));
	ck_assert(!text_printable("bell\a"));
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
};

START_TEST(routing)
{
	const struct route *found;
	const char *params[REQUEST_MAX_PARAMS];
	char buf[256], allow[128];
	size_t n = sizeof(test_routes) / sizeof(test_routes[0]);

	ck_assert_int_eq(router_find(test_routes, n, "GET", "/v1/things/abc", &found,
	    params, REQUEST_MAX_PARAMS, buf, sizeof(buf), allow, sizeof(allow)), ROUTE_FOUND);
	ck_assert_ptr_eq(found, &test_routes[2]);
	ck_assert_str_eq(params[0], "abc");
	ck_assert_int_eq(router_find(test_routes, n, "POST", "/v1/things/a/parts/b", &found,
	    params, REQUEST_MAX_PARAMS, buf, sizeof(buf), allow, sizeof(allow)), ROUTE_FOUND);
	ck_assert_str_eq(params[0], "a");
	ck_assert_str_eq(params[1], "b");
	ck_assert_int_eq(router_find(test_routes, n, "PUT", "/v1/things/abc", &found,
	    params, REQUEST_MAX_PARAMS, buf, sizeof(buf), allow, sizeof(allow)), ROUTE_NO_METHOD);
	ck_assert(strstr(allow, "GET") && strstr(allow, "DELETE") && strstr(allow, "HEAD") &&
	    strstr(allow, "OPTIONS"));
	ck_assert(strstr(allow, "POST") == NULL);
	ck_assert_int_eq(router_find(test_routes, n, "GET", "/v1/thing", &found,
	    params, REQUEST_MAX_PARAMS, buf, sizeof(buf), allow, sizeof(allow)), ROUTE_NO_PATH);
	ck_assert_int_eq(router_find(test_routes, n, "GET", "/v1/things/a/b", &found,
	    params, REQUEST_MAX_PARAMS, buf, sizeof(buf), allow, sizeof(allow)), ROUTE_NO_PATH);
	/* an empty {id} segment is no match; one trailing slash is tolerated */
	ck_assert_int_eq(router_find(test_routes, n, "POST", "/v1/things//parts/x", &found,
	    params, REQUEST_MAX_PARAMS, buf, sizeof(buf), allow, sizeof(allow)), ROUTE_NO_PATH);
	ck_assert_int_eq(router_find(test_routes, n, "GET", "/v1/things/", &found,
	    params, REQUEST_MAX_PARAMS, buf, sizeof(buf), allow, sizeof(allow)), ROUTE_FOUND);
	ck_assert_ptr_eq(found, &test_routes[1]);
}
END_TEST

/*
 * scope
 */
START_TEST(scopes)
{
	json_t *names;

	ck_assert_uint_eq(scope_from_name("killswitch:check"), SCOPE_KILLSWITCH_CHECK);
	ck_assert_uint_eq(scope_from_name("nope"), 0);
	ck_assert((scope_from_name("*") & SCOPE_PLATFORM_ADMIN) == 0);
	ck_assert((scope_from_name("*") & SCOPE_KEYS_ADMIN) != 0);
	names = json_pack("[s,s]", "agents:read", "platform:admin");
	ck_assert_int_eq(scope_mask_from_json(names), SCOPE_AGENTS_READ | SCOPE_PLATFORM_ADMIN);
	json_decref(names);
	names = json_pack("[s,s]", "agents:read", "agents:teleport");
	ck_assert_int_lt(scope_mask_from_json(names), 0);
	json_decref(names);
	ck_assert_str_eq(scope_name(SCOPE_KILLSWITCH_WRITE), "killswitch:write");
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
	conf_defaults(c);
	rc = conf_load(c, path, err, errlen);
	unlink(path);
	return rc;
}

START_TEST(conf_file)
{
	struct conf c;
	char err[256];

	unsetenv("ANDON_DATA");
	ck_assert_int_eq(load_conf_text("# comment\nmax_body = 1024\n\nargon2_t_cost=3\n"
	    "audit_jsonl = /tmp/x.jsonl\n", &c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.max_body, 1024);
	ck_assert_uint_eq(c.argon2_t_cost, 3);
	ck_assert_uint_eq(c.rate_limit_per_minute, 30);
	ck_assert_str_eq(c.audit_jsonl, "/tmp/x.jsonl");

	ck_assert_int_ne(load_conf_text("max_bodyy = 1\n", &c, err, sizeof(err)), 0);
	ck_assert(strstr(err, "max_bodyy") != NULL);
	ck_assert_int_ne(load_conf_text("max_body = lots\n", &c, err, sizeof(err)), 0);
	ck_assert_int_ne(load_conf_text("max_body = -1\n", &c, err, sizeof(err)), 0);
	ck_assert_int_ne(load_conf_text("max_body\n", &c, err, sizeof(err)), 0);

	setenv("ANDON_DATA", "/srv/andon", 1);
	ck_assert_int_eq(load_conf_text("data_dir = /var/lib/andon\n", &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.data_dir, "/srv/andon");
	unsetenv("ANDON_DATA");
}
END_TEST

/*
 * store
 */
static int
count_scan(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	char *seen = arg;

	(void)klen;
	(void)vlen;
	(void)val;
	strncat(seen, (const char *)key + klen - 1, 1);
	return 0;
}

static int
put_three(DB_TXN *txn, void *arg)
{
	char key[64];
	int rc;

	(void)arg;
	for (int i = 1; i <= 3; i++) {
		char suffix[2] = { (char)('0' + i), 0 };

		store_key(key, sizeof(key), "tenant-a", suffix, NULL);
		if ((rc = store_put(txn, T_META, key, strlen(key), "x", 1, 0)) != 0)
			return rc;
	}
	store_key(key, sizeof(key), "tenant-ab", "9", NULL);
	return store_put(txn, T_META, key, strlen(key), "x", 1, 0);
}

START_TEST(store_keys_and_scans)
{
	char prefix[64], seen[16] = "";
	int len;
	void *val;
	size_t vlen;

	len = store_key(prefix, sizeof(prefix), "a", "b", "c", NULL);
	ck_assert_int_eq(len, 5);
	ck_assert_mem_eq(prefix, "a\x1f" "b\x1f" "c", 5);
	ck_assert_int_lt(store_key(prefix, 4, "abc", "def", NULL), 0);

	ck_assert_int_eq(store_run(put_three, NULL), 0);
	len = store_key(prefix, sizeof(prefix), "tenant-a", "", NULL);
	ck_assert_int_eq(store_scan(NULL, T_META, prefix, (size_t)len, 0, count_scan, seen), 0);
	ck_assert_str_eq(seen, "123");   /* tenant-ab's record is not under tenant-a */
	seen[0] = '\0';
	ck_assert_int_eq(store_scan(NULL, T_META, prefix, (size_t)len, 1, count_scan, seen), 0);
	ck_assert_str_eq(seen, "321");
	ck_assert_int_eq(store_get(NULL, T_META, "nothing", 7, &val, &vlen, 0), DB_NOTFOUND);
}
END_TEST

/*
 * apikey
 */
struct key_job {
	struct conf conf;
	json_t *scopes;
	int64_t expires_ms;
	char secret[APIKEY_TEXT_SIZE];
	char key_id[32];
};

static int
create_key_txn(DB_TXN *txn, void *arg)
{
	struct key_job *j = arg;
	json_t *rec = NULL;
	int rc = apikey_create(txn, &j->conf, "org_test", "unit", j->scopes,
	    j->expires_ms, NULL, j->secret, &rec);

	if (rc == 0) {
		snprintf(j->key_id, sizeof(j->key_id), "%s",
		    json_string_value(json_object_get(rec, "id")));
		ck_assert_ptr_null(json_object_get(rec, "hash"));
	}
	json_decref(rec);
	return rc;
}

static int
revoke_key_txn(DB_TXN *txn, void *arg)
{
	return apikey_revoke(txn, "org_test", arg, NULL);
}

static void
new_key(struct key_job *j, int64_t expires_ms)
{
	memset(j, 0, sizeof(*j));
	conf_defaults(&j->conf);
	j->conf.argon2_t_cost = 1;
	j->conf.argon2_m_cost_kib = 64;
	j->scopes = json_pack("[s]", "killswitch:check");
	j->expires_ms = expires_ms;
	ck_assert_int_eq(store_run(create_key_txn, j), 0);
	json_decref(j->scopes);
}

START_TEST(apikey_lifecycle)
{
	struct principal who;
	struct problem p;
	struct key_job j;
	char wrong[APIKEY_TEXT_SIZE];
	unsigned long calls;

	new_key(&j, 0);
	ck_assert_uint_eq(strlen(j.secret), 6 + 16 + 1 + 43);
	ck_assert(strncmp(j.secret, "andon_", 6) == 0);

	calls = apikey_argon2_calls();
	ck_assert_int_eq(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);
	ck_assert_str_eq(who.tenant, "org_test");
	ck_assert_str_eq(who.key_id, j.key_id);
	ck_assert_uint_eq(who.scopes, SCOPE_KILLSWITCH_CHECK);
	ck_assert_uint_eq(apikey_argon2_calls(), calls + 1);
	/* the second request is served by the cache: no Argon2 */
	ck_assert_int_eq(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);
	ck_assert_uint_eq(apikey_argon2_calls(), calls + 1);

	/* a wrong secret with the right key id is refused, cache or not */
	snprintf(wrong, sizeof(wrong), "%s", j.secret);
	wrong[strlen(wrong) - 1] = wrong[strlen(wrong) - 1] == 'A' ? 'B' : 'A';
	ck_assert_int_ne(apikey_authenticate(&j.conf, wrong, &who, &p), 0);
	ck_assert_int_eq(p.status, 401);
	ck_assert_int_ne(apikey_authenticate(&j.conf, "andon_zz", &who, &p), 0);
	ck_assert_int_ne(apikey_authenticate(&j.conf, "", &who, &p), 0);
	/* the right secret still works after a wrong one */
	ck_assert_int_eq(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);

	/* revoked: refused on the very next request although cached */
	ck_assert_int_eq(store_run(revoke_key_txn, j.key_id), 0);
	ck_assert_int_ne(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);
	ck_assert_int_eq(p.status, 401);
	ck_assert_int_eq(store_run(revoke_key_txn, j.key_id), DB_KEYEXIST);
}
END_TEST

START_TEST(apikey_expiry)
{
	struct principal who;
	struct problem p;
	struct key_job j;

	new_key(&j, clock_now_ms() + 1500);
	ck_assert_int_eq(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);
	usleep(1600 * 1000);
	ck_assert_int_ne(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);
	ck_assert(strstr(p.detail, "expired") != NULL);
}
END_TEST

/*
 * audit and transparency log
 */
static int
append_events(DB_TXN *txn, void *arg)
{
	int n = *(int *)arg, rc;
	char receipt[64], target[16];

	for (int i = 0; i < n; i++) {
		snprintf(target, sizeof(target), "t-%d", i);
		struct audit_entry e = { i % 2 ? "org_a" : "org_b", "killswitch.activated",
		    NULL, NULL, "agent", target, "unit test", NULL };
		if ((rc = audit_append(txn, &e, receipt, sizeof(receipt))) != 0)
			return rc;
		ck_assert(strncmp(receipt, "rcpt_", 5) == 0);
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
	audit_flush_pending();
}

START_TEST(audit_chain_detects_tampering)
{
	unsigned char key[8];
	uint64_t events;
	char why[256], *text;
	json_t *event;

	append_n(7);
	ck_assert_int_eq(audit_verify_all(&events, why, sizeof(why)), 0);
	ck_assert_uint_eq(events, 7);

	/* rewrite the reason of event 3, keeping everything else */
	ck_assert_int_eq(audit_get(NULL, 3, &event), 0);
	ck_assert(audit_event_hash_ok(event));
	json_object_set_new(event, "reason", json_string("nothing to see"));
	ck_assert(!audit_event_hash_ok(event));
	text = json_dumps(event, JSON_COMPACT);
	store_u64_be(key, 3);
	ck_assert_int_eq(store_put(NULL, T_AUDIT, key, 8, text, strlen(text), 0), 0);
	free(text);
	json_decref(event);
	ck_assert_int_ne(audit_verify_all(&events, why, sizeof(why)), 0);
}
END_TEST

START_TEST(audit_chain_detects_a_deleted_event)
{
	unsigned char key[8];
	uint64_t events;
	char why[256];

	append_n(5);
	store_u64_be(key, 2);
	ck_assert_int_eq(store_del(NULL, T_AUDIT, key, 8), 0);
	ck_assert_int_ne(audit_verify_all(&events, why, sizeof(why)), 0);
}
END_TEST

START_TEST(tlog_root_matches_the_events)
{
	merkle_hash leaves[9], root, level[9];
	uint64_t size;
	json_t *event;

	append_n(9);
	ck_assert_int_eq(tlog_size(NULL, &size), 0);
	ck_assert_uint_eq(size, 9);
	for (uint64_t i = 0; i < 9; i++) {
		char *canon;

		ck_assert_int_eq(audit_get(NULL, i + 1, &event), 0);
		canon = tlog_canonical(event);
		merkle_leaf_hash(canon, strlen(canon), leaves[i]);
		free(canon);
		json_decref(event);
	}
	/* RFC 9162 MTH of 9 leaves: MTH(0..8) = H(MTH(0..8 of 8), leaf 8) */
	memcpy(level, leaves, sizeof(leaves));
	for (size_t n = 8; n > 1; n /= 2)
		for (size_t i = 0; i < n / 2; i++)
			merkle_node_hash(level[2 * i], level[2 * i + 1], level[i]);
	merkle_node_hash(level[0], leaves[8], level[0]);
	ck_assert_int_eq(tlog_root(NULL, 9, root), 0);
	ck_assert_mem_eq(root, level[0], MERKLE_HASH_SIZE);
}
END_TEST

START_TEST(tlog_head_signature)
{
	unsigned char pk[32], msg[50], sig[64];
	merkle_hash root;
	json_t *sth;
	size_t len;

	append_n(3);
	ck_assert_int_eq(tlog_public_key(pk), 0);
	ck_assert_int_eq(tlog_signed_head(3, &sth), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(sth, "tree_size")), 3);
	ck_assert_int_eq(sodium_base642bin(sig, sizeof(sig),
	    json_string_value(json_object_get(sth, "signature")),
	    strlen(json_string_value(json_object_get(sth, "signature"))), NULL, &len, NULL,
	    sodium_base64_VARIANT_ORIGINAL), 0);
	ck_assert_uint_eq(len, 64);
	ck_assert_int_eq(tlog_root(NULL, 3, root), 0);
	tlog_head_message(msg, json_integer_value(json_object_get(sth, "timestamp")), 3, root);
	ck_assert_int_eq(crypto_sign_verify_detached(sig, msg, sizeof(msg), pk), 0);
	msg[49] ^= 1;
	ck_assert_int_ne(crypto_sign_verify_detached(sig, msg, sizeof(msg), pk), 0);
	json_decref(sth);
}
END_TEST

START_TEST(receipt_ids)
{
	char id[TLOG_RECEIPT_ID_SIZE];
	uint64_t index;

	tlog_receipt_id(42, id);
	ck_assert_int_eq(tlog_parse_receipt_id(id, &index), 0);
	ck_assert_uint_eq(index, 42);
	ck_assert_int_ne(tlog_parse_receipt_id("rcpt_", &index), 0);
	ck_assert_int_ne(tlog_parse_receipt_id("rcpt_xyz", &index), 0);
	ck_assert_int_ne(tlog_parse_receipt_id("evt_0000000000000001", &index), 0);
}
END_TEST

/*
 * rate limit and idempotency keys
 */
static int
spend_token(DB_TXN *txn, void *arg)
{
	return ratelimit_spend(txn, arg, "admin", 3, 3);
}

START_TEST(rate_limit_bucket)
{
	int retry = 0;

	for (int i = 0; i < 3; i++) {
		ck_assert(ratelimit_check("key_unit", "admin", 3, 3, &retry));
		ck_assert_int_eq(store_run(spend_token, "key_unit"), 0);
	}
	ck_assert(!ratelimit_check("key_unit", "admin", 3, 3, &retry));
	ck_assert_int_ge(retry, 1);
	ck_assert_int_le(retry, 20);
	/* other keys and other buckets are independent */
	ck_assert(ratelimit_check("key_other", "admin", 3, 3, &retry));
	ck_assert(ratelimit_check("key_unit", "check", 3, 3, &retry));
}
END_TEST

START_TEST(idempotency_key_syntax)
{
	char key[300];

	ck_assert(idem_key_valid("k-1"));
	ck_assert(idem_key_valid("a b"));
	ck_assert(!idem_key_valid(""));
	ck_assert(!idem_key_valid("tab\there"));
	ck_assert(!idem_key_valid("new\nline"));
	ck_assert(!idem_key_valid("caf\xc3\xa9"));
	memset(key, 'k', 255);
	key[255] = '\0';
	ck_assert(idem_key_valid(key));
	key[255] = 'k';
	key[256] = '\0';
	ck_assert(!idem_key_valid(key));
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
	tcase_add_test(tc, clock_refuses_garbage);
	suite_add_tcase(s, tc);

	tc = tcase_create("ids");
	tcase_add_test(tc, ids_have_their_shapes);
	suite_add_tcase(s, tc);

	tc = tcase_create("request");
	tcase_add_test(tc, url_decoding);
	tcase_add_test(tc, query_parameters);
	tcase_add_test(tc, body_limits);
	suite_add_tcase(s, tc);

	tc = tcase_create("validate");
	tcase_add_test(tc, validation_rules);
	tcase_add_test(tc, json_body_parsing);
	suite_add_tcase(s, tc);

	tc = tcase_create("router");
	tcase_add_test(tc, routing);
	suite_add_tcase(s, tc);

	tc = tcase_create("scope");
	tcase_add_test(tc, scopes);
	suite_add_tcase(s, tc);

	tc = tcase_create("conf");
	tcase_add_test(tc, conf_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("store");
	tcase_add_checked_fixture(tc, store_setup, store_teardown);
	tcase_add_test(tc, store_keys_and_scans);
	tcase_add_test(tc, rate_limit_bucket);
	tcase_add_test(tc, idempotency_key_syntax);
	suite_add_tcase(s, tc);

	tc = tcase_create("apikey");
	tcase_add_checked_fixture(tc, store_setup, store_teardown);
	tcase_add_test(tc, apikey_lifecycle);
	tcase_add_test(tc, apikey_expiry);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("audit");
	tcase_add_checked_fixture(tc, store_setup, store_teardown);
	tcase_add_test(tc, audit_chain_detects_tampering);
	tcase_add_test(tc, audit_chain_detects_a_deleted_event);
	tcase_add_test(tc, tlog_root_matches_the_events);
	tcase_add_test(tc, tlog_head_signature);
	tcase_add_test(tc, receipt_ids);
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
