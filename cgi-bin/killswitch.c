/*
 * killswitch.c - the kill-switch family (contract section 6, seed 001):
 * kill, revive, check, active, history and interventions.
 *
 * Stored: T_KILLSWITCH holds every record (tenant SEP id), T_KS_ACTIVE the
 * one active switch per target (tenant SEP type SEP target -> a summary
 * {id, reason, killed_at, killed_by}; the key a concurrent kill locks, so
 * exactly one wins), T_KS_HISTORY every switch per target.  The check reads
 * T_KS_ACTIVE only: one B-tree lookup per named target, whatever the number
 * of records, and the summary is all a killed answer needs.
 *
 * A registry agent is one target whichever of its two ids (id, agent_id)
 * names it.  Its switch is stored under the id its kill named (the record
 * keeps what the caller sent) and T_KS_ALIASES holds the same summary under
 * the other id, written and deleted with it: a check by either id is still
 * one lookup, and a second one only for a target shaped like a registry id
 * that is not killed.  Kill, revive and history resolve the other id in the
 * registry; introspection and session opening know both ids already.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "audit.h"
#include "clock.h"
#include "ids.h"
#include "intervention.h"
#include "listing.h"
#include "scope.h"
#include "server.h"
#include "store.h"

static const char *const target_types[] = { "agent", "run", "mission", NULL };

#define TARGET_SIZE 257     /* target_id: 1 to 256 characters */

static const struct field_spec kill_fields[] = {
	{ "target_type", FIELD_STRING, FIELD_REQUIRED, 0, target_types, 0, 0 },
	{ "target_id", FIELD_STRING, FIELD_REQUIRED | FIELD_NONEMPTY | FIELD_PRINTABLE, 256, NULL, 0, 0 },
	{ "reason", FIELD_STRING, FIELD_NULLABLE, 2000, NULL, 0, 0 },
};
static const struct body_spec kill_body = BODY_SPEC(kill_fields);

static const struct field_spec revive_fields[] = {
	{ "target_type", FIELD_STRING, FIELD_REQUIRED, 0, target_types, 0, 0 },
	{ "target_id", FIELD_STRING, FIELD_REQUIRED | FIELD_NONEMPTY | FIELD_PRINTABLE, 256, NULL, 0, 0 },
};
static const struct body_spec revive_body = BODY_SPEC(revive_fields);

static const struct field_spec intervention_fields[] = {
	{ "id", FIELD_STRING, FIELD_NULLABLE, 64, NULL, 0, 0 },
	{ "type", FIELD_STRING, FIELD_REQUIRED | FIELD_NONEMPTY | FIELD_PRINTABLE, 64, NULL, 0, 0 },
	{ "outcome", FIELD_STRING, FIELD_REQUIRED | FIELD_NONEMPTY | FIELD_PRINTABLE, 64, NULL, 0, 0 },
	{ "action_name", FIELD_STRING, FIELD_NULLABLE | FIELD_PRINTABLE, 256, NULL, 0, 0 },
	{ "agent_id", FIELD_STRING, FIELD_NULLABLE | FIELD_PRINTABLE, 256, NULL, 0, 0 },
	{ "run_id", FIELD_STRING, FIELD_NULLABLE | FIELD_PRINTABLE, 256, NULL, 0, 0 },
	{ "mission_id", FIELD_STRING, FIELD_NULLABLE | FIELD_PRINTABLE, 256, NULL, 0, 0 },
	{ "reason", FIELD_STRING, FIELD_NULLABLE, 2000, NULL, 0, 0 },
	{ "killed_by", FIELD_STRING, FIELD_NULLABLE | FIELD_PRINTABLE, 256, NULL, 0, 0 },
	{ "kill_switch_id", FIELD_STRING, FIELD_NULLABLE | FIELD_PRINTABLE, 64, NULL, 0, 0 },
	{ "count", FIELD_INTEGER, FIELD_NULLABLE, 0, NULL, 1, 1e9 },
	{ "first_seen", FIELD_STRING, FIELD_NULLABLE, 40, NULL, 0, 0 },
	{ "timestamp", FIELD_STRING, FIELD_NULLABLE, 40, NULL, 0, 0 },
	{ "organization_id", FIELD_STRING, FIELD_NULLABLE, 64, NULL, 0, 0 },
};
static const struct body_spec intervention_item = BODY_SPEC(intervention_fields);

