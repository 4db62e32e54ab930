/* webhook.c - webhook subscription records and their sealed secrets. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit.h"
#include "clock.h"
#include "event.h"
#include "ids.h"
#include "pepper.h"
#include "store.h"
#include "webhook.h"

#define SEAL_LABEL "andon webhook secrets v1"
#define SEALED_BYTES (crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + \
                      WEBHOOK_SECRET_BYTES)

int
webhook_events_valid(const json_t *events, struct problem *p)
{
	size_t i;
	json_t *v;

	if (json_array_size(events) == 0) {
		problem_set(p, 400, "invalid_field", "field events must name at least "
		    "one event type");
		problem_field(p, "events");
		return -1;
	}
	json_array_foreach(events, i, v) {
		const char *pattern = json_string_value(v);

		if (!event_pattern_known(pattern)) {
			problem_set(p, 400, "invalid_field", "field events: %.64s is not an "
			    "audit event type nor a prefix of one (\"killswitch.*\")", pattern);
			problem_field(p, "events");
			return -1;
		}
	}
	return 0;
}

int
webhook_wants(const json_t *sub, const json_t *event)
{
	const char *type = json_string_value(json_object_get(event, "type"));
	size_t i;
	json_t *v;

	if (type == NULL || !json_is_true(json_object_get(sub, "enabled")))
		return 0;
	if (!strcmp(type, "webhook.test")) {
		const char *target = json_string_value(json_object_get(
		    json_object_get(event, "target"), "id"));
		const char *id = json_string_value(json_object_get(sub, "id"));

		return target && id && !strcmp(target, id);
	}
	json_array_foreach(json_object_get(sub, "events"), i, v)
		if (json_is_string(v) && event_pattern_matches(json_string_value(v), type))
			return 1;
	return 0;
}

/* A new secret: its text, and its sealed form for the record. */
static int
new_secret(char text[WEBHOOK_SECRET_TEXT], json_t **sealed)
{
	unsigned char raw[WEBHOOK_SECRET_BYTES], key[32], box[SEALED_BYTES];
	char b64[sodium_base64_ENCODED_LEN(SEALED_BYTES, sodium_base64_VARIANT_ORIGINAL)];

	if (pepper_subkey(SEAL_LABEL, key) != 0)
		return ENOSYS;
	randombytes_buf(raw, sizeof(raw));
	memcpy(text, "whsec_", 6);
	sodium_bin2base64(text + 6, WEBHOOK_SECRET_TEXT - 6, raw, sizeof(raw),
	    sodium_base64_VARIANT_ORIGINAL);
	randombytes_buf(box, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES, raw, sizeof(raw),
	    box, key);
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(key, sizeof(key));
	sodium_bin2base64(b64, sizeof(b64), box, sizeof(box),
	    sodium_base64_VARIANT_ORIGINAL);
	*sealed = json_pack("{s:s, s:s, s:n}", "sealed", b64, "pepper_id",
	    pepper_id(), "expires_ms");
	return *sealed ? 0 : ENOMEM;
}

static int
record_key(char *buf, size_t len, const char *tenant, const char *id)
{
	return store_key(buf, len, tenant, id, NULL);
}

int
webhook_create(DB_TXN *txn, const char *tenant, const char *url,
               const json_t *events, const char *description, json_t **rec,
               char secret[WEBHOOK_SECRET_TEXT])
{
	char id[ID_SIZE], now[CLOCK_TEXT_SIZE];
	uint64_t from_seq;
	json_t *sealed;
	int rc;

	/* it gets the events committed after it (outbox.h) */
	if ((rc = audit_head(txn, &from_seq, NULL, 0)) != 0)
		return rc;
	if ((rc = new_secret(secret, &sealed)) != 0)
		return rc;
	id_random_hex(id, sizeof(id), "wh_", 12);
	clock_format(clock_now_ms(), now);
	*rec = json_pack("{s:s, s:s, s:s, s:O, s:o, s:b, s:s, s:s, s:[o], s:I}",
	    "id", id, "tenant", tenant, "url", url, "events", events,
	    "description", description ? json_string(description) : json_null(),
	    "enabled", 1, "created_at", now, "updated_at", now, "secrets", sealed,
	    "from_seq", (json_int_t)from_seq);
	if (*rec == NULL) {
		sodium_memzero(secret, WEBHOOK_SECRET_TEXT);
		return ENOMEM;
	}
	if ((rc = webhook_put(txn, *rec)) != 0) {
		json_decref(*rec);
		*rec = NULL;
		sodium_memzero(secret, WEBHOOK_SECRET_TEXT);
	}
	return rc;
}

