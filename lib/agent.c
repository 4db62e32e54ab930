/* agent.c - the agent registry: records, lookup and status transitions. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "agent.h"
#include "audit.h"
#include "clock.h"
#include "ids.h"
#include "store.h"

#define MAIP_PREFIX "maip:"

const char *const agent_types[] = {
	"orchestrator", "worker", "inference", "pipeline", "service", "bot",
	"llm", NULL
};

const char *const agent_statuses[] = { "active", "suspended", "revoked", NULL };

const char *
agent_uuid(const json_t *agent)
{
	return json_string_value(json_object_get(agent, "id"));
}

const char *
agent_ident(const json_t *agent)
{
	return json_string_value(json_object_get(agent, "agent_id"));
}

const char *
agent_status(const json_t *agent)
{
	const char *s = json_string_value(json_object_get(agent, "status"));

	return s ? s : "";
}

static int
scope_listed(const json_t *list, const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), name))
			return 1;
	return 0;
}

int
agent_holds_scopes(const json_t *agent, const json_t *wanted)
{
	const json_t *held = json_object_get(agent, "scopes");
	size_t i;
	json_t *v;

	json_array_foreach(wanted, i, v)
		if (!json_is_string(v) || !scope_listed(held, json_string_value(v)))
			return 0;
	return 1;
}

/* The scopes as given, without repeats, in their first order. */
static json_t *
unique_scopes(const json_t *given)
{
	json_t *out = json_array(), *v;
	size_t i;

	json_array_foreach(given, i, v)
		if (!scope_listed(out, json_string_value(v)))
			json_array_append(out, v);
	return out;
}

/*
 * The public key as keys[] shows it: base64 of 32 bytes (Ed25519, as
 * MAIP agents sign), kid the first 16 hex digits of its SHA-256.
 */
