/* shutdown.c - emergency-shutdown records, their keys, reads and writes. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "apikey.h"
#include "audit.h"
#include "clock.h"
#include "encode.h"
#include "ids.h"
#include "scope.h"
#include "shutdown.h"
#include "store.h"

const char *const shutdown_scopes[] = { "org", "key", "all", NULL };

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

/* The record's key in T_ESD_ACTIVE: its length, or -1 when too long. */
static int
active_key(char *buf, size_t len, const json_t *rec)
{
	const char *scope = json_string_value(json_object_get(rec, "scope"));

	return store_key(buf, len,
	    !strcmp(scope, "all") ? "*"
	        : json_string_value(json_object_get(rec, "organization_id")),
	    json_string_value(json_object_get(rec, "id")), NULL);
}

/* The owner part of a T_ESD_ACTIVE key "owner SEP id" ("*" for scope
 * all): its length, or 0 when the key has none. */
static size_t
active_owner(const void *key, size_t klen)
{
	const char *sep = memchr(key, KEY_SEP, klen);

	return sep ? (size_t)(sep - (const char *)key) : 0;
}

/* The checks of an activation the field table cannot make. */
static int
activation_refused(const struct principal *who, const char *scope,
                   const char **key_id, struct problem *p)
{
	if (*key_id != NULL && strcmp(scope, "key") != 0) {
		problem_set(p, 400, "invalid_field",
		    "field key_id is only allowed with scope \"key\"");
		return -1;
	}
	if (!strcmp(scope, "all") && !(who->scopes & SCOPE_PLATFORM_ADMIN)) {
		problem_set(p, 403, "insufficient_scope",
		    "scope \"all\" halts every tenant and needs platform:admin");
		return -1;
	}
	if (strcmp(scope, "key") != 0)
		return 0;
	if (*key_id == NULL)
		*key_id = who->key_id;
	else if (apikey_of_tenant(who->tenant, *key_id) != 0) {
		problem_set(p, 400, "invalid_field",
		    "field key_id does not name an API key of your organization");
		return -1;
	}
	return 0;
}

/* Writes a new shutdown: its record and its gate summary. */
static int
write_activated(DB_TXN *txn, const json_t *rec, const void *arg)
{
	const char *tenant = arg;
	char key[STORE_KEY_MAX];
	json_t *summary;
	int rc;

	if (store_key(key, sizeof(key), tenant,
	    json_string_value(json_object_get(rec, "id")), NULL) < 0)
		return EINVAL;
	if ((rc = store_put_json(txn, T_SHUTDOWNS, key, rec, DB_NOOVERWRITE)) != 0)
		return rc;
	if (active_key(key, sizeof(key), rec) < 0)
		return EINVAL;
	if ((summary = gate_summary(rec)) == NULL)
		return ENOMEM;
	rc = store_put_json(txn, T_ESD_ACTIVE, key, summary, DB_NOOVERWRITE);
	json_decref(summary);
	return rc;
}

int
shutdown_activate(DB_TXN *txn, const struct principal *who, int severity,
                  const char *reason, const char *scope, const char *key_id,
                  json_t **record, struct problem *p)
{
	char id[ID_SIZE], now[CLOCK_TEXT_SIZE];
	json_t *rec, *affected;

	*record = NULL;
	if (scope == NULL)
		scope = "org";
	if (severity < 1 || severity > 5)
		return EINVAL;
	if (activation_refused(who, scope, &key_id, p) != 0)
		return -1;
	id_random_hex(id, sizeof(id), "esd_", 12);
	clock_format(clock_now_ms(), now);
	affected = json_pack("{s:s, s:s}", "org_id", who->tenant, "scope", scope);
	if (key_id)
		json_object_set_new(affected, "key_id", json_string(key_id));
	rec = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:s,"
	    " s:s, s:o, s:n, s:n, s:n}",
	    "id", id, "shutdown_id", id, "severity", severity,
	    "severity_label", labels[severity], "status", "activated",
	    "scope", scope, "reason", reason,
	    "key_id", json_str_or_null(key_id),
	    "activated_at", now, "activated_by", who->prefix,
	    "message", messages[severity], "organization_id", who->tenant,
	    "affected_scope", affected,
	    "resolved_at", "resolved_by", "resolution_reason");
	if (rec == NULL)
		return ENOMEM;
	{
		struct audit_entry e = { who->tenant, "shutdown.activated", who,
		    NULL, "emergency_shutdown", id, reason,
		    json_pack("{s:i, s:s, s:o}", "severity", severity, "scope", scope,
		        "key_id", json_str_or_null(key_id)) };

		return audit_then_write(txn, &e, rec, "receipt_id", write_activated,
		    who->tenant, record);
	}
}

