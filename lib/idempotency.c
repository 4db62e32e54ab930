/* idempotency.c - store and replay first responses. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "clock.h"
#include "idempotency.h"
#include "jsonout.h"
#include "store.h"

/* The members a secret is shown in: an API key, a session token, a
 * webhook signing secret. */
static const char *const secret_members[] = { "key", "token", "secret", NULL };

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
	const char *fp, *body, *ctype, *withheld;
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
	withheld = json_string_value(json_object_get(rec, "withheld"));
	if (withheld != NULL && withheld[0] != '\0')
		response_header(resp, "Secret-Withheld", withheld);
	*result = IDEM_REPLAYED;
	json_decref(rec);
	return 0;
}

/*
 * The body to keep for a replay.  With withhold, every secret member of
 * the answer is null in it and their names go to withheld ("key"); the
 * body of an answer that is not a JSON object is not kept (its status
 * is), as a secret could not be taken out of it.  NULL when out of memory.
 */
static char *
stored_body(const struct response *resp, int withhold, char *withheld,
            size_t len)
{
	json_t *copy;
	char *body;
	size_t used = 0;

	withheld[0] = '\0';
	if (!withhold)
		return resp->raw ? strndup(resp->raw, resp->raw_len)
		    : resp->json ? jsonout_dumps(resp->json) : strdup("");
	if (!json_is_object(resp->json) || (copy = json_copy(resp->json)) == NULL)
		return strdup("");
	for (const char *const *m = secret_members; *m != NULL; m++) {
		int n;

		if (json_object_get(copy, *m) == NULL)
			continue;
		json_object_set_new(copy, *m, json_null());
		n = snprintf(withheld + used, len - used, "%s%s", used ? ", " : "", *m);
		if (n > 0 && (size_t)n < len - used)
			used += (size_t)n;
	}
	body = jsonout_dumps(copy);
	json_decref(copy);
	return body;
}

int
idem_store(DB_TXN *txn, const char *key_id, const char *idem_key,
           const char *fingerprint, const struct response *resp, int withhold)
{
	char key[STORE_KEY_MAX], withheld[64], *body;
	json_t *rec;
	int rc;

	if (store_key(key, sizeof(key), key_id, idem_key, NULL) < 0)
		return 0;
	if ((body = stored_body(resp, withhold, withheld, sizeof(withheld))) == NULL)
		return ENOMEM;
	rec = json_pack("{s:s, s:i, s:s, s:s, s:I, s:s}", "fingerprint", fingerprint,
	    "status", resp->status, "body", body,
	    "content_type", resp->content_type ? resp->content_type : "application/json",
	    "at", (json_int_t)clock_now_ms(), "withheld", withheld);
	free(body);
	if (rec == NULL)
		return ENOMEM;
	rc = store_put_json(txn, T_IDEMPOTENCY, key, rec, 0);
	json_decref(rec);
	return rc;
}