int
webhook_get(DB_TXN *txn, const char *tenant, const char *id, json_t **rec,
            uint32_t flags)
{
	char key[STORE_KEY_MAX];

	if (record_key(key, sizeof(key), tenant, id) < 0)
		return DB_NOTFOUND;
	return store_get_json(txn, T_WEBHOOKS, key, rec, flags);
}

int
webhook_put(DB_TXN *txn, const json_t *rec)
{
	char key[STORE_KEY_MAX];

	if (record_key(key, sizeof(key),
	    json_string_value(json_object_get(rec, "tenant")),
	    json_string_value(json_object_get(rec, "id"))) < 0)
		return EINVAL;
	return store_put_json(txn, T_WEBHOOKS, key, rec, 0);
}

int
webhook_delete(DB_TXN *txn, const char *tenant, const char *id)
{
	char key[STORE_KEY_MAX];
	int klen = record_key(key, sizeof(key), tenant, id);

	if (klen < 0)
		return DB_NOTFOUND;
	return store_del(txn, T_WEBHOOKS, key, (size_t)klen);
}

json_t *
webhook_public(const json_t *rec)
{
	json_t *pub = json_deep_copy(rec);

	if (pub != NULL) {
		json_t *since = json_object_get(rec, "failing_since_ms");
		char text[CLOCK_TEXT_SIZE];

		json_object_del(pub, "secrets");
		json_object_del(pub, "tenant");
		json_object_del(pub, "from_seq");
		json_object_del(pub, "failing_since_ms");
		if (json_is_integer(since)) {
			clock_format(json_integer_value(since), text);
			json_object_set_new(pub, "failing_since", json_string(text));
		} else
			json_object_set_new(pub, "failing_since", json_null());
	}
	return pub;
}

struct list_scan {
	const json_t *event;
	DB_TXN *txn;
	int (*fn)(DB_TXN *, const json_t *, const json_t *, void *);
	void *arg;
};

/* A listing's step: the endpoint as its tenant reads it. */
static int
public_item(void *arg, const void *key, size_t klen, json_t *rec, json_t **item)
{
	(void)arg;
	(void)key;
	(void)klen;
	*item = webhook_public(rec);
	return 0;
}

int
webhook_list(const char *tenant, json_t **items)
{
	return store_list_tenant(T_WEBHOOKS, tenant, public_item, NULL, items);
}

struct find_scan {
	const char *id;
	json_t *rec;
};

static int
find_one(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct find_scan *f = arg;
	size_t n = strlen(f->id);
	json_error_t err;

	if (klen <= n || ((const char *)key)[klen - n - 1] != KEY_SEP ||
	    memcmp((const char *)key + klen - n, f->id, n) != 0)
		return 0;
	f->rec = json_loadb(val, vlen, 0, &err);
	return 1;
}

int
webhook_find(const char *id, json_t **rec)
{
	struct find_scan f = { id, NULL };
	int rc = store_scan(NULL, T_WEBHOOKS, "", 0, 0, find_one, &f);

	if (rc != 0)
		return rc;
	if (f.rec == NULL)
		return DB_NOTFOUND;
	*rec = f.rec;
	return 0;
}

static int
each_wanting(void *arg, const void *key, size_t klen, const void *val,
             size_t vlen)
{
	struct list_scan *s = arg;
	json_error_t err;
	json_t *rec = json_loadb(val, vlen, 0, &err);
	int rc = 0;

	(void)key;
	(void)klen;
	if (rec != NULL && webhook_wants(rec, s->event))
		rc = s->fn(s->txn, rec, s->event, s->arg);
	json_decref(rec);
	return rc;
}

int
webhook_each_wanting(DB_TXN *txn, const json_t *event,
                     int (*fn)(DB_TXN *, const json_t *, const json_t *, void *),
                     void *arg)
{
	char prefix[STORE_KEY_MAX];
	struct list_scan s = { event, txn, fn, arg };
	int plen = store_key(prefix, sizeof(prefix),
	    json_string_value(json_object_get(event, "tenant")), "", NULL);

	if (plen < 0)
		return EINVAL;
	return store_scan(txn, T_WEBHOOKS, prefix, (size_t)plen, 0, each_wanting, &s);
}