static const struct field_spec batch_fields[] = {
	{ "interventions", FIELD_ANY_ARRAY, FIELD_REQUIRED, 1000, NULL, 0, 0 },
};
static const struct body_spec batch_body = BODY_SPEC(batch_fields);

static int
active_key(char *buf, size_t len, const char *tenant, const char *type,
           const char *target)
{
	return store_key(buf, len, tenant, type, target, NULL);
}

/* The other id of the registry agent an agent target names, into other
 * ("" when the target names none of the tenant's agents): 0 or a DB error. */
static int
target_other(DB_TXN *txn, const char *tenant, const char *type,
             const char *target, char *other, size_t len)
{
	int rc = DB_NOTFOUND;

	if (!strcmp(type, "agent"))
		rc = agent_other_ref(txn, tenant, target, other, len);
	if (rc == DB_NOTFOUND)
		other[0] = '\0';
	return rc == DB_NOTFOUND ? 0 : rc;
}

/* The active summary for a target: 0, DB_NOTFOUND or a DB error. */
static int
find_active_summary(DB_TXN *txn, const char *tenant, const char *type,
                    const char *target, json_t **summary, uint32_t flags)
{
	char key[STORE_KEY_MAX];

	if (active_key(key, sizeof(key), tenant, type, target) < 0)
		return DB_NOTFOUND;
	return store_get_json(txn, T_KS_ACTIVE, key, summary, flags);
}

/* The check's read of a target's active summary: parsed once per process
 * while its stored bytes stay the same, since a killed agent may check many
 * times a second.  Shared: read only. */
static int
check_active_summary(const char *tenant, const char *type, const char *target,
                     json_t **summary)
{
	char key[STORE_KEY_MAX];

	if (active_key(key, sizeof(key), tenant, type, target) < 0)
		return DB_NOTFOUND;
	return store_get_json_shared(T_KS_ACTIVE, key, summary);
}

/* The same read of the summary a registry agent's switch has under its
 * other id. */
static int
check_alias_summary(const char *tenant, const char *target, json_t **summary)
{
	char key[STORE_KEY_MAX];

	if (active_key(key, sizeof(key), tenant, "agent", target) < 0)
		return DB_NOTFOUND;
	return store_get_json_shared(T_KS_ALIASES, key, summary);
}

/* The active record for a target: 0, DB_NOTFOUND or a DB error. */
static int
find_active(DB_TXN *txn, const char *tenant, const char *type,
            const char *target, json_t **record, uint32_t flags)
{
	char rkey[STORE_KEY_MAX];
	json_t *summary;
	int rc;

	if ((rc = find_active_summary(txn, tenant, type, target, &summary, flags)) != 0)
		return rc;
	rc = store_key(rkey, sizeof(rkey), tenant,
	    json_string_value(json_object_get(summary, "id")), NULL);
	json_decref(summary);
	if (rc < 0)
		return DB_NOTFOUND;
	return store_get_json(txn, T_KILLSWITCH, rkey, record, flags);
}

