/*
 * shutdown.c - the emergency-shutdown family (API.md sections 4 and 7,
 * seed 003): activate, list the active ones, get one, resolve.
 *
 * Stored: T_SHUTDOWNS holds every shutdown under "tenant SEP id" (the
 * activating tenant); T_ESD_ACTIVE holds one summary per active shutdown
 * under "tenant SEP id", or "* SEP id" for scope "all", which is what the
 * gate (lib/gate.c) reads on every request of every family.  Activation and
 * resolution change both in one transaction, so the very next request of
 * every process sees them.
 *
 * Visibility: a tenant sees its own shutdowns and every active "all"
 * shutdown (it is halted by them and must be able to read why), the latter
 * through view_for_tenant(): what halts it and why, nothing of the tenant that
 * activated it.  Only the activating tenant resolves a shutdown, and an
 * "all" shutdown needs platform:admin to resolve as it did to activate.
 *
 * Every route here is gate-exempt: the way out of a halt must stay open.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "clock.h"
#include "ids.h"
#include "scope.h"
#include "server.h"
#include "store.h"

static const char *const scopes[] = { "org", "key", "all", NULL };

static const struct field_spec activate_fields[] = {
	{ "severity", FIELD_INTEGER, FIELD_REQUIRED, 0, NULL, 1, 5 },
	{ "reason", FIELD_STRING, FIELD_REQUIRED | FIELD_NONEMPTY, 2000, NULL, 0, 0 },
	{ "scope", FIELD_STRING, FIELD_NULLABLE, 0, scopes, 0, 0 },
	{ "key_id", FIELD_STRING, FIELD_NULLABLE | FIELD_PRINTABLE, 64, NULL, 0, 0 },
};
static const struct body_spec activate_body = BODY_SPEC(activate_fields);

static const struct field_spec resolve_fields[] = {
	{ "reason", FIELD_STRING, FIELD_NULLABLE, 2000, NULL, 0, 0 },
};
static const struct body_spec resolve_body = BODY_SPEC(resolve_fields);

static const char *const labels[] = {
	"", "Minor", "Moderate", "Major", "Severe", "Critical",
};

static const char *const messages[] = {
	"",
	"MINOR: alert logged, monitoring active",
	"MODERATE: alert logged, monitoring active",
	"MAJOR: governance responses carry emergency warnings until resolved",
	"SEVERE: all governance calls will return 503 until resolved",
	"CRITICAL: All governance calls will return 503 until resolved",
};

/* 0 when key_id names an API key of tenant; else -1. */
static int
key_of_tenant(const char *tenant, const char *key_id)
{
	const char *owner;
	json_t *rec;
	int ok;

	if (store_get_json(NULL, T_APIKEYS, key_id, &rec, 0) != 0)
		return -1;
	owner = json_string_value(json_object_get(rec, "tenant"));
	ok = owner && !strcmp(owner, tenant);
	json_decref(rec);
	return ok ? 0 : -1;
}

/*
 * What a tenant other than the activating one is shown of a scope "all"
 * shutdown: which halt, how severe, why (the reason is the platform's note
 * to every tenant), since and until when.  An allowlist: a member added to
 * the record later stays the activating tenant's until it is named here.
 * Never the tenant (organization_id, affected_scope), its keys
 * (activated_by, resolved_by, key_id), its receipts or its resolution note.
 * The gate's 503 and warning (lib/server.c) carry a subset of these.
 */
static const char *const foreign_fields[] = {
	"id", "shutdown_id", "severity", "severity_label", "status", "scope",
	"reason", "message", "activated_at", "resolved_at", NULL,
};

/*
 * rec as tenant may see it: the whole record for the activating tenant,
 * the foreign_fields of it for any other (also for a record whose owner
 * cannot be read).  Takes the reference to rec; NULL when out of memory.
 */
static json_t *
view_for_tenant(json_t *rec, const char *tenant)
{
	const char *owner = json_string_value(json_object_get(rec, "organization_id"));
	json_t *view, *value;

	if (owner != NULL && !strcmp(owner, tenant))
		return rec;
	view = json_object();
	for (size_t i = 0; view != NULL && foreign_fields[i] != NULL; i++) {
		value = json_object_get(rec, foreign_fields[i]);
		if (value != NULL && json_object_set(view, foreign_fields[i], value) != 0) {
			json_decref(view);
			view = NULL;
		}
	}
	json_decref(rec);
	return view;
}