int
webhook_rotate(json_t *rec, int64_t overlap_ms, char secret[WEBHOOK_SECRET_TEXT])
{
	json_t *old = json_object_get(rec, "secrets"), *kept = json_array(), *sealed;
	int64_t now = clock_now_ms();
	size_t i;
	json_t *s;
	int rc;

	if (kept == NULL)
		return ENOMEM;
	if ((rc = new_secret(secret, &sealed)) != 0) {
		json_decref(kept);
		return rc;
	}
	json_array_append_new(kept, sealed);
	json_array_foreach(old, i, s) {
		json_t *exp = json_object_get(s, "expires_ms");
		json_t *copy;

		if (json_is_integer(exp) && json_integer_value(exp) <= now)
			continue;
		if (json_array_size(kept) >= WEBHOOK_MAX_KEYS)
			break;
		copy = json_deep_copy(s);
		if (!json_is_integer(exp))
			json_object_set_new(copy, "expires_ms", json_integer(now + overlap_ms));
		json_array_append_new(kept, copy);
	}
	json_object_set_new(rec, "secrets", kept);
	return 0;
}

int
webhook_signing_keys(const json_t *rec, int64_t now_ms,
                     unsigned char keys[WEBHOOK_MAX_KEYS][WEBHOOK_SECRET_BYTES])
{
	unsigned char key[32], box[SEALED_BYTES];
	size_t i, len;
	json_t *s;
	int count = 0;

	if (pepper_subkey(SEAL_LABEL, key) != 0)
		return -1;
	json_array_foreach(json_object_get(rec, "secrets"), i, s) {
		const char *b64 = json_string_value(json_object_get(s, "sealed"));
		json_t *exp = json_object_get(s, "expires_ms");

		if (count == WEBHOOK_MAX_KEYS || b64 == NULL ||
		    (json_is_integer(exp) && json_integer_value(exp) <= now_ms))
			continue;
		if (sodium_base642bin(box, sizeof(box), b64, strlen(b64), NULL, &len,
		    NULL, sodium_base64_VARIANT_ORIGINAL) != 0 || len != sizeof(box))
			continue;
		if (crypto_secretbox_open_easy(keys[count],
		    box + crypto_secretbox_NONCEBYTES,
		    sizeof(box) - crypto_secretbox_NONCEBYTES, box, key) == 0)
			count++;
	}
	sodium_memzero(key, sizeof(key));
	return count > 0 ? count : -1;
}

void
webhook_clear_failing(json_t *rec)
{
	json_object_del(rec, "failing_since_ms");
	json_object_del(rec, "disabled_at");
	json_object_del(rec, "disabled_reason");
}

int
webhook_note_attempt(DB_TXN *txn, const char *tenant, const char *id, int ok,
                     int64_t now_ms, int64_t disable_after_ms,
                     char reason[WEBHOOK_REASON_SIZE], json_t **disabled)
{
	char at[CLOCK_TEXT_SIZE], since_text[CLOCK_TEXT_SIZE];
	json_t *rec, *since;
	int64_t since_ms;
	int rc;

	*disabled = NULL;
	rc = webhook_get(txn, tenant, id, &rec, DB_RMW);

	if (rc == DB_NOTFOUND)
		return 0;                 /* deleted since: nothing to keep */
	if (rc != 0)
		return rc;
	since = json_object_get(rec, "failing_since_ms");
	if (ok || !json_is_true(json_object_get(rec, "enabled"))) {
		/* healthy (or already disabled): written only on a change */
		if (ok && since != NULL) {
			json_object_del(rec, "failing_since_ms");
			rc = webhook_put(txn, rec);
		}
		json_decref(rec);
		return rc;
	}
	if (!json_is_integer(since)) {
		json_object_set_new(rec, "failing_since_ms", json_integer(now_ms));
		rc = webhook_put(txn, rec);
		json_decref(rec);
		return rc;
	}
	since_ms = json_integer_value(since);
	if (disable_after_ms <= 0 || now_ms - since_ms < disable_after_ms) {
		json_decref(rec);
		return 0;
	}
	/* every attempt has failed for disable_after_ms: disabled, and said */
	clock_format(now_ms, at);
	clock_format(since_ms, since_text);
	snprintf(reason, WEBHOOK_REASON_SIZE, "every delivery attempt has failed "
	    "since %s", since_text);
	json_object_set_new(rec, "enabled", json_false());
	json_object_set_new(rec, "disabled_at", json_string(at));
	json_object_set_new(rec, "disabled_reason", json_string(reason));
	json_object_set_new(rec, "updated_at", json_string(at));
	if ((rc = webhook_put(txn, rec)) == 0)
		*disabled = json_pack("{s:O, s:s, s:I}",
		    "url", json_object_get(rec, "url"), "failing_since", since_text,
		    "disable_after_seconds", (json_int_t)(disable_after_ms / 1000));
	json_decref(rec);
	return rc;
}
