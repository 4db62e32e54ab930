/*
 * fuzz_family.c - one family's request path, without the database: the
 * FastCGI/CGI parameters into struct request (request_parse), the body
 * read, the route table (router_find), the JSON body parse and the
 * family's own body description (validate_body), the query parameters
 * and the Idempotency-Key check.  Built once per family, with that
 * family's cgi-bin source compiled in (FAMILY_SOURCE, its main renamed),
 * so its field tables and route table are the ones that ship.
 *
 * Input: parameter lines "NAME=VALUE" up to an empty line, then the body
 * (tests/fuzz/corpus/<family>/ holds the tests' own requests in this
 * form).
 *
 * Properties: every refusal is a 4xx problem with a code and a detail;
 * an accepted body is an object that validates again the same way (no
 * state); the decoded path is a C string of printable characters and
 * slashes; an accepted Idempotency-Key is printable ASCII.
 */
#include <stdlib.h>
#include <string.h>

#define main family_main
#include FAMILY_SOURCE
#undef main

#include "fuzz.h"
#include "idempotency.h"

#define FUZZ_MAX_PARAMS 64
#define FUZZ_MAX_BODY (64 * 1024)

struct fuzz_input {
	const uint8_t *body;
	size_t left;
};

static long
fuzz_read_body(void *ctx, char *buf, size_t len)
{
	struct fuzz_input *in = ctx;
	size_t n = len < in->left ? len : in->left;

	memcpy(buf, in->body, n);
	in->body += n;
	in->left -= n;
	return (long)n;
}

static void
fuzz_refused_well(const struct problem *p)
{
	if (getenv("FUZZ_VERBOSE"))         /* to see why seeds are refused */
		fprintf(stderr, "refused: %d %s: %s\n", p->status,
		    p->code ? p->code : "-", p->detail);
	FUZZ_ASSERT(p->status >= 400 && p->status <= 499);
	FUZZ_ASSERT(p->code != NULL && p->code[0] != '\0');
	FUZZ_ASSERT(p->detail[0] != '\0');
}

static void
fuzz_check_body(const struct route *route, const struct request *r)
{
	struct problem p;
	json_t *body;
	int first;

	memset(&p, 0, sizeof(p));
	if ((body = parse_json_body(r->body, r->body_len, &p)) == NULL) {
		fuzz_refused_well(&p);
		return;
	}
	FUZZ_ASSERT(json_is_object(body));
	first = validate_body(body, route->body, &p);
	if (first != 0)
		fuzz_refused_well(&p);
	else {
		struct problem again;

		memset(&again, 0, sizeof(again));
		FUZZ_ASSERT(validate_body(body, route->body, &again) == 0);
	}
	(void)body_names_flagged(body, route->body, FIELD_RATE_LIMITED);
	json_decref(body);
}

static void
fuzz_check_query(const struct request *r)
{
	static const char *const names[] = { "limit", "skip", "type", "target_type",
	    "target_id", "agent_id", "since", "until", "after_seq", "status", NULL };
	struct problem p;
	char buf[300];
	long v;

	for (const char *const *n = names; *n; n++)
		if (query_get(r->query, *n, buf, sizeof(buf)) == 1)
			FUZZ_ASSERT(strlen(buf) < sizeof(buf));
	(void)query_long(r->query, "limit", 50, 1, 1000, &v, &p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *envp[FUZZ_MAX_PARAMS + 1], *line;
	const char *params[REQUEST_MAX_PARAMS];
	char parambuf[REQUEST_PATH_MAX];
	const struct route *route;
	struct request r;
	struct request_io io;
	struct problem p;
	struct fuzz_input in;
	size_t count = 0, used = 0;

	FUZZ_CANARY(data, size);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	/* the parameters, up to an empty line; the rest is the body */
	for (line = text; count < FUZZ_MAX_PARAMS && used < size; ) {
		char *nl = memchr(line, '\n', size - used);

		if (nl == NULL || nl == line) {
			used += nl ? 1 : 0;
			break;
		}
		*nl = '\0';
		envp[count++] = line;
		used += (size_t)(nl - line) + 1;
		line = nl + 1;
	}
	envp[count] = NULL;
	in.body = data + used;
	in.left = size - used;
	memset(&r, 0, sizeof(r));
	memset(&p, 0, sizeof(p));
	io.ctx = &in;
	io.read = fuzz_read_body;
	io.envp = envp;
	if (request_parse(&r, &io, &p) != 0) {
		fuzz_refused_well(&p);
		goto out;
	}
	FUZZ_ASSERT(memchr(r.path, '\0', sizeof(r.path)) != NULL);
	if (r.idempotency_key && idem_key_valid(r.idempotency_key))
		FUZZ_ASSERT(strlen(r.idempotency_key) <= 255);
	fuzz_check_query(&r);
	if (request_read_body(&r, FUZZ_MAX_BODY, &p) != 0) {
		fuzz_refused_well(&p);
		goto out;
	}
	if (r.method != NULL && router_find(routes, sizeof(routes) / sizeof(routes[0]),
	    r.method, r.path, &route, params, REQUEST_MAX_PARAMS, parambuf,
	    sizeof(parambuf)) == ROUTE_FOUND && route->body != NULL)
		fuzz_check_body(route, &r);
out:
	request_free(&r);
	free(text);
	return 0;
}
