/* receipt.c - agent action receipts: pending, finalized, voided. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "agent.h"
#include "audit.h"
#include "clock.h"
#include "ids.h"
#include "receipt.h"
#include "store.h"

const char *const receipt_statuses[] = { "pending", "finalized", "voided", NULL };

/* The record as the API shows it. */
static json_t *
receipt_public(const json_t *rec)
{
	json_t *out = json_deep_copy(rec);

	json_object_del(out, "agent");
	return out;
}

/* hex SHA-256 of the canonical JSON of payload (null when absent) */
static int
payload_digest(const json_t *payload, char out[65])
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	json_t *value = payload ? json_incref((json_t *)payload) : json_null();
	/* the canonical form of the transparency log, for any JSON value */
	char *canon = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS |
	    JSON_ENSURE_ASCII | JSON_ENCODE_ANY);

	json_decref(value);
	if (canon == NULL)
		return ENOMEM;
	crypto_hash_sha256(digest, (const unsigned char *)canon, strlen(canon));
	sodium_bin2hex(out, 65, digest, sizeof(digest));
	free(canon);
	return 0;
}

static int
receipt_key(char *buf, size_t len, const char *tenant, const json_t *agent,
            const char *id)
{
	return store_key(buf, len, tenant, agent_uuid(agent), id, NULL);
}

int
receipt_create(DB_TXN *txn, const struct principal *who, const json_t *agent,
               const char *action, const json_t *payload, json_t **out,
               struct problem *p)
{
	const char *status = agent_status(agent);
	char id[ID_SIZE], now[CLOCK_TEXT_SIZE], digest[65], key[STORE_KEY_MAX];
	json_t *rec, *data;
	int rc;

	*out = NULL;
	if (strcmp(status, "active") != 0) {
		problem_set(p, 409, !strcmp(status, "revoked") ? "agent_revoked"
		    : "agent_suspended", "agent %s is %s and cannot record actions",
		    agent_ident(agent), status);
		return -1;
	}
	if ((rc = payload_digest(payload, digest)) != 0)
		return rc;
	id_random_hex(id, sizeof(id), "arc_", 12);
	clock_format(clock_now_ms(), now);
	rec = json_pack("{s:s, s:O, s:s, s:s, s:o, s:s, s:s, s:s, s:n, s:n}",
	    "id", id, "agent_id", json_object_get(agent, "agent_id"),
	    "agent", agent_uuid(agent), "action", action,
	    "payload", payload ? json_deep_copy(payload) : json_null(),
	    "payload_sha256", digest, "status", "pending", "created_at", now,
	    "finalized_at", "transparency_receipt_id");
	if (rec == NULL)
		return ENOMEM;
	if (receipt_key(key, sizeof(key), who->tenant, agent, id) < 0)
		rc = EINVAL;
	if (rc == 0)
		rc = store_put_json(txn, T_RECEIPTS, key, rec, DB_NOOVERWRITE);
	if (rc == 0)
		rc = store_put(txn, T_RECEIPT_PENDING, key, strlen(key), "", 0, 0);
	if (rc == 0) {
		struct audit_entry e = { who->tenant, "receipt.created", who, NULL,
		    "receipt", id, NULL, NULL };

		data = json_pack("{s:O, s:s, s:s}", "agent_id",
		    json_object_get(agent, "agent_id"), "action", action,
		    "payload_sha256", digest);
		e.data = data;
		rc = audit_append(txn, &e, NULL, 0);
		json_decref(data);
	}
	if (rc == 0)
		*out = receipt_public(rec);
	json_decref(rec);
	return rc;
}