static int
kill_target(struct ctx *c)
{
	const char *type = ctx_str(c, "target_type");
	const char *target = ctx_str(c, "target_id");
	const char *reason = ctx_str(c, "reason");
	char id[37], now[CLOCK_TEXT_SIZE], key[STORE_KEY_MAX], receipt[64];
	char other[TARGET_SIZE];
	const char *first, *second;
	json_t *rec, *summary, *data;
	int rc;

	if ((rc = target_other(c->txn, c->who.tenant, type, target, other,
	    sizeof(other))) != 0)
		return rc;
	/* a switch under either id of the agent is this target's; both are
	 * locked in one order, so kills by the two ids do not deadlock */
	first = other[0] && strcmp(other, target) < 0 ? other : target;
	second = !other[0] ? NULL : first == target ? other : target;
	rc = find_active_summary(c->txn, c->who.tenant, type, first, &rec, DB_RMW);
	if (rc == DB_NOTFOUND && second != NULL)
		rc = find_active_summary(c->txn, c->who.tenant, type, second, &rec,
		    DB_RMW);
	if (rc == 0) {
		json_decref(rec);
		response_error(c->resp, 409, "already_killed",
		    "%s %s is already killed", type, target);
		return 0;
	}
	if (rc != DB_NOTFOUND)
		return rc;
	id_uuid4(id);
	clock_format(clock_now_ms(), now);
	rec = json_pack("{s:s, s:s, s:s, s:o, s:b, s:s, s:s, s:n, s:n, s:s}",
	    "id", id, "target_type", type, "target_id", target,
	    "reason", json_str_or_null(reason), "is_active", 1,
	    "killed_by", c->who.key_id, "killed_at", now,
	    "revived_by", "revived_at", "organization_id", c->who.tenant);
	data = json_pack("{s:s}", "kill_switch_id", id);
	{
		struct audit_entry e = { c->who.tenant, "killswitch.activated",
		    &c->who, NULL, type, target, reason, data };

		rc = audit_append(c->txn, &e, receipt, sizeof(receipt));
	}
	json_decref(data);
	if (rc != 0)
		goto out;
	json_object_set_new(rec, "receipt_id", json_string(receipt));
	store_key(key, sizeof(key), c->who.tenant, id, NULL);
	if ((rc = store_put_json(c->txn, T_KILLSWITCH, key, rec, DB_NOOVERWRITE)) != 0)
		goto out;
	active_key(key, sizeof(key), c->who.tenant, type, target);
	summary = json_pack("{s:s, s:O, s:s, s:s}", "id", id,
	    "reason", json_object_get(rec, "reason"), "killed_at", now,
	    "killed_by", c->who.key_id);
	rc = store_put_json(c->txn, T_KS_ACTIVE, key, summary, DB_NOOVERWRITE);
	if (rc == 0 && other[0])
		rc = active_key(key, sizeof(key), c->who.tenant, type, other) < 0
		    ? EINVAL : store_put_json(c->txn, T_KS_ALIASES, key, summary, 0);
	json_decref(summary);
	if (rc != 0)
		goto out;
	store_key(key, sizeof(key), c->who.tenant, type, target, id, NULL);
	if ((rc = store_put(c->txn, T_KS_HISTORY, key, strlen(key), "", 0, 0)) != 0)
		goto out;
	response_json(c->resp, 201, rec);
	return 0;
out:
	json_decref(rec);
	return rc;
}