/* The gate's summary of a shutdown (what lib/gate.c reads). */
static json_t *
gate_summary(const json_t *rec)
{
	return json_pack("{s:O, s:O, s:O, s:O, s:O, s:O}",
	    "id", json_object_get(rec, "id"),
	    "severity", json_object_get(rec, "severity"),
	    "scope", json_object_get(rec, "scope"),
	    "key_id", json_object_get(rec, "key_id"),
	    "reason", json_object_get(rec, "reason"),
	    "organization_id", json_object_get(rec, "organization_id"));
}

static int
active_key(char *buf, size_t len, const json_t *rec)
{
	const char *scope = json_string_value(json_object_get(rec, "scope"));

	return store_key(buf, len,
	    !strcmp(scope, "all") ? "*"
	        : json_string_value(json_object_get(rec, "organization_id")),
	    json_string_value(json_object_get(rec, "id")), NULL);
}

static int
activate(struct ctx *c)
{
	json_int_t severity = json_integer_value(json_object_get(c->body, "severity"));
	const char *reason = ctx_str(c, "reason");
	const char *scope = ctx_str(c, "scope");
	const char *key_id = ctx_str(c, "key_id");
	char id[ID_SIZE], now[CLOCK_TEXT_SIZE], key[STORE_KEY_MAX], receipt[64];
	json_t *rec, *affected, *summary, *data;
	int rc;

	if (scope == NULL)
		scope = "org";
	if (key_id != NULL && strcmp(scope, "key") != 0) {
		response_error(c->resp, 400, "invalid_field",
		    "field key_id is only allowed with scope \"key\"");
		return 0;
	}
	if (!strcmp(scope, "all") && !(c->who.scopes & SCOPE_PLATFORM_ADMIN)) {
		response_error(c->resp, 403, "insufficient_scope",
		    "scope \"all\" halts every tenant and needs platform:admin");
		return 0;
	}
	if (!strcmp(scope, "key")) {
		if (key_id == NULL)
			key_id = c->who.key_id;
		else if (key_of_tenant(c->who.tenant, key_id) != 0) {
			response_error(c->resp, 400, "invalid_field",
			    "field key_id does not name an API key of your organization");
			return 0;
		}
	}

	id_random_hex(id, sizeof(id), "esd_", 12);
	clock_format(clock_now_ms(), now);
	affected = json_pack("{s:s, s:s}", "org_id", c->who.tenant, "scope", scope);
	if (key_id)
		json_object_set_new(affected, "key_id", json_string(key_id));
	rec = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:s,"
	    " s:s, s:o, s:n, s:n, s:n}",
	    "id", id, "shutdown_id", id, "severity", severity,
	    "severity_label", labels[severity], "status", "activated",
	    "scope", scope, "reason", reason,
	    "key_id", json_str_or_null(key_id),
	    "activated_at", now, "activated_by", c->who.prefix,
	    "message", messages[severity], "organization_id", c->who.tenant,
	    "affected_scope", affected,
	    "resolved_at", "resolved_by", "resolution_reason");
	if (rec == NULL)
		return ENOMEM;

	data = json_pack("{s:I, s:s, s:o}", "severity", severity, "scope", scope,
	    "key_id", json_str_or_null(key_id));
	{
		struct audit_entry e = { c->who.tenant, "shutdown.activated", &c->who,
		    NULL, "emergency_shutdown", id, reason, data };

		rc = audit_append(c->txn, &e, receipt, sizeof(receipt));
	}
	json_decref(data);
	if (rc != 0)
		goto out;
	json_object_set_new(rec, "receipt_id", json_string(receipt));
	store_key(key, sizeof(key), c->who.tenant, id, NULL);
	if ((rc = store_put_json(c->txn, T_SHUTDOWNS, key, rec, DB_NOOVERWRITE)) != 0)
		goto out;
	active_key(key, sizeof(key), rec);
	summary = gate_summary(rec);
	rc = store_put_json(c->txn, T_ESD_ACTIVE, key, summary, DB_NOOVERWRITE);
	json_decref(summary);
	if (rc != 0)
		goto out;
	response_json(c->resp, 201, rec);
	return 0;
