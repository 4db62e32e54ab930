/*
 * admin.c - the administration family: API keys (create, list, revoke),
 * the health check and Prometheus metrics.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "apikey.h"
#include "audit.h"
#include "clock.h"
#include "killswitch.h"
#include "replication.h"
#include "scope.h"
#include "server.h"
#include "shutdown.h"

static const struct field_spec key_fields[] = {
	{ .name = "name", .type = FIELD_STRING,
	  .flags = FIELD_REQUIRED | FIELD_NONEMPTY | FIELD_PRINTABLE,
	  .max_len = 128 },
	{ .name = "scopes", .type = FIELD_STRING_ARRAY,
	  .flags = FIELD_REQUIRED, .max_len = 16, .allowed = scope_names },
	{ .name = "expires_at", .type = FIELD_STRING,
	  .flags = FIELD_NULLABLE, .max_len = 40 },
};
static const struct body_spec key_body = BODY_SPEC(key_fields);

/* 400 invalid_field naming expires_at: why, then bound when not NULL. */
static int
bad_expiry(struct ctx *c, const char *why, const char *bound)
{
	struct problem p;

	problem_set(&p, 400, "invalid_field", "field expires_at %s%s", why,
	    bound ? bound : "");
	problem_field(&p, "expires_at");
	response_problem(c->resp, &p);
	return 0;
}

/*
 * A created key never expires later than the key creating it, as it never
 * holds more scopes.  From a key that expires, an absent expires_at is
 * that key's expiry; null (never) or a later time is refused.  Keys made
 * by andonctl or by a key that never expires are not bounded.  1 when
 * *expires_ms is acceptable, 0 when refused (answered), or a DB error.
 */
static int
expiry_within_creator(struct ctx *c, int64_t *expires_ms)
{
	const json_t *given = json_object_get(c->body, "expires_at");
	char text[CLOCK_TEXT_SIZE];
	int64_t bound;
	int rc;

	if ((rc = apikey_expiry_ms(c->txn, c->who.key_id, &bound)) != 0)
		return rc;
	if (bound == 0)
		return 1;
	clock_format(bound, text);
	if (given == NULL) {
		*expires_ms = bound;
		return 1;
	}
	if (json_is_null(given))
		return bad_expiry(c, "cannot be null (never): the key creating it "
		    "expires at ", text);
	if (*expires_ms > bound)
		return bad_expiry(c, "must not be later than the expiry of the key "
		    "creating it, ", text);
	return 1;
}

static int
create_key(struct ctx *c)
{
	const json_t *scopes = json_object_get(c->body, "scopes");
	const char *expires = ctx_str(c, "expires_at");
	char secret[APIKEY_TEXT_SIZE];
	int64_t expires_ms = 0;
	json_t *record;
	long mask = scope_mask_from_json(scopes);
	int rc;

	if (json_array_size(scopes) == 0) {
		response_error(c->resp, 400, "invalid_field", "field scopes must name at least one scope");
		return 0;
	}
	if (expires && (clock_parse(expires, &expires_ms) != 0 ||
	    expires_ms <= clock_now_ms()))
		return bad_expiry(c, "must be a future RFC 3339 timestamp", NULL);
	if ((rc = expiry_within_creator(c, &expires_ms)) != 1)
		return rc;
	if (mask < 0 || ((unsigned)mask & ~c->who.scopes) != 0) {
		response_error(c->resp, 403, "scope_escalation",
		    "a key cannot grant scopes it does not hold");
		return 0;
	}
	rc = apikey_create(c->txn, c->conf, c->who.tenant, ctx_str(c, "name"),
	    scopes, expires_ms, &c->who, secret, &record);
	if (rc != 0) {
		sodium_memzero(secret, sizeof(secret));
		return rc;
	}
	json_object_set_new(record, "key", json_string(secret));
	sodium_memzero(secret, sizeof(secret));
	response_json(c->resp, 201, record);
	return 0;
}

static int
list_keys(struct ctx *c)
{
	json_t *items;
	int rc = apikey_list(c->who.tenant, &items);

	return ctx_page(c, rc, items, NULL, 100, "created_at", "data");
}

/*
 * GET /v1/api-keys/self: who is signed in (the console's header).  Any
 * valid key reads its own record, without hash or verifier, with its
 * tenant and the scopes it effectively holds ("*" spelled out).
 */