static int
revive_target(struct ctx *c)
{
	const char *type = ctx_str(c, "target_type");
	const char *target = ctx_str(c, "target_id");
	char now[CLOCK_TEXT_SIZE], key[STORE_KEY_MAX], receipt[64];
	char other[TARGET_SIZE];
	const char *named = target, *alias;
	json_t *rec, *data;
	int rc;

	if ((rc = target_other(c->txn, c->who.tenant, type, target, other,
	    sizeof(other))) != 0)
		return rc;
	alias = other[0] ? other : NULL;
	rc = find_active(c->txn, c->who.tenant, type, target, &rec, DB_RMW);
	if (rc == DB_NOTFOUND && alias != NULL) {
		/* killed by the agent's other id */
		rc = find_active(c->txn, c->who.tenant, type, other, &rec, DB_RMW);
		named = other;
		alias = target;
	}
	if (rc == DB_NOTFOUND) {
		response_error(c->resp, 404, "not_killed",
		    "there is no active kill switch for %s %s", type, target);
		return 0;
	}
	if (rc != 0)
		return rc;
	clock_format(clock_now_ms(), now);
	json_object_set_new(rec, "is_active", json_false());
	json_object_set_new(rec, "revived_by", json_string(c->who.key_id));
	json_object_set_new(rec, "revived_at", json_string(now));
	data = json_pack("{s:O}", "kill_switch_id", json_object_get(rec, "id"));
	{
		struct audit_entry e = { c->who.tenant, "killswitch.revived",
		    &c->who, NULL, type, target, NULL, data };

		rc = audit_append(c->txn, &e, receipt, sizeof(receipt));
	}
	json_decref(data);
	if (rc == 0) {
		json_object_set_new(rec, "revive_receipt_id", json_string(receipt));
		store_key(key, sizeof(key), c->who.tenant,
		    json_string_value(json_object_get(rec, "id")), NULL);
		rc = store_put_json(c->txn, T_KILLSWITCH, key, rec, 0);
	}
	if (rc == 0) {
		active_key(key, sizeof(key), c->who.tenant, type, named);
		rc = store_del(c->txn, T_KS_ACTIVE, key, strlen(key));
	}
	if (rc == 0 && alias != NULL) {
		rc = active_key(key, sizeof(key), c->who.tenant, type, alias) < 0
		    ? EINVAL : store_del(c->txn, T_KS_ALIASES, key, strlen(key));
		if (rc == DB_NOTFOUND)
			rc = 0;     /* a switch older than the aliases */
	}
	if (rc != 0) {
		json_decref(rec);
		return rc;
	}
	response_json(c->resp, 200, rec);
	return 0;
}

/* Reads one check target from the query; 1 present, 0 absent, -1 bad. */
static int
query_target(struct ctx *c, const char *name, char *buf, size_t len)
{
	int rc = query_get(c->req->query, name, buf, len);

	if (rc == 1 && buf[0] == '\0')
		return 0;
	if (rc < 0 || (rc == 1 && !text_printable(buf))) {
		response_error(c->resp, 400, "invalid_query",
		    "query parameter %s must be 1 to 256 printable characters", name);
		return -1;
	}
	return rc;
}

static json_t *
check_answer(const char *type, const char *target, const json_t *rec)
{
	json_t *out = json_pack("{s:b, s:s, s:s}", "is_killed", rec != NULL,
	    "target_type", type, "target_id", target);

	if (rec) {
		json_object_set(out, "reason", json_object_get(rec, "reason"));
		json_object_set(out, "killed_at", json_object_get(rec, "killed_at"));
		json_object_set(out, "kill_switch_id", json_object_get(rec, "id"));
		json_object_set(out, "killed_by", json_object_get(rec, "killed_by"));
		json_object_set_new(out, "source", json_string("kill_switch"));
	} else {
		json_object_set_new(out, "reason", json_null());
		json_object_set_new(out, "killed_at", json_null());
	}
	return out;
}

