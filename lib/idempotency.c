/* idempotency.c - store and replay first responses. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "clock.h"
#include "idempotency.h"
#include "store.h"

int
idem_key_valid(const char *key)
{
	size_t len = strlen(key);

	if (len == 0 || len > 255)
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)key[i] < 0x20 || (unsigned char)key[i] > 0x7e)
			return 0;
	return 1;
}

void
idem_fingerprint(const struct request *r, char out[65])
{
	crypto_hash_sha256_state st;
	unsigned char digest[crypto_hash_sha256_BYTES];

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)r->method, strlen(r->method) + 1);
	crypto_hash_sha256_update(&st, (const unsigned char *)r->path, strlen(r->path) + 1);
	if (r->body)
		crypto_hash_sha256_update(&st, (const unsigned char *)r->body, r->body_len);
	crypto_hash_sha256_final(&st, digest);
	sodium_bin2hex(out, 65, digest, sizeof(digest));
}

int
idem_lookup(DB_TXN *txn, const char *key_id, const char *idem_key,
            const char *fingerprint, struct response *resp,
            enum idem_result *result)
{
	char key[STORE_KEY_MAX];
	const char *fp, *body, *ctype;
	json_t *rec;
	int rc;

	*result = IDEM_NEW;
	if (store_key(key, sizeof(key), key_id, idem_key, NULL) < 0)
		return 0;
	rc = store_get_json(txn, T_IDEMPOTENCY, key, &rec, DB_RMW);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (clock_now_ms() - json_integer_value(json_object_get(rec, "at")) >
	    IDEMPOTENCY_TTL_MS) {
		json_decref(rec);
		return 0;
	}
	fp = json_string_value(json_object_get(rec, "fingerprint"));
	if (fp == NULL || strcmp(fp, fingerprint) != 0) {
		*result = IDEM_MISMATCH;
		json_decref(rec);
		return 0;
	}
	body = json_string_value(json_object_get(rec, "body"));
	ctype = json_string_value(json_object_get(rec, "content_type"));
	response_raw(resp, (int)json_integer_value(json_object_get(rec, "status")),
	    ctype && !strcmp(ctype, "application/problem+json")
	        ? "application/problem+json" : "application/json",
	    strdup(body ? body : ""), body ? strlen(body) : 0);
	response_header(resp, "Idempotent-Replayed", "true");
	*result = IDEM_REPLAYED;
	json_decref(rec);
	return 0;
}

int
idem_store(DB_TXN *txn, const char *key_id, const char *idem_key,
           const char *fingerprint, struct response *resp)
{
	char key[STORE_KEY_MAX], *body;
	json_t *rec;
	int rc;

	if (store_key(key, sizeof(key), key_id, idem_key, NULL) < 0)
		return 0;
	body = resp->raw ? strndup(resp->raw, resp->raw_len)
	                 : resp->json ? json_dumps(resp->json, JSON_COMPACT) : strdup("");
	if (body == NULL)
		return ENOMEM;
	rec = json_pack("{s:s, s:i, s:s, s:s, s:I}", "fingerprint", fingerprint,
	    "status", resp->status, "body", body,
	    "content_type", resp->content_type ? resp->content_type : "application/json",
	    "at", (json_int_t)clock_now_ms());
	free(body);
	if (rec == NULL)
		return ENOMEM;
	rc = store_put_json(txn, T_IDEMPOTENCY, key, rec, 0);
	json_decref(rec);
	return rc;
}