out:
	json_decref(rec);
	return rc;
}

/* Reads the record of an active-table entry into the list. */
struct active_scan {
	const char *tenant;
	json_t *items;
	int rc;
};

static int
collect_active(void *arg, const void *key, size_t klen, const void *val,
               size_t vlen)
{
	struct active_scan *s = arg;
	char rkey[STORE_KEY_MAX];
	const char *owner;
	json_error_t err;
	json_t *summary, *rec;
	int covers;

	(void)vlen;
	covers = (klen > 2 && ((const char *)key)[0] == '*' &&
	    ((const char *)key)[1] == KEY_SEP) ||
	    (klen > strlen(s->tenant) && !memcmp(key, s->tenant, strlen(s->tenant)) &&
	    ((const char *)key)[strlen(s->tenant)] == KEY_SEP);
	if (!covers)
		return 0;
	if ((summary = json_loadb(val, vlen, 0, &err)) == NULL)
		return 0;
	owner = json_string_value(json_object_get(summary, "organization_id"));
	store_key(rkey, sizeof(rkey), owner ? owner : "",
	    json_string_value(json_object_get(summary, "id")), NULL);
	json_decref(summary);
	if ((s->rc = store_get_json(NULL, T_SHUTDOWNS, rkey, &rec, 0)) != 0)
		return s->rc == DB_NOTFOUND ? (s->rc = 0) : -1;
	if ((rec = view_for_tenant(rec, s->tenant)) == NULL ||
	    json_array_append_new(s->items, rec) != 0) {
		s->rc = ENOMEM;
		return -1;
	}
	return 0;
}

static int
list_active(struct ctx *c)
{
	struct active_scan s = { c->who.tenant, json_array(), 0 };
	int rc = store_scan(NULL, T_ESD_ACTIVE, "", 0, 0, collect_active, &s);

	if (rc != 0 || s.rc != 0) {
		json_decref(s.items);
		return s.rc ? s.rc : rc;
	}
	response_json(c->resp, 200, json_pack("{s:o, s:I}", "active_shutdowns",
	    s.items, "count", (json_int_t)json_array_size(s.items)));
	return 0;
}

/*
 * Finds shutdown id for the caller: its own tenant's, or an active "all"
 * one.  0 with *rec, DB_NOTFOUND, or a DB error.
 */
static int
find_shutdown(DB_TXN *txn, const struct ctx *c, const char *id, json_t **rec,
              uint32_t flags)
{
	char key[STORE_KEY_MAX];
	json_t *summary;
	const char *owner;
	int rc;

	if (strncmp(id, "esd_", 4) != 0 || strlen(id) > 64)
		return DB_NOTFOUND;
	if (store_key(key, sizeof(key), c->who.tenant, id, NULL) < 0)
		return DB_NOTFOUND;
	rc = store_get_json(txn, T_SHUTDOWNS, key, rec, flags);
	if (rc != DB_NOTFOUND)
		return rc;
	store_key(key, sizeof(key), "*", id, NULL);
	if ((rc = store_get_json(txn, T_ESD_ACTIVE, key, &summary, 0)) != 0)
		return rc;
	owner = json_string_value(json_object_get(summary, "organization_id"));
	rc = store_key(key, sizeof(key), owner ? owner : "", id, NULL) < 0
	    ? DB_NOTFOUND : store_get_json(txn, T_SHUTDOWNS, key, rec, flags);
	json_decref(summary);
	return rc;
}

static int
get_one(struct ctx *c)
{
	json_t *rec;
	int rc = find_shutdown(NULL, c, ctx_param(c, 0), &rec, 0);

	if (rc == DB_NOTFOUND) {
		response_error(c->resp, 404, "not_found", "no emergency shutdown %.64s",
		    ctx_param(c, 0));
		return 0;
	}
	if (rc != 0)
		return rc;
	if ((rec = view_for_tenant(rec, c->who.tenant)) == NULL)
		return ENOMEM;
	response_json(c->resp, 200, rec);
	return 0;
}

