/* delegation.c - scopes one agent grants another. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "audit.h"
#include "clock.h"
#include "delegation.h"
#include "ids.h"
#include "store.h"

static int
audit_delegation(DB_TXN *txn, const struct principal *who, const char *type,
                 const json_t *rec)
{
	json_t *data = json_pack("{s:O, s:O, s:O}",
	    "delegator_agent_id", json_object_get(rec, "delegator_agent_id"),
	    "delegate_agent_id", json_object_get(rec, "delegate_agent_id"),
	    "scopes", json_object_get(rec, "scopes"));
	struct audit_entry e = { who->tenant, type, who, NULL, "delegation",
	    json_string_value(json_object_get(rec, "id")), NULL, data };
	int rc = audit_append(txn, &e, NULL, 0);

	json_decref(data);
	return rc;
}

/* 409 unless the agent is active: a stopped agent neither grants nor
 * receives authority. */
static int
must_be_active(const json_t *agent, const char *role, struct problem *p)
{
	const char *status = agent_status(agent);

	if (!strcmp(status, "active"))
		return 0;
	problem_set(p, 409, !strcmp(status, "revoked") ? "agent_revoked"
	    : "agent_suspended", "the %s %s is %s", role, agent_ident(agent), status);
	return -1;
}

int
delegation_create(DB_TXN *txn, const struct principal *who,
                  const json_t *delegator, const char *delegate_ref,
                  const json_t *scopes, json_t **out, struct problem *p)
{
	char id[ID_SIZE], now[CLOCK_TEXT_SIZE], key[STORE_KEY_MAX];
	json_t *delegate = NULL, *rec = NULL;
	int rc;

	*out = NULL;
	if (must_be_active(delegator, "delegator", p) != 0)
		return -1;
	rc = agent_find(txn, who->tenant, delegate_ref, &delegate, 0);
	if (rc == DB_NOTFOUND) {
		problem_set(p, 404, "not_found", "no agent %.128s", delegate_ref);
		problem_field(p, "delegate_agent_id");
		return -1;
	}
	if (rc != 0)
		return rc;
	rc = -1;
	if (!strcmp(agent_uuid(delegate), agent_uuid(delegator))) {
		problem_set(p, 400, "self_delegation", "an agent cannot delegate to itself");
		problem_field(p, "delegate_agent_id");
		goto out;
	}
	if (json_array_size(scopes) == 0 || !agent_holds_scopes(delegator, scopes)) {
		problem_set(p, 400, "scopes_not_held",
		    "scopes must name at least one scope the delegator holds");
		problem_field(p, "scopes");
		goto out;
	}
	if (must_be_active(delegate, "delegate", p) != 0)
		goto out;
	id_random_hex(id, sizeof(id), "dlg_", 12);
	clock_format(clock_now_ms(), now);
	rec = json_pack("{s:s, s:O, s:O, s:O, s:O, s:O, s:s, s:s, s:n}",
	    "id", id,
	    "delegator_agent_id", json_object_get(delegator, "agent_id"),
	    "delegator_id", json_object_get(delegator, "id"),
	    "delegate_agent_id", json_object_get(delegate, "agent_id"),
	    "delegate_id", json_object_get(delegate, "id"),
	    "scopes", scopes, "status", "active", "created_at", now,
	    "revoked_at");
	if (rec == NULL) {
		rc = ENOMEM;
		goto out;
	}
	if (store_key(key, sizeof(key), who->tenant, agent_uuid(delegator), id,
	    NULL) < 0) {
		rc = EINVAL;
		goto out;
	}
	if ((rc = store_put_json(txn, T_DELEGATIONS, key, rec, DB_NOOVERWRITE)) == 0 &&
	    (rc = audit_delegation(txn, who, "delegation.created", rec)) == 0) {
		*out = rec;
		rec = NULL;
	}
out:
	json_decref(rec);
	json_decref(delegate);
	return rc;
}

static int
collect(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	json_error_t err;
	json_t *rec = json_loadb(val, vlen, 0, &err);

	(void)key;
	(void)klen;
	if (rec != NULL)
		json_array_append_new(arg, rec);
	return 0;
}

int
delegation_list(const char *tenant, const char *uuid, json_t **items)
{
	char prefix[STORE_KEY_MAX];
	int len = store_key(prefix, sizeof(prefix), tenant, uuid, "", NULL), rc;

	*items = json_array();
	rc = len < 0 ? EINVAL : store_scan(NULL, T_DELEGATIONS, prefix, (size_t)len,
	    0, collect, *items);
	if (rc != 0) {
		json_decref(*items);
		*items = NULL;
	}
	return rc;
}

int
delegation_revoke(DB_TXN *txn, const struct principal *who,
                  const json_t *delegator, const char *delegation_id,
                  json_t **out, struct problem *p)
{
	char key[STORE_KEY_MAX], now[CLOCK_TEXT_SIZE];
	const char *status;
	json_t *rec;
	int rc;

	*out = NULL;
	if (store_key(key, sizeof(key), who->tenant, agent_uuid(delegator),
	    delegation_id, NULL) < 0 ||
	    (rc = store_get_json(txn, T_DELEGATIONS, key, &rec, DB_RMW)) == DB_NOTFOUND) {
		problem_set(p, 404, "not_found", "agent %s granted no delegation %.64s",
		    agent_ident(delegator), delegation_id);
		return -1;
	}
	if (rc != 0)
		return rc;
	status = json_string_value(json_object_get(rec, "status"));
	if (status == NULL || strcmp(status, "active") != 0) {
		json_decref(rec);
		problem_set(p, 409, "already_revoked",
		    "delegation %.64s is already revoked", delegation_id);
		return -1;
	}
	clock_format(clock_now_ms(), now);
	json_object_set_new(rec, "status", json_string("revoked"));
	json_object_set_new(rec, "revoked_at", json_string(now));
	if ((rc = store_put_json(txn, T_DELEGATIONS, key, rec, 0)) == 0 &&
	    (rc = audit_delegation(txn, who, "delegation.revoked", rec)) == 0) {
		*out = rec;
		return 0;
	}
	json_decref(rec);
	return rc;
}

static int
collect_delegate(void *arg, const void *key, size_t klen, const void *val,
                 size_t vlen)
{
	json_error_t err;
	json_t *rec = json_loadb(val, vlen, 0, &err);
	const char *status = json_string_value(json_object_get(rec, "status"));

	(void)key;
	(void)klen;
	if (status && !strcmp(status, "active"))
		json_array_append(arg, json_object_get(rec, "delegate_id"));
	json_decref(rec);
	return 0;
}

int
delegation_delegates(DB_TXN *txn, const char *tenant, const char *uuid,
                     json_t *uuids)
{
	char prefix[STORE_KEY_MAX];
	int len = store_key(prefix, sizeof(prefix), tenant, uuid, "", NULL);

	if (len < 0)
		return EINVAL;
	return store_scan(txn, T_DELEGATIONS, prefix, (size_t)len, 0,
	    collect_delegate, uuids);
}