int
receipt_finalize(DB_TXN *txn, const struct principal *who, const json_t *agent,
                 const char *receipt_id, json_t **out, struct problem *p)
{
	char key[STORE_KEY_MAX], now[CLOCK_TEXT_SIZE], anchor[64];
	const char *status;
	json_t *rec, *data;
	int rc;

	*out = NULL;
	if (receipt_key(key, sizeof(key), who->tenant, agent, receipt_id) < 0 ||
	    (rc = store_get_json(txn, T_RECEIPTS, key, &rec, DB_RMW)) == DB_NOTFOUND) {
		problem_set(p, 404, "not_found", "agent %s has no receipt %.64s",
		    agent_ident(agent), receipt_id);
		return -1;
	}
	if (rc != 0)
		return rc;
	status = json_string_value(json_object_get(rec, "status"));
	if (status == NULL || strcmp(status, "pending") != 0) {
		int voided = status && !strcmp(status, "voided");

		problem_set(p, 409, voided ? "receipt_voided" : "already_finalized",
		    "receipt %.64s is %s and cannot be finalized", receipt_id,
		    status ? status : "not pending");
		json_decref(rec);
		return -1;
	}
	clock_format(clock_now_ms(), now);
	data = json_pack("{s:O, s:O, s:O, s:O}", "receipt_id", json_object_get(rec, "id"),
	    "agent_id", json_object_get(rec, "agent_id"),
	    "action", json_object_get(rec, "action"),
	    "payload_sha256", json_object_get(rec, "payload_sha256"));
	{
		struct audit_entry e = { who->tenant, "receipt.finalized", who, NULL,
		    "receipt", receipt_id, NULL, data };

		rc = audit_append(txn, &e, anchor, sizeof(anchor));
	}
	json_decref(data);
	if (rc == 0) {
		json_object_set_new(rec, "status", json_string("finalized"));
		json_object_set_new(rec, "finalized_at", json_string(now));
		json_object_set_new(rec, "transparency_receipt_id", json_string(anchor));
		rc = store_put_json(txn, T_RECEIPTS, key, rec, 0);
	}
	if (rc == 0)
		rc = store_del(txn, T_RECEIPT_PENDING, key, strlen(key));
	if (rc == 0)
		*out = receipt_public(rec);
	json_decref(rec);
	return rc;
}

struct receipt_scan {
	const char *status;
	json_t *items;
};

static int
collect_receipt(void *arg, const void *key, size_t klen, const void *val,
                size_t vlen)
{
	struct receipt_scan *s = arg;
	json_error_t err;
	json_t *rec = json_loadb(val, vlen, 0, &err);
	const char *status;

	(void)key;
	(void)klen;
	if (rec == NULL)
		return 0;
	status = json_string_value(json_object_get(rec, "status"));
	if (s->status == NULL || (status && !strcmp(status, s->status)))
		json_array_append_new(s->items, receipt_public(rec));
	json_decref(rec);
	return 0;
}

int
receipt_list(const char *tenant, const char *uuid, const char *status,
             json_t **items)
{
	struct receipt_scan s = { status, json_array() };
	char prefix[STORE_KEY_MAX];
	int len = store_key(prefix, sizeof(prefix), tenant, uuid, "", NULL), rc;

	rc = len < 0 ? EINVAL : store_scan(NULL, T_RECEIPTS, prefix, (size_t)len,
	    0, collect_receipt, &s);
	if (rc != 0) {
		json_decref(s.items);
		return rc;
	}
	*items = s.items;
	return 0;
}

static int
collect_key(void *arg, const void *key, size_t klen, const void *val,
            size_t vlen)
{
	(void)val;
	(void)vlen;
	json_array_append_new(arg, json_stringn(key, klen));
	return 0;
}

int
receipt_void_pending(DB_TXN *txn, const char *tenant, const char *uuid,
                     const char *at, const char *reason, int dry_run,
                     long *count)
{
	char prefix[STORE_KEY_MAX];
	int len = store_key(prefix, sizeof(prefix), tenant, uuid, "", NULL), rc;
	json_t *keys = json_array(), *k;
	size_t i;

	*count = 0;
	rc = len < 0 ? EINVAL : store_scan(txn, T_RECEIPT_PENDING, prefix,
	    (size_t)len, 0, collect_key, keys);
	json_array_foreach(keys, i, k) {
		const char *key = json_string_value(k);
		json_t *rec;

		if (rc != 0 || dry_run)
			break;
		if ((rc = store_get_json(txn, T_RECEIPTS, key, &rec, DB_RMW)) == 0) {
			json_object_set_new(rec, "status", json_string("voided"));
			json_object_set_new(rec, "voided_at", json_string(at));
			json_object_set_new(rec, "void_reason",
			    reason ? json_string(reason) : json_null());
			rc = store_put_json(txn, T_RECEIPTS, key, rec, 0);
			json_decref(rec);
		} else if (rc == DB_NOTFOUND) {
			rc = 0;
		}
		if (rc == 0)
			rc = store_del(txn, T_RECEIPT_PENDING, key, strlen(key));
	}
	if (rc == 0)
		*count = (long)json_array_size(keys);
	json_decref(keys);
	return rc;
}