static json_t *
key_entry(const char *public_key, struct problem *p)
{
	unsigned char raw[64], digest[crypto_hash_sha256_BYTES];
	char kid[40];
	size_t len = 0;

	if (sodium_base642bin(raw, sizeof(raw), public_key, strlen(public_key),
	    NULL, &len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    len != crypto_sign_PUBLICKEYBYTES) {
		problem_set(p, 400, "invalid_field",
		    "field public_key must be the base64 of a 32-byte Ed25519 public key");
		problem_field(p, "public_key");
		return NULL;
	}
	crypto_hash_sha256(digest, raw, len);
	memcpy(kid, "kid_", 4);
	sodium_bin2hex(kid + 4, sizeof(kid) - 4, digest, 8);
	return json_pack("{s:s, s:s, s:s, s:s}", "kid", kid,
	    "algorithm", "Ed25519", "public_key", public_key, "status", "active");
}

static int
audit_agent(DB_TXN *txn, const struct principal *who, const json_t *agent,
            const char *type, const char *reason, json_t *data)
{
	struct audit_entry e = { who->tenant, type, who, NULL, "agent",
	    agent_ident(agent), reason, data };
	int rc = audit_append(txn, &e, NULL, 0);

	json_decref(data);
	return rc;
}

int
agent_store(DB_TXN *txn, const char *tenant, const json_t *agent)
{
	char key[STORE_KEY_MAX];

	if (store_key(key, sizeof(key), tenant, agent_uuid(agent), NULL) < 0)
		return EINVAL;
	return store_put_json(txn, T_AGENTS, key, agent, 0);
}

int
agent_register(DB_TXN *txn, const struct principal *who, const json_t *body,
               json_t **agent, struct problem *p)
{
	const char *public_key = json_string_value(json_object_get(body, "public_key"));
	const json_t *scopes = json_object_get(body, "scopes");
	const json_t *metadata = json_object_get(body, "metadata");
	const json_t *trust = json_object_get(body, "trust_score");
	const char *description = json_string_value(json_object_get(body, "description"));
	char uuid[37], ulid[27], agent_id[128], now[CLOCK_TEXT_SIZE], key[STORE_KEY_MAX];
	json_t *rec, *keys = json_array(), *entry;
	int rc;

	*agent = NULL;
	if (public_key != NULL) {
		if ((entry = key_entry(public_key, p)) == NULL) {
			json_decref(keys);
			return -1;
		}
		json_array_append_new(keys, entry);
	}
	id_uuid4(uuid);
	id_ulid(ulid);
	snprintf(agent_id, sizeof(agent_id), MAIP_PREFIX "%s:%s", who->tenant, ulid);
	clock_format(clock_now_ms(), now);
	rec = json_pack("{s:s, s:s, s:O, s:O, s:s, s:s, s:o, s:o, s:f, s:o, s:o,"
	    " s:s, s:s}",
	    "id", uuid, "agent_id", agent_id,
	    "agent_type", json_object_get(body, "agent_type"),
	    "display_name", json_object_get(body, "display_name"),
	    "description", description ? description : "",
	    "status", "active",
	    "scopes", scopes ? unique_scopes(scopes) : json_array(),
	    "metadata", metadata ? json_deep_copy(metadata) : json_object(),
	    "trust_score", trust ? json_number_value(trust) : 0.5,
	    "public_key", public_key ? json_string(public_key) : json_null(),
	    "keys", keys,
	    "created_at", now, "updated_at", now);
	if (rec == NULL)
		return ENOMEM;
	if ((rc = agent_store(txn, who->tenant, rec)) != 0)
		goto out;
	if (store_key(key, sizeof(key), who->tenant, agent_id, NULL) < 0) {
		rc = EINVAL;
		goto out;
	}
	rc = store_put(txn, T_AGENT_IDS, key, strlen(key), uuid, strlen(uuid),
	    DB_NOOVERWRITE);
	if (rc == 0)
		rc = audit_agent(txn, who, rec, "agent.registered", NULL,
		    json_pack("{s:s, s:O, s:O}", "id", uuid,
		    "agent_type", json_object_get(rec, "agent_type"),
		    "scopes", json_object_get(rec, "scopes")));
out:
	if (rc != 0) {
		json_decref(rec);
		return rc;
	}
	*agent = rec;
	return 0;
}

/* The uuid an agent_id names, into uuid. */
static int
uuid_of(DB_TXN *txn, const char *tenant, const char *agent_id, char uuid[64])
{
	char key[STORE_KEY_MAX];
	void *val;
	size_t len;
	int rc;

	if (store_key(key, sizeof(key), tenant, agent_id, NULL) < 0)
		return DB_NOTFOUND;
	if ((rc = store_get(txn, T_AGENT_IDS, key, strlen(key), &val, &len, 0)) != 0)
		return rc;
	if (len == 0 || len >= 64) {
		free(val);
		return DB_NOTFOUND;
	}
	memcpy(uuid, val, len);
	uuid[len] = '\0';
	free(val);
	return 0;
}

int
agent_find(DB_TXN *txn, const char *tenant, const char *ref, json_t **agent,
           uint32_t flags)
{
	char uuid[64], key[STORE_KEY_MAX];
	int rc;

	*agent = NULL;
	if (ref == NULL || *ref == '\0')
		return DB_NOTFOUND;
	if (!strncmp(ref, MAIP_PREFIX, strlen(MAIP_PREFIX))) {
		if ((rc = uuid_of(txn, tenant, ref, uuid)) != 0)
			return rc;
		ref = uuid;
	}
	if (store_key(key, sizeof(key), tenant, ref, NULL) < 0)
		return DB_NOTFOUND;
	return store_get_json(txn, T_AGENTS, key, agent, flags);
}

int
agent_ref_shaped(const char *ref)
{
	return !strncmp(ref, MAIP_PREFIX, strlen(MAIP_PREFIX)) ||
	    strlen(ref) == ID_UUID_LEN;
}

int
agent_other_ref(DB_TXN *txn, const char *tenant, const char *ref,
                char *other, size_t len)
{
	const char *found;
	json_t *agent;
	int rc;

	if (!agent_ref_shaped(ref))
		return DB_NOTFOUND;
	if ((rc = agent_find(txn, tenant, ref, &agent, 0)) != 0)
		return rc;
	found = strcmp(ref, agent_uuid(agent)) ? agent_uuid(agent)
	    : agent_ident(agent);
	rc = found && strlen(found) < len ? 0 : EINVAL;
	if (rc == 0)
		memcpy(other, found, strlen(found) + 1);
	json_decref(agent);
	return rc;
}

json_t *
agent_public(const json_t *agent, long session_count)
{
	json_t *out = json_deep_copy(agent);

	if (out == NULL)
		return NULL;
	json_object_set_new(out, "session_count", json_integer(session_count));
	return out;
}

struct agent_filter {
	const char *status, *type;
	json_t *items;
};

static int
collect_agent(void *arg, const void *key, size_t klen, const void *val,
              size_t vlen)
{
	struct agent_filter *f = arg;
	json_error_t err;
	json_t *rec = json_loadb(val, vlen, 0, &err);
	const char *type;

	(void)key;
	(void)klen;
	if (rec == NULL)
		return 0;
	type = json_string_value(json_object_get(rec, "agent_type"));
	if ((f->status && strcmp(agent_status(rec), f->status)) ||
	    (f->type && (type == NULL || strcmp(type, f->type))))
		json_decref(rec);
	else
		json_array_append_new(f->items, rec);
	return 0;
}

int
agent_list(const char *tenant, const char *status, const char *type,
           json_t **items)
{
	struct agent_filter f = { status, type, json_array() };
	char prefix[STORE_KEY_MAX];
	int len = store_key(prefix, sizeof(prefix), tenant, "", NULL);
	int rc;

	if (len < 0)
		rc = EINVAL;
	else
		rc = store_scan(NULL, T_AGENTS, prefix, (size_t)len, 0, collect_agent, &f);
	if (rc != 0) {
		json_decref(f.items);
		return rc;
	}
	*items = f.items;
	return 0;
}

/* The stop entries of an agent, under its uuid and its agent_id. */
static int
stop_write(DB_TXN *txn, const char *tenant, const json_t *agent,
           const char *reason, const char *at)
{
	const char *refs[2] = { agent_uuid(agent), agent_ident(agent) };
	char key[STORE_KEY_MAX];
	json_t *stop;
	int rc = 0;

	stop = json_pack("{s:s, s:s, s:s, s:o, s:s}", "id", refs[0],
	    "agent_id", refs[1], "status", agent_status(agent),
	    "reason", reason ? json_string(reason) : json_null(), "at", at);
	if (stop == NULL)
		return ENOMEM;
	for (int i = 0; i < 2 && rc == 0; i++) {
		if (store_key(key, sizeof(key), tenant, refs[i], NULL) < 0)
			rc = EINVAL;
		else
			rc = store_put_json(txn, T_AGENT_STOPS, key, stop, 0);
	}
	json_decref(stop);
	return rc;
}

static int
stop_clear(DB_TXN *txn, const char *tenant, const json_t *agent)
{
	const char *refs[2] = { agent_uuid(agent), agent_ident(agent) };
	char key[STORE_KEY_MAX];
	int rc;

	for (int i = 0; i < 2; i++) {
		if (store_key(key, sizeof(key), tenant, refs[i], NULL) < 0)
			return EINVAL;
		rc = store_del(txn, T_AGENT_STOPS, key, strlen(key));
		if (rc != 0 && rc != DB_NOTFOUND)
			return rc;
	}
	return 0;
}

int
agent_stop_find(DB_TXN *txn, const char *tenant, const char *ref, json_t **stop)
{
	char key[STORE_KEY_MAX];

	*stop = NULL;
	if (ref == NULL || store_key(key, sizeof(key), tenant, ref, NULL) < 0)
		return DB_NOTFOUND;
	return store_get_json(txn, T_AGENT_STOPS, key, stop, 0);
}

/* suspended <-> active; the caller has checked the transition is one. */
static int
set_suspended(DB_TXN *txn, const struct principal *who, json_t *agent,
              const char *reason, const char *now)
{
	int rc;

	json_object_set_new(agent, "status", json_string("suspended"));
	json_object_set_new(agent, "suspended_reason",
	    reason ? json_string(reason) : json_null());
	json_object_set_new(agent, "suspended_at", json_string(now));
	json_object_set_new(agent, "updated_at", json_string(now));
	if ((rc = stop_write(txn, who->tenant, agent, reason, now)) != 0)
		return rc;
	return audit_agent(txn, who, agent, "agent.suspended", reason,
	    json_pack("{s:O}", "id", json_object_get(agent, "id")));
}

static int
set_reactivated(DB_TXN *txn, const struct principal *who, json_t *agent,
                const char *now)
{
	int rc;

	json_object_set_new(agent, "status", json_string("active"));
	json_object_del(agent, "suspended_reason");
	json_object_del(agent, "suspended_at");
	json_object_set_new(agent, "updated_at", json_string(now));
	if ((rc = stop_clear(txn, who->tenant, agent)) != 0)
		return rc;
	return audit_agent(txn, who, agent, "agent.reactivated", NULL,
	    json_pack("{s:O}", "id", json_object_get(agent, "id")));
}

static int
refuse_revoked(const json_t *agent, struct problem *p)
{
	problem_set(p, 409, "agent_revoked",
	    "agent %s is revoked; register a new agent", agent_ident(agent));
	return -1;
}

int
agent_update(DB_TXN *txn, const struct principal *who, json_t *agent,
             const json_t *body, struct problem *p)
{
	static const char *const fields[] = { "display_name", "description",
	    "metadata", NULL };
	const char *status = json_string_value(json_object_get(body, "status"));
	char now[CLOCK_TEXT_SIZE];
	json_t *changed = json_array();
	int rc = 0;

	if (json_object_get(body, "scopes") != NULL) {
		json_decref(changed);
		problem_set(p, 400, "scopes_immutable",
		    "scopes cannot be changed; use delegations or re-register the agent");
		problem_field(p, "scopes");
		return -1;
	}
	if (status && !strcmp(status, "revoked")) {
		json_decref(changed);
		problem_set(p, 400, "invalid_field",
		    "status revoked is set by POST /v1/agents/{agentId}/kill or /revoke");
		problem_field(p, "status");
		return -1;
	}
	if (!strcmp(agent_status(agent), "revoked")) {
		json_decref(changed);
		return refuse_revoked(agent, p);
	}
	clock_format(clock_now_ms(), now);
	for (int i = 0; fields[i]; i++) {
		json_t *v = json_object_get(body, fields[i]);

		if (v == NULL)
			continue;
		json_object_set_new(agent, fields[i], json_deep_copy(v));
		json_array_append_new(changed, json_string(fields[i]));
	}
	if (json_array_size(changed) > 0) {
		json_object_set_new(agent, "updated_at", json_string(now));
		rc = audit_agent(txn, who, agent, "agent.updated", NULL,
		    json_pack("{s:O, s:O}", "id", json_object_get(agent, "id"),
		    "fields", changed));
	}
	json_decref(changed);
	if (rc == 0 && status && strcmp(status, agent_status(agent)) != 0)
		rc = !strcmp(status, "suspended")
		    ? set_suspended(txn, who, agent, NULL, now)
		    : set_reactivated(txn, who, agent, now);
	if (rc == 0)
		rc = agent_store(txn, who->tenant, agent);
	return rc;
}

int
agent_suspend(DB_TXN *txn, const struct principal *who, json_t *agent,
              const char *reason, struct problem *p)
{
	char now[CLOCK_TEXT_SIZE];
	int rc;

	if (!strcmp(agent_status(agent), "revoked"))
		return refuse_revoked(agent, p);
	if (!strcmp(agent_status(agent), "suspended")) {
		problem_set(p, 409, "already_suspended",
		    "agent %s is already suspended", agent_ident(agent));
		return -1;
	}
	clock_format(clock_now_ms(), now);
	if ((rc = set_suspended(txn, who, agent, reason, now)) != 0)
		return rc;
	return agent_store(txn, who->tenant, agent);
}

int
agent_mark_revoked(DB_TXN *txn, const char *tenant, json_t *agent,
                   const char *reason, const char *at)
{
	int rc;

	json_object_set_new(agent, "status", json_string("revoked"));
	json_object_set_new(agent, "revoked_at", json_string(at));
	json_object_set_new(agent, "revoked_reason",
	    reason ? json_string(reason) : json_null());
	json_object_set_new(agent, "updated_at", json_string(at));
	{
		/* a revoked identity's keys are revoked with it */
		json_t *keys = json_object_get(agent, "keys"), *k;
		size_t i;

		json_array_foreach(keys, i, k)
			json_object_set_new(k, "status", json_string("revoked"));
	}
	if ((rc = stop_write(txn, tenant, agent, reason, at)) != 0)
		return rc;
	return agent_store(txn, tenant, agent);
}