static int
resolve(struct ctx *c)
{
	const char *id = ctx_param(c, 0), *owner, *scope;
	const char *reason = ctx_str(c, "reason");
	char now[CLOCK_TEXT_SIZE], key[STORE_KEY_MAX], receipt[64];
	json_t *rec, *data;
	int rc = find_shutdown(c->txn, c, id, &rec, DB_RMW);

	if (rc == DB_NOTFOUND) {
		response_error(c->resp, 404, "not_found", "no emergency shutdown %.64s", id);
		return 0;
	}
	if (rc != 0)
		return rc;
	owner = json_string_value(json_object_get(rec, "organization_id"));
	scope = json_string_value(json_object_get(rec, "scope"));
	if (owner == NULL || strcmp(owner, c->who.tenant) != 0) {
		/* another tenant's "all" shutdown: readable, not resolvable */
		json_decref(rec);
		response_error(c->resp, 404, "not_found", "no emergency shutdown %.64s", id);
		return 0;
	}
	if (scope && !strcmp(scope, "all") && !(c->who.scopes & SCOPE_PLATFORM_ADMIN)) {
		json_decref(rec);
		response_error(c->resp, 403, "insufficient_scope",
		    "resolving a scope \"all\" shutdown needs platform:admin");
		return 0;
	}
	if (strcmp(json_string_value(json_object_get(rec, "status")), "activated") != 0) {
		json_decref(rec);
		response_error(c->resp, 409, "already_resolved",
		    "emergency shutdown %.64s is already resolved", id);
		return 0;
	}
	clock_format(clock_now_ms(), now);
	json_object_set_new(rec, "status", json_string("resolved"));
	json_object_set_new(rec, "resolved_at", json_string(now));
	json_object_set_new(rec, "resolved_by", json_string(c->who.prefix));
	json_object_set_new(rec, "resolution_reason", json_str_or_null(reason));

	data = json_pack("{s:O}", "severity", json_object_get(rec, "severity"));
	{
		struct audit_entry e = { c->who.tenant, "shutdown.resolved", &c->who,
		    NULL, "emergency_shutdown", id, reason, data };

		rc = audit_append(c->txn, &e, receipt, sizeof(receipt));
	}
	json_decref(data);
	if (rc == 0) {
		json_object_set_new(rec, "resolution_receipt_id", json_string(receipt));
		store_key(key, sizeof(key), owner, id, NULL);
		rc = store_put_json(c->txn, T_SHUTDOWNS, key, rec, 0);
	}
	if (rc == 0) {
		active_key(key, sizeof(key), rec);
		rc = store_del(c->txn, T_ESD_ACTIVE, key, strlen(key));
		if (rc == DB_NOTFOUND)
			rc = 0;
	}
	if (rc != 0) {
		json_decref(rec);
		return rc;
	}
	response_json(c->resp, 200, rec);
	return 0;
}

static const struct route routes[] = {
	{ "POST", "/v1/emergency-shutdown", activate, SCOPE_SHUTDOWN_WRITE,
	  ROUTE_WRITE | ROUTE_RATE_LIMITED | ROUTE_GATE_EXEMPT, &activate_body },
	{ "GET", "/v1/emergency-shutdown", list_active, SCOPE_SHUTDOWN_READ,
	  ROUTE_GATE_EXEMPT, NULL },
	{ "GET", "/v1/emergency-shutdown/{id}", get_one, SCOPE_SHUTDOWN_READ,
	  ROUTE_GATE_EXEMPT, NULL },
	{ "POST", "/v1/emergency-shutdown/{id}/resolve", resolve, SCOPE_SHUTDOWN_WRITE,
	  ROUTE_WRITE | ROUTE_RATE_LIMITED | ROUTE_GATE_EXEMPT, &resolve_body },
};

static const struct family shutdown_family = {
	"andon-shutdown", routes, sizeof(routes) / sizeof(routes[0]),
	NULL, NULL, NULL,
};

int
main(int argc, char **argv)
{
	return server_main(argc, argv, &shutdown_family);
}