static int
self_key(struct ctx *c)
{
	json_t *pub, *held = json_array();
	int rc;

	if (held == NULL)
		return ENOMEM;
	if ((rc = apikey_find_public(c->who.key_id, &pub)) != 0) {
		json_decref(held);
		return rc;
	}
	for (unsigned bit = 1; bit <= SCOPE_PLATFORM_ADMIN; bit <<= 1)
		if (c->who.scopes & bit)
			json_array_append_new(held, json_string(scope_name(bit)));
	json_object_set_new(pub, "tenant", json_string(c->who.tenant));
	json_object_set_new(pub, "effective_scopes", held);
	response_json(c->resp, 200, pub);
	return 0;
}

static int
revoke_key(struct ctx *c)
{
	const char *id = ctx_param(c, 0);
	json_t *record = NULL;
	int rc = apikey_revoke(c->txn, &c->who, c->who.tenant, id, &record);

	if (rc == DB_NOTFOUND) {
		response_error(c->resp, 404, "not_found", "no API key %.64s", id);
		return 0;
	}
	if (rc == DB_KEYEXIST) {
		json_decref(record);
		response_error(c->resp, 409, "already_revoked",
		    "API key %.64s is already revoked", id);
		return 0;
	}
	if (rc != 0)
		return rc;
	response_json(c->resp, 200, record);
	return 0;
}

/*
 * GET /healthz.  With replication on, a site that is not the master and
 * knows no master answers 503 no_master: it still answers checks from its
 * own copy, which may be stale, and refuses writes, so a load balancer
 * should send checks elsewhere.  Otherwise the body says the site's role,
 * the master and how far behind it this site is.
 */
static int
health(struct ctx *c)
{
	struct replication_state rs;
	uint64_t events;
	int rc = audit_head(NULL, &events, NULL, 0);
	json_t *body;

	if (rc != 0) {
		response_error(c->resp, 503, "unhealthy", "the database is not reachable");
		return 0;
	}
	/* public: nothing about any tenant's activity */
	body = json_pack("{s:s, s:s}", "status", "ok", "database", "ok");
	if (ctx_replication(c, &rs) != 0) {
		response_json(c->resp, 200, body);
		return 0;
	}
	if (rs.role != 1 && rs.master_url == NULL) {
		json_decref(body);
		response_error(c->resp, 503, "no_master", "this site is not the "
		    "master and knows no master: its checks answer from its own "
		    "copy, which may be stale, and writes are refused");
		response_header(c->resp, "Retry-After", "1");
		return 0;
	}
	json_object_set_new(body, "replication", json_pack("{s:s, s:s, s:o, s:o}",
	    "role", rs.role == 1 ? "master" : "replica",
	    "master", rs.master_url,
	    "lag_bytes", rs.lag_known ? json_integer((json_int_t)rs.lag_bytes) :
	    json_null(),
	    "lag_seconds", rs.lag_known ? json_real((double)rs.lag_ms / 1000) :
	    json_null()));
	response_json(c->resp, 200, body);
	return 0;
}

/* One "# HELP", "# TYPE" and sample triple of the text format, the value
 * as text. */
static void
metric_text(char **buf, size_t *len, size_t *cap, const char *name,
            const char *type, const char *help, const char *value)
{
	char line[512];
	int n = snprintf(line, sizeof(line), "# HELP %s %s\n# TYPE %s %s\n%s %s\n",
	    name, help, name, type, name, value);

	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	if (*len + (size_t)n + 1 > *cap) {
		size_t want = (*cap + (size_t)n + 1) * 2;
		char *bigger = realloc(*buf, want);

		if (bigger == NULL)
			return;
		*buf = bigger;
		*cap = want;
	}
	memcpy(*buf + *len, line, (size_t)n + 1);
	*len += (size_t)n;
}

static void
metric(char **buf, size_t *len, size_t *cap, const char *name,
       const char *type, const char *help, uint64_t value)
{
	char text[24];

	snprintf(text, sizeof(text), "%llu", (unsigned long long)value);
	metric_text(buf, len, cap, name, type, help, text);
}

/* With replication on: the role, whether a master is known, and how far
 * behind it this site is (when the master answered lately). */