static int
check_target(struct ctx *c)
{
	char type[16], target[257], agent[257], run[257], mission[257], action[257];
	const char *names[3] = { "agent", "mission", "run" };
	char *values[3] = { agent, mission, run };
	int has_type, has_target, has[3], have_action, rc;
	json_t *rec = NULL, *out;
	int matched = -1;

	if ((has_type = query_target(c, "target_type", type, sizeof(type))) < 0 ||
	    (has_target = query_target(c, "target_id", target, sizeof(target))) < 0 ||
	    (has[0] = query_target(c, "agent_id", agent, sizeof(agent))) < 0 ||
	    (has[1] = query_target(c, "mission_id", mission, sizeof(mission))) < 0 ||
	    (has[2] = query_target(c, "run_id", run, sizeof(run))) < 0 ||
	    (have_action = query_target(c, "action", action, sizeof(action))) < 0)
		return 0;
	if (has_type || has_target) {
		if (!has_type || !has_target || has[0] || has[1] || has[2]) {
			response_error(c->resp, 400, "invalid_query",
			    "give target_type and target_id, or any of agent_id, run_id, mission_id");
			return 0;
		}
		if (strcmp(type, "agent") && strcmp(type, "run") && strcmp(type, "mission")) {
			response_error(c->resp, 400, "invalid_query",
			    "target_type must be agent, run or mission");
			return 0;
		}
		for (int i = 0; i < 3; i++) {
			has[i] = !strcmp(type, names[i]);
			if (has[i])
				snprintf(values[i], 257, "%s", target);
		}
	} else if (!has[0] && !has[1] && !has[2]) {
		response_error(c->resp, 400, "invalid_query",
		    "give target_type and target_id, or any of agent_id, run_id, mission_id");
		return 0;
	}
	/* agent before mission before run */
	for (int i = 0; i < 3 && matched < 0; i++) {
		if (!has[i])
			continue;
		rc = check_active_summary(c->who.tenant, names[i], values[i], &rec);
		if (rc == DB_NOTFOUND && i == 0 && agent_ref_shaped(values[i]))
			/* a registry agent killed by its other id */
			rc = check_alias_summary(c->who.tenant, values[i], &rec);
		if (rc == DB_NOTFOUND && i == 0)
			/* a suspended or revoked agent of the registry is stopped
			 * too: both kinds of stop are one answer */
			rc = agent_stop_as_kill_switch(c->who.tenant, values[i], &rec);
		if (rc == 0)
			matched = i;
		else if (rc != DB_NOTFOUND)
			return rc;
	}
	if (matched < 0) {
		int first = has[0] ? 0 : has[1] ? 1 : 2;

		response_json(c->resp, 200, check_answer(names[first], values[first], NULL));
		return 0;
	}
	out = check_answer(names[matched], values[matched], rec);
	if (json_object_get(rec, "source") != NULL) {
		json_object_set(out, "source", json_object_get(rec, "source"));
		json_object_set(out, "agent_status", json_object_get(rec, "agent_status"));
	}
	{
		struct blocked_check b = { c->who.tenant, rec,
		    has[0] ? agent : NULL, has[2] ? run : NULL,
		    has[1] ? mission : NULL, have_action ? action : NULL };

		intervention_blocked(&b);
	}
	json_decref(rec);
	response_json(c->resp, 200, out);
	return 0;
}

struct collect {
	json_t *items;
	enum store_table table;
	const char *tenant;
	const char *type_filter;
	int rc;
};

/* Index values (or keys) name a record in T_KILLSWITCH. */
static int
collect_record(void *arg, const void *key, size_t klen, const void *val,
               size_t vlen)
{
	struct collect *col = arg;
	char rkey[STORE_KEY_MAX], id[64];
	const char *type;
	json_t *rec;

	if (col->table == T_KS_ACTIVE) {
		json_error_t err;
		json_t *summary = json_loadb(val, vlen, 0, &err);
		const char *sid = json_string_value(json_object_get(summary, "id"));

		if (sid == NULL || strlen(sid) >= sizeof(id)) {
			json_decref(summary);
			return 0;
		}
		snprintf(id, sizeof(id), "%s", sid);
		json_decref(summary);
	} else {
		const char *last = memrchr(key, KEY_SEP, klen);

		if (last == NULL || (size_t)((const char *)key + klen - last) >= sizeof(id))
			return 0;
		memcpy(id, last + 1, (size_t)((const char *)key + klen - last - 1));
		id[(const char *)key + klen - last - 1] = '\0';
	}
	store_key(rkey, sizeof(rkey), col->tenant, id, NULL);
	if ((col->rc = store_get_json(NULL, T_KILLSWITCH, rkey, &rec, 0)) != 0)
		return col->rc == DB_NOTFOUND ? (col->rc = 0) : -1;
	type = json_string_value(json_object_get(rec, "target_type"));
	if (col->type_filter && (type == NULL || strcmp(type, col->type_filter)))
		json_decref(rec);
	else
		json_array_append_new(col->items, rec);
	return 0;
}

