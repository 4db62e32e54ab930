/*
 * audit.c - the audit family: the audit trail's reads and exports,
 * transparency-log receipts, signed tree heads, consistency proofs and the
 * log's public key.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit.h"
#include "log.h"
#include "clock.h"
#include "encode.h"
#include "event.h"
#include "listing.h"
#include "merkle.h"
#include "scope.h"
#include "server.h"
#include "tlog.h"
#include "validate.h"

static json_t *
proof_array(const merkle_hash *proof, size_t count)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < count; i++)
		json_array_append_new(arr, encode_base64_json(proof[i], MERKLE_HASH_SIZE));
	return arr;
}

static int
get_receipt(struct ctx *c)
{
	merkle_hash proof[MERKLE_MAX_PROOF], leaf;
	uint64_t index, size;
	const char *tenant;
	json_t *event, *sth;
	size_t count;
	int rc;

	if (tlog_parse_leaf_id(ctx_param(c, 0), &index) != 0 ||
	    (rc = audit_get(NULL, index + 1, &event)) == DB_NOTFOUND) {
		response_error(c->resp, 404, "not_found", "no such receipt");
		return 0;
	}
	if (rc != 0)
		return rc;
	tenant = json_string_value(json_object_get(event, "tenant"));
	if (tenant == NULL || strcmp(tenant, c->who.tenant) != 0) {
		json_decref(event);
		response_error(c->resp, 404, "not_found", "no such receipt");
		return 0;
	}
	if ((rc = audit_head(NULL, &size, NULL, 0)) != 0 ||
	    (rc = tlog_signed_head(size, &sth)) != 0) {
		json_decref(event);
		return rc;
	}
	rc = merkle_inclusion_proof(tlog_node, NULL, index, size, proof, &count);
	if (rc == 0)
		rc = tlog_node(NULL, 0, index, leaf);
	if (rc != 0) {
		json_decref(event);
		json_decref(sth);
		return rc;
	}
	response_json(c->resp, 200, json_pack("{s:s, s:I, s:I, s:o, s:o, s:o, s:o, s:O}",
	    "receipt_id", ctx_param(c, 0),
	    "leaf_index", (json_int_t)index,
	    "tree_size", (json_int_t)size,
	    "leaf_hash", encode_base64_json(leaf, sizeof(leaf)),
	    "event", event,
	    "inclusion_proof", proof_array(proof, count),
	    "sth", sth,
	    "public_key", json_object_get(sth, "public_key")));
	return 0;
}

static int
get_sth(struct ctx *c)
{
	uint64_t size;
	json_t *sth;
	int rc;

	if ((rc = audit_head(NULL, &size, NULL, 0)) != 0 || (rc = tlog_signed_head(size, &sth)) != 0)
		return rc;
	response_json(c->resp, 200, sth);
	return 0;
}

static int
get_consistency(struct ctx *c)
{
	merkle_hash proof[MERKLE_MAX_PROOF];
	struct problem p;
	long first, second;
	uint64_t size;
	size_t count;
	int rc;

	if ((rc = audit_head(NULL, &size, NULL, 0)) != 0)
		return rc;
	if (query_long(c->req->query, "first", -1, 1, (long)size, &first, &p) != 0 ||
	    query_long(c->req->query, "second", (long)size, 1, (long)size, &second, &p) != 0) {
		response_problem(c->resp, &p);
		return 0;
	}
	if (first < 1 || first > second) {
		response_error(c->resp, 400, "invalid_query",
		    "first and second must satisfy 1 <= first <= second <= %llu",
		    (unsigned long long)size);
		return 0;
	}
	rc = merkle_consistency_proof(tlog_node, NULL, (uint64_t)first,
	    (uint64_t)second, proof, &count);
	if (rc != 0)
		return rc;
	response_json(c->resp, 200, json_pack("{s:I, s:I, s:o}",
	    "first", (json_int_t)first, "second", (json_int_t)second,
	    "proof", proof_array(proof, count)));
	return 0;
}

static int
get_key(struct ctx *c)
{
	unsigned char pk[32];
	int rc;

	if ((rc = tlog_public_key(pk)) != 0)
		return rc;
	response_json(c->resp, 200, json_pack("{s:s, s:o}", "algorithm", "ed25519",
	    "public_key", encode_base64_json(pk, sizeof(pk))));
	return 0;
}

/*
 * GET /v1/audit/events: newest first as JSON ({data, count}), or with
 * Accept: application/x-ndjson every match oldest first (seq order, the
 * order the chain verifies in), one event a line as stored, written while
 * it is read.
 */