/* A listing's step: an active summary that covers the tenant names its
 * record, shown as the tenant may see it. */
static int
visible_active(void *arg, const void *key, size_t klen, json_t *summary,
               json_t **item)
{
	const char *tenant = arg, *owner;
	size_t olen = active_owner(key, klen);
	char rkey[STORE_KEY_MAX];
	json_t *rec;
	int rc;

	if (!(olen == 1 && ((const char *)key)[0] == '*') &&
	    !(olen == strlen(tenant) && !memcmp(key, tenant, olen)))
		return 0;
	owner = json_string_value(json_object_get(summary, "organization_id"));
	if (store_key(rkey, sizeof(rkey), owner ? owner : "",
	    json_string_value(json_object_get(summary, "id")), NULL) < 0)
		return 0;             /* not a summary this version wrote */
	if ((rc = store_get_json(NULL, T_SHUTDOWNS, rkey, &rec, 0)) != 0)
		return rc == DB_NOTFOUND ? 0 : rc;
	if ((*item = view_for_tenant(rec, tenant)) == NULL)
		return ENOMEM;
	return 0;
}

int
shutdown_list_active(const char *tenant, json_t **items)
{
	return store_list_tenant(T_ESD_ACTIVE, NULL, visible_active,
	    (void *)tenant, items);
}

/*
 * Finds shutdown id for the caller: its own tenant's, or an active "all"
 * one.  0 with *rec, DB_NOTFOUND, or a DB error.
 */
static int
find_shutdown(DB_TXN *txn, const char *tenant, const char *id, json_t **rec,
              uint32_t flags)
{
	char key[STORE_KEY_MAX];
	json_t *summary;
	const char *owner;
	int rc;

	if (strncmp(id, "esd_", 4) != 0 || strlen(id) > 64)
		return DB_NOTFOUND;
	if (store_key(key, sizeof(key), tenant, id, NULL) < 0)
		return DB_NOTFOUND;
	rc = store_get_json(txn, T_SHUTDOWNS, key, rec, flags);
	if (rc != DB_NOTFOUND)
		return rc;
	if (store_key(key, sizeof(key), "*", id, NULL) < 0)
		return DB_NOTFOUND;
	if ((rc = store_get_json(txn, T_ESD_ACTIVE, key, &summary, 0)) != 0)
		return rc;
	owner = json_string_value(json_object_get(summary, "organization_id"));
	rc = store_key(key, sizeof(key), owner ? owner : "", id, NULL) < 0
	    ? DB_NOTFOUND : store_get_json(txn, T_SHUTDOWNS, key, rec, flags);
	json_decref(summary);
	return rc;
}

static int
not_found(const char *id, struct problem *p)
{
	problem_set(p, 404, "not_found", "no emergency shutdown %.64s", id);
	return -1;
}

int
shutdown_get(const char *tenant, const char *id, json_t **record,
             struct problem *p)
{
	json_t *rec;
	int rc = find_shutdown(NULL, tenant, id, &rec, 0);

	*record = NULL;
	if (rc == DB_NOTFOUND)
		return not_found(id, p);
	if (rc != 0)
		return rc;
	if ((*record = view_for_tenant(rec, tenant)) == NULL)
		return ENOMEM;
	return 0;
}

/* The checks of a resolution. */
static int
resolution_refused(const struct principal *who, const char *id,
                   const json_t *rec, struct problem *p)
{
	const char *owner = json_string_value(json_object_get(rec, "organization_id"));
	const char *scope = json_string_value(json_object_get(rec, "scope"));
	const char *status = json_string_value(json_object_get(rec, "status"));

	if (owner == NULL || strcmp(owner, who->tenant) != 0)
		/* another tenant's "all" shutdown: readable, not resolvable */
		return not_found(id, p);
	if (scope && !strcmp(scope, "all") && !(who->scopes & SCOPE_PLATFORM_ADMIN)) {
		problem_set(p, 403, "insufficient_scope",
		    "resolving a scope \"all\" shutdown needs platform:admin");
		return -1;
	}
	if (status == NULL || strcmp(status, "activated") != 0) {
		problem_set(p, 409, "already_resolved",
		    "emergency shutdown %.64s is already resolved", id);
		return -1;
	}
	return 0;
}