static int
list_active(struct ctx *c)
{
	struct collect col = { json_array(), T_KS_ACTIVE, c->who.tenant, NULL, 0 };
	char prefix[STORE_KEY_MAX];
	struct problem p;
	long skip, limit;
	int len, rc;

	if (listing_params(c->req->query, 100, &skip, &limit, &p) != 0) {
		json_decref(col.items);
		response_problem(c->resp, &p);
		return 0;
	}
	len = store_key(prefix, sizeof(prefix), c->who.tenant, "", NULL);
	rc = store_scan(NULL, T_KS_ACTIVE, prefix, (size_t)len, 0, collect_record, &col);
	if (rc != 0 || col.rc != 0) {
		json_decref(col.items);
		return rc ? rc : col.rc;
	}
	response_json(c->resp, 200,
	    listing_page(col.items, "killed_at", 1, skip, limit, "data"));
	return 0;
}

/* Adds to a target's history the switches its registry agent's other id
 * named: a registry agent is one target. */
static int
other_history(const char *tenant, const char *type, const char *target,
              struct collect *col)
{
	char other[TARGET_SIZE], prefix[STORE_KEY_MAX];
	int len, rc;

	rc = target_other(NULL, tenant, type, target, other, sizeof(other));
	if (rc != 0 || other[0] == '\0')
		return rc;
	if ((len = store_key(prefix, sizeof(prefix), tenant, type, other, "", NULL)) < 0)
		return 0;
	return store_scan(NULL, T_KS_HISTORY, prefix, (size_t)len, 0,
	    collect_record, col);
}

static int
list_history(struct ctx *c)
{
	struct collect col = { json_array(), T_KS_HISTORY, c->who.tenant, NULL, 0 };
	char type[16], target[257], prefix[STORE_KEY_MAX];
	int has_type, has_target, len, rc;
	struct problem p;
	long skip, limit;

	if ((has_type = query_target(c, "target_type", type, sizeof(type))) < 0 ||
	    (has_target = query_target(c, "target_id", target, sizeof(target))) < 0)
		goto bad;
	if (has_type && strcmp(type, "agent") && strcmp(type, "run") &&
	    strcmp(type, "mission")) {
		response_error(c->resp, 400, "invalid_query",
		    "target_type must be agent, run or mission");
		goto bad;
	}
	if (has_target && !has_type) {
		response_error(c->resp, 400, "invalid_query",
		    "target_id needs target_type");
		goto bad;
	}
	if (listing_params(c->req->query, 100, &skip, &limit, &p) != 0) {
		response_problem(c->resp, &p);
		goto bad;
	}
	if (has_target)
		len = store_key(prefix, sizeof(prefix), c->who.tenant, type, target, "", NULL);
	else if (has_type)
		len = store_key(prefix, sizeof(prefix), c->who.tenant, type, "", NULL);
	else
		len = store_key(prefix, sizeof(prefix), c->who.tenant, "", NULL);
	if (len < 0) {
		response_error(c->resp, 400, "invalid_query", "target_id is not valid");
		goto bad;
	}
	rc = store_scan(NULL, T_KS_HISTORY, prefix, (size_t)len, 0, collect_record, &col);
	if (rc == 0 && col.rc == 0 && has_target)
		rc = other_history(c->who.tenant, type, target, &col);
	if (rc != 0 || col.rc != 0) {
		json_decref(col.items);
		return rc ? rc : col.rc;
	}
	response_json(c->resp, 200,
	    listing_page(col.items, "killed_at", 1, skip, limit, "data"));
	return 0;
bad:
	json_decref(col.items);
	return 0;
}

/* Interventions */

struct intervention_filter {
	char type[65], outcome[65], action[257], agent[257], run[257];
	int has_type, has_outcome, has_action, has_agent, has_run;
	char start[CLOCK_TEXT_SIZE], end[CLOCK_TEXT_SIZE];
	json_t *items;
};

static int
field_is(const json_t *rec, const char *name, int has, const char *want)
{
	const char *v = json_string_value(json_object_get(rec, name));

	return !has || (v && !strcmp(v, want));
}