#define EVENTS_DEFAULT_LIMIT 50
#define EXPORT_FLUSH 32768

static const char *const event_params[] = {
	"type", "target_id", "actor", "since", "until", "skip", "limit",
	"after_seq", NULL
};

struct events_query {
	struct audit_filter f;
	char type[65], target_id[257], actor[257];
	long skip, limit;
};

static int
bad_param(struct ctx *c, const char *name, const char *fmt, const char *what)
{
	struct problem p;

	problem_set(&p, 400, "invalid_query", fmt, name, what);
	problem_field(&p, name);
	response_problem(c->resp, &p);
	return -1;
}

/* Every parameter is one the route knows, given once. */
static int
known_params(struct ctx *c)
{
	const char *q = c->req->query;
	unsigned seen = 0;

	while (q && *q) {
		const char *end = strchr(q, '&');
		size_t len = end ? (size_t)(end - q) : strlen(q);
		const char *eq = memchr(q, '=', len);
		size_t nlen = eq ? (size_t)(eq - q) : len;
		char name[32];
		int i;

		if (len > 0) {
			/* a name is echoed only when it is a plain word */
			if (url_decode(q, nlen, name, sizeof(name), 1) < 0 || name[0] == '\0' ||
			    strspn(name, "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != strlen(name))
				return bad_param(c, "query", "the %s string holds a malformed "
				    "parameter name%s", "");
			for (i = 0; event_params[i] && strcmp(event_params[i], name); i++)
				;
			if (event_params[i] == NULL)
				return bad_param(c, name, "unknown query parameter %s%s",
				    "; known: type, target_id, actor, since, until, skip, limit, after_seq");
			if (seen & (1u << i))
				return bad_param(c, name, "query parameter %s is given more than once%s", "");
			seen |= 1u << i;
		}
		q = end ? end + 1 : NULL;
	}
	return 0;
}

/* "killswitch.activated" or "killswitch.*": dot-separated words of
 * [a-z0-9_], the last one "*" for a prefix. */
static int
type_valid(const char *t)
{
	size_t n = strlen(t);
	int word = 0;

	if (n >= 2 && !strcmp(t + n - 2, ".*"))
		n -= 2;
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (t[i] == '.') {
			if (!word)
				return 0;
			word = 0;
		} else if (islower((unsigned char)t[i]) || isdigit((unsigned char)t[i]) ||
		    t[i] == '_') {
			word = 1;
		} else {
			return 0;
		}
	}
	return word;
}

/* A text parameter: 1 present, 0 absent (or empty), -1 answered 400. */
static int
text_param(struct ctx *c, const char *name, char *buf, size_t len)
{
	int rc = query_get(c->req->query, name, buf, len);

	if (rc == 1 && buf[0] == '\0')
		return 0;
	if (rc < 0 || (rc == 1 && !text_printable(buf))) {
		struct problem p;

		problem_set(&p, 400, "invalid_query",
		    "query parameter %s must be 1 to %zu printable characters", name, len - 1);
		problem_field(&p, name);
		response_problem(c->resp, &p);
		return -1;
	}
	return rc;
}

static int
time_param(struct ctx *c, const char *name, int64_t def, int64_t *out)
{
	char buf[64];
	int rc = query_get(c->req->query, name, buf, sizeof(buf));

	*out = def;
	if (rc == 0 || (rc == 1 && buf[0] == '\0'))
		return 0;
	if (rc < 0 || clock_parse(buf, out) != 0)
		return bad_param(c, name, "query parameter %s must be an RFC 3339 time%s",
		    ", e.g. 2026-04-18T17:00:00Z");
	return 0;
}

static int
events_query(struct ctx *c, int export, struct events_query *q)
{
	struct problem p;
	long after;
	int rc;

	memset(q, 0, sizeof(*q));
	q->f.tenant = c->who.tenant;
	if (known_params(c) != 0)
		return -1;
	if ((rc = text_param(c, "type", q->type, sizeof(q->type))) < 0)
		return -1;
	/* one rule for every list's filters: a value outside the field's
	 * known set is a 400, never a silent empty list */
	if (rc == 1 && (!type_valid(q->type) || !event_pattern_known(q->type)))
		return bad_param(c, "type", "query parameter %s must be a known event "
		    "type or a prefix of known types with .* (e.g. killswitch.*)%s", "");
	q->f.type = rc == 1 ? q->type : NULL;
	if ((rc = text_param(c, "target_id", q->target_id, sizeof(q->target_id))) < 0)
		return -1;
	q->f.target_id = rc == 1 ? q->target_id : NULL;
	if ((rc = text_param(c, "actor", q->actor, sizeof(q->actor))) < 0)
		return -1;
	q->f.actor = rc == 1 ? q->actor : NULL;
	if (time_param(c, "since", INT64_MIN, &q->f.since_ms) != 0 ||
	    time_param(c, "until", INT64_MAX, &q->f.until_ms) != 0)
		return -1;
	if (q->f.since_ms > q->f.until_ms)
		return bad_param(c, "until", "query parameter %s must not be before since%s", "");
	if (query_long(c->req->query, "after_seq", 0, 0, LONG_MAX, &after, &p) != 0) {
		response_problem(c->resp, &p);
		return -1;
	}
	q->f.after_seq = (uint64_t)after;
	if (export) {
		char skip[32];

		/* an export resumes with after_seq; limit cuts it short */
		if (query_get(c->req->query, "skip", skip, sizeof(skip)) != 0)
			return bad_param(c, "skip", "query parameter %s does not apply to an "
			    "NDJSON export%s", "; resume one with after_seq");
		if (query_long(c->req->query, "limit", LONG_MAX, 1, LONG_MAX, &q->limit, &p) != 0) {
			response_problem(c->resp, &p);
			return -1;
		}
	} else if (listing_params(c->req->query, EVENTS_DEFAULT_LIMIT, &q->skip,
	    &q->limit, &p) != 0) {
		response_problem(c->resp, &p);
		return -1;
	}
	q->f.newest_first = !export;
	return 0;
}

struct page {
	long skip, limit, count;
	json_t *data;
	int failed;
};

static int
page_one(void *arg, uint64_t seq)
{
	struct page *pg = arg;
	json_t *event;
	int rc;

	pg->count++;
	if (pg->count <= pg->skip || pg->count > pg->skip + pg->limit)
		return 0;
	if ((rc = audit_get(NULL, seq, &event)) != 0)
		return rc == DB_NOTFOUND ? 0 : rc;
	json_array_append_new(pg->data, event);
	return 0;
}

struct export {
	struct events_query q;
	long sent;
	char *buf;              /* what goes out next, EXPORT_FLUSH bytes */
	size_t len;
	char *event;            /* the event being read */
	size_t event_cap;
	response_write_fn write;
	void *sink;
	int gone;
};

static void
export_free(void *arg)
{
	struct export *x = arg;

	free(x->buf);
	free(x->event);
	free(x);
}

static int
export_flush(struct export *x)
{
	if (x->len > 0 && x->write(x->sink, x->buf, x->len) != 0)
		x->gone = 1;
	x->len = 0;
	return x->gone ? 1 : 0;
}

static int
export_one(void *arg, uint64_t seq)
{
	struct export *x = arg;
	size_t len;
	int rc;

	if ((rc = audit_get_text(seq, &x->event, &x->event_cap, &len)) != 0)
		return rc == DB_NOTFOUND ? 0 : rc;
	if (x->len + len + 1 > EXPORT_FLUSH && export_flush(x) != 0)
		return 1;
	if (len + 1 > EXPORT_FLUSH) {
		/* an event bigger than the buffer goes out on its own */
		if (x->write(x->sink, x->event, len) != 0 || x->write(x->sink, "\n", 1) != 0) {
			x->gone = 1;
			return 1;
		}
	} else {
		memcpy(x->buf + x->len, x->event, len);
		x->buf[x->len + len] = '\n';
		x->len += len + 1;
	}
	return ++x->sent >= x->q.limit ? 1 : 0;
}

static int
export_stream(void *arg, response_write_fn write, void *sink)
{
	struct export *x = arg;
	int rc;

	x->write = write;
	x->sink = sink;
	rc = audit_query(&x->q.f, export_one, x);
	if (rc == 0)
		export_flush(x);
	if (rc != 0)
		log_error("audit export for tenant %s stopped: %s", x->q.f.tenant,
		    rc > 0 ? strerror(rc) : db_strerror(rc));
	return rc == 0 && !x->gone ? 0 : -1;
}

static int
wants_ndjson(const struct ctx *c)
{
	return c->req->accept && strcasestr(c->req->accept, "application/x-ndjson");
}

static int
list_events(struct ctx *c)
{
	struct events_query q;
	struct export *x;
	struct page pg;
	int rc;

	if (events_query(c, wants_ndjson(c), &q) != 0)
		return 0;
	if (wants_ndjson(c)) {
		if ((x = calloc(1, sizeof(*x))) == NULL ||
		    (x->buf = malloc(EXPORT_FLUSH)) == NULL) {
			free(x);
			return ENOMEM;
		}
		x->q = q;
		/* the filter points into the copy, which lives as long as the
		 * response */
		x->q.f.type = q.f.type ? x->q.type : NULL;
		x->q.f.target_id = q.f.target_id ? x->q.target_id : NULL;
		x->q.f.actor = q.f.actor ? x->q.actor : NULL;
		response_stream(c->resp, 200, "application/x-ndjson", export_stream,
		    x, export_free);
		return 0;
	}
	memset(&pg, 0, sizeof(pg));
	pg.skip = q.skip;
	pg.limit = q.limit;
	pg.data = json_array();
	if ((rc = audit_query(&q.f, page_one, &pg)) != 0) {
		json_decref(pg.data);
		return rc;
	}
	response_json(c->resp, 200, json_pack("{s:o, s:I}", "data", pg.data,
	    "count", (json_int_t)pg.count));
	return 0;
}

static int
get_event(struct ctx *c)
{
	const char *id = ctx_param(c, 0);
	json_t *event;
	int rc;

	if (strncmp(id, "evt_", 4) != 0 || strlen(id) > 64 ||
	    (rc = audit_find(c->who.tenant, id, &event)) == DB_NOTFOUND) {
		response_error(c->resp, 404, "not_found", "no such audit event");
		return 0;
	}
	if (rc != 0)
		return rc;
	response_json(c->resp, 200, event);
	return 0;
}

static const struct route routes[] = {
	{ "GET", "/v1/audit/events", list_events, SCOPE_AUDIT_READ, ROUTE_GATE_EXEMPT, NULL },
	{ "GET", "/v1/audit/events/{id}", get_event, SCOPE_AUDIT_READ, ROUTE_GATE_EXEMPT, NULL },
	{ "GET", "/v1/transparency/receipts/{id}", get_receipt, SCOPE_AUDIT_READ,
	  ROUTE_GATE_EXEMPT, NULL },
	{ "GET", "/v1/transparency/sth", get_sth, SCOPE_AUDIT_READ, ROUTE_GATE_EXEMPT, NULL },
	{ "GET", "/v1/transparency/consistency", get_consistency, SCOPE_AUDIT_READ,
	  ROUTE_GATE_EXEMPT, NULL },
	{ "GET", "/v1/transparency/key", get_key, 0, ROUTE_PUBLIC | ROUTE_GATE_EXEMPT, NULL },
};

static const struct family audit_family = {
	"andon-audit", routes, sizeof(routes) / sizeof(routes[0]), NULL, NULL, NULL,
};

int
main(int argc, char **argv)
{
	return server_main(argc, argv, &audit_family);
}
