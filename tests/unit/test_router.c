/* test_router.c - unit tests of lib/router.c (Check). */
#include "request.h"
#include "router.h"
#include "server.h"
#include "unit.h"

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

UNIT_MAIN("router", 0, routing_matches_patterns, routing_404_and_405)