static int
collect_intervention(void *arg, const void *key, size_t klen, const void *val,
                     size_t vlen)
{
	struct intervention_filter *f = arg;
	json_error_t err;
	json_t *rec = json_loadb(val, vlen, 0, &err);
	const char *ts;

	(void)key;
	(void)klen;
	if (rec == NULL)
		return 0;
	ts = json_string_value(json_object_get(rec, "timestamp"));
	if (field_is(rec, "type", f->has_type, f->type) &&
	    field_is(rec, "outcome", f->has_outcome, f->outcome) &&
	    field_is(rec, "action_name", f->has_action, f->action) &&
	    field_is(rec, "agent_id", f->has_agent, f->agent) &&
	    field_is(rec, "run_id", f->has_run, f->run) &&
	    (!f->start[0] || (ts && strcmp(ts, f->start) >= 0)) &&
	    (!f->end[0] || (ts && strcmp(ts, f->end) <= 0)))
		json_array_append_new(f->items, rec);
	else
		json_decref(rec);
	return 0;
}

static int
date_param(struct ctx *c, const char *name, char out[CLOCK_TEXT_SIZE])
{
	char text[64];
	int64_t ms;
	int rc = query_get(c->req->query, name, text, sizeof(text));

	out[0] = '\0';
	if (rc == 0 || (rc == 1 && text[0] == '\0'))
		return 0;
	if (rc < 0 || clock_parse(text, &ms) != 0) {
		response_error(c->resp, 400, "invalid_query",
		    "query parameter %s must be an RFC 3339 timestamp", name);
		return -1;
	}
	clock_format(ms, out);
	return 0;
}

static int
list_interventions(struct ctx *c)
{
	struct intervention_filter f;
	char prefix[STORE_KEY_MAX];
	struct problem p;
	long skip, limit;
	int len, rc;

	memset(&f, 0, sizeof(f));
	if ((f.has_type = query_target(c, "type", f.type, sizeof(f.type))) < 0 ||
	    (f.has_outcome = query_target(c, "outcome", f.outcome, sizeof(f.outcome))) < 0 ||
	    (f.has_action = query_target(c, "action_name", f.action, sizeof(f.action))) < 0 ||
	    (f.has_agent = query_target(c, "agent_id", f.agent, sizeof(f.agent))) < 0 ||
	    (f.has_run = query_target(c, "run_id", f.run, sizeof(f.run))) < 0 ||
	    date_param(c, "start_date", f.start) != 0 ||
	    date_param(c, "end_date", f.end) != 0)
		return 0;
	if (listing_params(c->req->query, 50, &skip, &limit, &p) != 0) {
		response_problem(c->resp, &p);
		return 0;
	}
	/* SDKs and the console write "HARD_BLOCK" or "hard_block" alike */
	for (char *s = f.type; *s; s++)
		*s = (char)tolower((unsigned char)*s);
	intervention_flush(1, 0);
	f.items = json_array();
	len = store_key(prefix, sizeof(prefix), c->who.tenant, "", NULL);
	rc = store_scan(NULL, T_INTERVENTIONS, prefix, (size_t)len, 0,
	    collect_intervention, &f);
	if (rc != 0) {
		json_decref(f.items);
		return rc;
	}
	response_json(c->resp, 200,
	    listing_page(f.items, "timestamp", 1, skip, limit, "interventions"));
	return 0;
}