static void
replication_metrics(const struct ctx *c, char **buf, size_t *len, size_t *cap)
{
	struct replication_state rs;
	char text[32];

	if (ctx_replication(c, &rs) != 0)
		return;
	metric(buf, len, cap, "andon_replication_master", "gauge",
	    "1 when this site is the replication master", rs.role == 1);
	metric(buf, len, cap, "andon_replication_master_known", "gauge",
	    "1 when this site knows a master (itself or another site)",
	    rs.master_url != NULL);
	if (!rs.lag_known)
		return;
	metric(buf, len, cap, "andon_replication_lag_bytes", "gauge",
	    "Bytes of log this site is behind its master", rs.lag_bytes);
	snprintf(text, sizeof(text), "%lld.%03lld", rs.lag_ms / 1000,
	    rs.lag_ms % 1000);
	metric_text(buf, len, cap, "andon_replication_lag_seconds", "gauge",
	    "Seconds this site is behind its master", text);
}

/*
 * GET /metrics: platform-wide gauges in the Prometheus text format.  They
 * cover every tenant, so the route needs platform:admin (scrape with
 * "authorization: bearer_token" in the Prometheus job).
 */
static int
metrics(struct ctx *c)
{
	uint64_t events = 0, tree = 0, active_ks = 0, active_esd = 0, keys = 0,
	    tenants = 0;
	size_t len = 0, cap = 1024;
	char *buf = malloc(cap);
	int rc;

	if (buf == NULL)
		return ENOMEM;
	buf[0] = '\0';
	if ((rc = audit_head(NULL, &events, NULL, 0)) != 0 ||
	    (rc = killswitch_count_active(&active_ks)) != 0 ||
	    (rc = shutdown_count_active(&active_esd)) != 0 ||
	    (rc = apikey_count(&keys, &tenants)) != 0) {
		free(buf);
		return rc;
	}
	tree = events;     /* one leaf per event */
	metric(&buf, &len, &cap, "andon_up", "gauge",
	    "1 when the database answers", 1);
	metric(&buf, &len, &cap, "andon_tenants", "gauge",
	    "Tenants (organizations)", tenants);
	metric(&buf, &len, &cap, "andon_api_keys", "gauge",
	    "API keys, revoked ones included", keys);
	metric(&buf, &len, &cap, "andon_kill_switches_active", "gauge",
	    "Active kill switches, all tenants", active_ks);
	metric(&buf, &len, &cap, "andon_emergency_shutdowns_active", "gauge",
	    "Active emergency shutdowns, all tenants", active_esd);
	metric(&buf, &len, &cap, "andon_audit_events_total", "counter",
	    "Audit events appended", events);
	metric(&buf, &len, &cap, "andon_transparency_tree_size", "gauge",
	    "Leaves of the transparency log", tree);
	replication_metrics(c, &buf, &len, &cap);
	response_raw(c->resp, 200, "text/plain; version=0.0.4; charset=utf-8",
	    buf, len);
	return 0;
}

static const struct route routes[] = {
	{ "POST", "/v1/api-keys", create_key, SCOPE_KEYS_ADMIN,
	  ROUTE_WRITE | ROUTE_RATE_LIMITED | ROUTE_SHOWS_SECRET, &key_body },
	{ "GET", "/v1/api-keys", list_keys, SCOPE_KEYS_ADMIN, 0, NULL },
	{ "GET", "/v1/api-keys/self", self_key, 0, ROUTE_GATE_EXEMPT, NULL },
	{ "DELETE", "/v1/api-keys/{id}", revoke_key, SCOPE_KEYS_ADMIN,
	  ROUTE_WRITE | ROUTE_RATE_LIMITED | ROUTE_GATE_EXEMPT, NULL },
	{ "GET", "/healthz", health, 0, ROUTE_PUBLIC | ROUTE_GATE_EXEMPT, NULL },
	{ "GET", "/metrics", metrics, SCOPE_PLATFORM_ADMIN, ROUTE_GATE_EXEMPT, NULL },
};

static const struct family admin = {
	"andon-admin", routes, sizeof(routes) / sizeof(routes[0]), NULL, NULL, NULL,
};

int
main(int argc, char **argv)
{
	return server_main(argc, argv, &admin);
}