/* Writes a resolved record back and drops its gate summary. */
static int
write_resolved(DB_TXN *txn, const json_t *rec, const void *arg)
{
	const char *tenant = arg;
	const char *id = json_string_value(json_object_get(rec, "id"));
	char key[STORE_KEY_MAX];
	int rc;

	if (store_key(key, sizeof(key), tenant, id, NULL) < 0)
		return EINVAL;
	if ((rc = store_put_json(txn, T_SHUTDOWNS, key, rec, 0)) != 0)
		return rc;
	if (active_key(key, sizeof(key), rec) < 0)
		return EINVAL;
	rc = store_del(txn, T_ESD_ACTIVE, key, strlen(key));
	return rc == DB_NOTFOUND ? 0 : rc;
}

int
shutdown_resolve(DB_TXN *txn, const struct principal *who, const char *id,
                 const char *reason, json_t **record, struct problem *p)
{
	char now[CLOCK_TEXT_SIZE];
	json_t *rec;
	int rc = find_shutdown(txn, who->tenant, id, &rec, DB_RMW);

	*record = NULL;
	if (rc == DB_NOTFOUND)
		return not_found(id, p);
	if (rc != 0)
		return rc;
	if (resolution_refused(who, id, rec, p) != 0) {
		json_decref(rec);
		return -1;
	}
	clock_format(clock_now_ms(), now);
	json_object_set_new(rec, "status", json_string("resolved"));
	json_object_set_new(rec, "resolved_at", json_string(now));
	json_object_set_new(rec, "resolved_by", json_string(who->prefix));
	json_object_set_new(rec, "resolution_reason",
	    json_str_or_null(reason));
	{
		struct audit_entry e = { who->tenant, "shutdown.resolved", who,
		    NULL, "emergency_shutdown", id, reason,
		    json_pack("{s:O}", "severity", json_object_get(rec, "severity")) };

		return audit_then_write(txn, &e, rec, "resolution_receipt_id",
		    write_resolved, who->tenant, record);
	}
}

int
shutdown_count_active(uint64_t *count)
{
	return store_count(T_ESD_ACTIVE, count);
}

int
shutdown_covers(const struct shutdown_summary *s, const char *tenant)
{
	return (s->owner[0] == '*' && s->owner[1] == '\0') ||
	    strcmp(s->owner, tenant) == 0;
}

/* Parses a summary into out->severity..reason; -1 when unreadable. */
static int
parse_summary(const void *val, size_t vlen, struct shutdown_summary *out)
{
	json_error_t err;
	json_t *esd;
	const char *scope, *key_id, *id, *reason;
	json_int_t severity;
	int rc = -1;

	if ((esd = json_loadb(val, vlen, 0, &err)) == NULL)
		return -1;
	scope = json_string_value(json_object_get(esd, "scope"));
	key_id = json_string_value(json_object_get(esd, "key_id"));
	id = json_string_value(json_object_get(esd, "id"));
	reason = json_string_value(json_object_get(esd, "reason"));
	severity = json_integer_value(json_object_get(esd, "severity"));
	if (scope != NULL && id != NULL && severity >= 1 && severity <= 5 &&
	    strlen(id) < sizeof(out->id) &&
	    (key_id == NULL || strlen(key_id) < sizeof(out->key_id))) {
		out->severity = (int)severity;
		out->key_scope = !strcmp(scope, "key");
		snprintf(out->key_id, sizeof(out->key_id), "%s", key_id ? key_id : "");
		snprintf(out->id, sizeof(out->id), "%s", id);
		snprintf(out->reason, sizeof(out->reason), "%s", reason ? reason : "");
		rc = 0;
	}
	json_decref(esd);
	return rc;
}

struct summary_scan {
	shutdown_summary_fn fn;
	void *arg;
};

/* Scan callback: the key "owner SEP id" and the summary, to the caller.
 * A key without an owner that fits covers no tenant: passed over. */
static int
summarize(void *arg, const void *key, size_t klen, const void *val,
          size_t vlen)
{
	struct summary_scan *scan = arg;
	struct shutdown_summary sum;
	size_t owner_len = active_owner(key, klen);

	if (owner_len == 0 || owner_len >= sizeof(sum.owner))
		return 0;
	memcpy(sum.owner, key, owner_len);
	sum.owner[owner_len] = '\0';
	sum.severity = sum.key_scope = 0;
	sum.key_id[0] = sum.id[0] = sum.reason[0] = '\0';
	sum.readable = parse_summary(val, vlen, &sum) == 0;
	return scan->fn(scan->arg, &sum);
}

int
shutdown_scan_summaries(shutdown_summary_fn fn, void *arg)
{
	struct summary_scan scan = { fn, arg };

	return store_scan(NULL, T_ESD_ACTIVE, "", 0, 0, summarize, &scan);
}