static int
normalise_item(struct ctx *c, json_t *item, size_t index)
{
	const char *names[] = { "first_seen", "timestamp" };
	struct problem p;
	char now[CLOCK_TEXT_SIZE];
	const char *org;

	if (!json_is_object(item)) {
		response_error(c->resp, 400, "invalid_type",
		    "interventions[%zu] must be an object", index);
		return -1;
	}
	if (validate_body(item, &intervention_item, &p) != 0) {
		char field[sizeof(p.field) + 32], detail[sizeof(p.detail)];

		snprintf(field, sizeof(field), "interventions[%zu].%s", index, p.field);
		snprintf(detail, sizeof(detail), "%s", p.detail);
		problem_set(&p, 400, p.code, "%s: %s", field, detail);
		problem_field(&p, field);
		response_problem(c->resp, &p);
		return -1;
	}
	org = json_string_value(json_object_get(item, "organization_id"));
	if (org && strcmp(org, c->who.tenant) != 0) {
		response_error(c->resp, 400, "invalid_field",
		    "interventions[%zu].organization_id is not the caller's organization", index);
		return -1;
	}
	json_object_del(item, "organization_id");
	json_object_del(item, "id");
	{
		char *lower = strdup(json_string_value(json_object_get(item, "type")));

		for (char *s = lower; s && *s; s++)
			*s = (char)tolower((unsigned char)*s);
		json_object_set_new(item, "type", json_string(lower ? lower : ""));
		free(lower);
	}
	clock_format(clock_now_ms(), now);
	for (int i = 0; i < 2; i++) {
		const char *v = json_string_value(json_object_get(item, names[i]));
		char norm[CLOCK_TEXT_SIZE];
		int64_t ms;

		if (v == NULL) {
			json_object_set_new(item, names[i], json_string(now));
			continue;
		}
		if (clock_parse(v, &ms) != 0) {
			response_error(c->resp, 400, "invalid_field",
			    "interventions[%zu].%s must be an RFC 3339 timestamp", index, names[i]);
			return -1;
		}
		clock_format(ms, norm);
		json_object_set_new(item, names[i], json_string(norm));
	}
	if (json_object_get(item, "first_seen") && !json_object_get(item, "timestamp"))
		json_object_set(item, "timestamp", json_object_get(item, "first_seen"));
	for (const char *const *n = (const char *const[]){ "action_name", "agent_id",
	    "run_id", "mission_id", "reason", "killed_by", "kill_switch_id", NULL }; *n; n++)
		if (json_object_get(item, *n) == NULL)
			json_object_set_new(item, *n, json_null());
	return 0;
}

static int
post_interventions(struct ctx *c)
{
	json_t *list = json_object_get(c->body, "interventions"), *item, *out;
	size_t i;
	int rc;

	json_array_foreach(list, i, item)
		if (normalise_item(c, item, i) != 0)
			return 0;
	out = json_array();
	json_array_foreach(list, i, item) {
		json_t *stored;

		if ((rc = intervention_merge(c->txn, c->who.tenant, item, &stored)) != 0) {
			json_decref(out);
			return rc;
		}
		json_array_append_new(out, stored);
	}
	response_json(c->resp, 201, json_pack("{s:o, s:I}", "interventions", out,
	    "count", (json_int_t)json_array_size(out)));
	return 0;
}

static void
flush_interventions(const struct conf *conf)
{
	intervention_flush(0, conf->intervention_flush_ms);
}

static void
finish(void)
{
	intervention_flush(1, 0);
}

static const struct route routes[] = {
	{ "POST", "/api/v1/kill-switch/kill", kill_target, SCOPE_KILLSWITCH_WRITE,
	  ROUTE_WRITE | ROUTE_RATE_LIMITED | ROUTE_GATE_EXEMPT, &kill_body },
	{ "POST", "/api/v1/kill-switch/revive", revive_target, SCOPE_KILLSWITCH_WRITE,
	  ROUTE_WRITE | ROUTE_RATE_LIMITED, &revive_body },
	{ "GET", "/api/v1/kill-switch/check", check_target, SCOPE_KILLSWITCH_CHECK,
	  ROUTE_CHECK, NULL },
	{ "GET", "/api/v1/kill-switch/active", list_active, SCOPE_KILLSWITCH_CHECK, 0, NULL },
	{ "GET", "/api/v1/kill-switch/history", list_history, SCOPE_KILLSWITCH_CHECK, 0, NULL },
	{ "GET", "/api/v1/interventions", list_interventions, SCOPE_KILLSWITCH_CHECK, 0, NULL },
	{ "POST", "/api/v1/interventions", post_interventions, SCOPE_KILLSWITCH_CHECK,
	  ROUTE_WRITE, &batch_body },
};

static const struct family killswitch = {
	"andon-killswitch", routes, sizeof(routes) / sizeof(routes[0]),
	NULL, flush_interventions, finish,
};

int
main(int argc, char **argv)
{
	return server_main(argc, argv, &killswitch);
}
