/* test_idempotency.c - unit tests of lib/idempotency.c (Check). */
#include <signal.h>

#include "idempotency.h"
#include "request.h"
#include "response.h"
#include "store.h"
#include "unit.h"

START_TEST(idempotency_key_syntax)
{
	char key[300];

	ck_assert(idem_key_valid("k-1"));
	ck_assert(idem_key_valid("a b"));
	ck_assert(idem_key_valid(" "));
	ck_assert(idem_key_valid("~!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}"));
	ck_assert(idem_key_valid("550e8400-e29b-41d4-a716-446655440000"));
	ck_assert(!idem_key_valid(""));
	ck_assert(!idem_key_valid("tab\there"));
	ck_assert(!idem_key_valid("new\nline"));
	ck_assert(!idem_key_valid("cr\r"));
	ck_assert(!idem_key_valid("del\x7f"));
	ck_assert(!idem_key_valid("caf\xc3\xa9"));
	ck_assert(!idem_key_valid("\x1f"));
	memset(key, 'k', 255);
	key[255] = '\0';
	ck_assert(idem_key_valid(key));
	key[255] = 'k';
	key[256] = '\0';
	ck_assert(!idem_key_valid(key));
}
END_TEST

START_TEST(idempotency_fingerprints)
{
	struct request a, b;
	char fa[65], fb[65];

	memset(&a, 0, sizeof(a));
	a.method = "POST";
	snprintf(a.path, sizeof(a.path), "/v1/kill");
	a.body = "{\"x\":1}";
	a.body_len = strlen(a.body);
	b = a;
	idem_fingerprint(&a, fa);
	idem_fingerprint(&b, fb);
	ck_assert_uint_eq(strlen(fa), 64);
	ck_assert_str_eq(fa, fb);
	b.body = "{\"x\":2}";
	idem_fingerprint(&b, fb);
	ck_assert_str_ne(fa, fb);
	b = a;
	snprintf(b.path, sizeof(b.path), "/v1/revive");
	idem_fingerprint(&b, fb);
	ck_assert_str_ne(fa, fb);
	b = a;
	b.method = "PUT";
	idem_fingerprint(&b, fb);
	ck_assert_str_ne(fa, fb);
	/* method and path are delimited: "POST" "/x" differs from "POST/" "x" */
	b = a;
	b.method = "POST/";
	snprintf(b.path, sizeof(b.path), "v1/kill");
	idem_fingerprint(&b, fb);
	ck_assert_str_ne(fa, fb);
}
END_TEST

struct idem_job {
	const char *key_id, *idem_key, *fingerprint;
	struct response *resp;
	enum idem_result result;
	int store;
	int withhold;
};

static int
idem_txn(DB_TXN *txn, void *arg)
{
	struct idem_job *j = arg;

	if (j->store)
		return idem_store(txn, j->key_id, j->idem_key, j->fingerprint, j->resp,
		    j->withhold);
	return idem_lookup(txn, j->key_id, j->idem_key, j->fingerprint, j->resp, &j->result);
}

static enum idem_result
lookup(const char *key_id, const char *idem_key, const char *fp, struct response *resp)
{
	struct idem_job j = { key_id, idem_key, fp, resp, IDEM_MISMATCH, 0, 0 };

	ck_assert_int_eq(store_run(idem_txn, &j), 0);
	return j.result;
}

START_TEST(idempotency_replays_the_first_response)
{
	const char *fp = "1111111111111111111111111111111111111111111111111111111111111111";
	const char *other = "2222222222222222222222222222222222222222222222222222222222222222";
	struct response first, again;
	struct idem_job j;

	response_init(&first);
	response_init(&again);
	ck_assert_int_eq(lookup("key_a", "k-1", fp, &again), IDEM_NEW);

	response_json(&first, 201, json_pack("{s:s}", "id", "ks_1"));
	j = (struct idem_job){ "key_a", "k-1", fp, &first, IDEM_NEW, 1, 0 };
	ck_assert_int_eq(store_run(idem_txn, &j), 0);

	ck_assert_int_eq(lookup("key_a", "k-1", fp, &again), IDEM_REPLAYED);
	ck_assert_int_eq(again.status, 201);
	ck_assert_ptr_nonnull(again.raw);
	ck_assert_uint_eq(again.raw_len, strlen("{\"id\":\"ks_1\"}"));
	ck_assert_mem_eq(again.raw, "{\"id\":\"ks_1\"}", again.raw_len);
	ck_assert(strstr(again.headers, "Idempotent-Replayed: true") != NULL);
	ck_assert(strstr(again.headers, "Secret-Withheld") == NULL);
	response_reset(&again);

	/* same key, another request: mismatch; other keys are their own */
	ck_assert_int_eq(lookup("key_a", "k-1", other, &again), IDEM_MISMATCH);
	ck_assert_int_eq(lookup("key_b", "k-1", fp, &again), IDEM_NEW);
	ck_assert_int_eq(lookup("key_a", "k-2", fp, &again), IDEM_NEW);
	response_reset(&again);
	response_reset(&first);
}
END_TEST

/* A route that shows a secret keeps its answer with the secret null: the
 * stored bytes never hold it, the replay says it was withheld. */
START_TEST(idempotency_withholds_secrets)
{
	const char *fp = "3333333333333333333333333333333333333333333333333333333333333333";
	const char *secret = "andon_0123456789abcdef_SECRETSECRETSECRETSECRETSECRETSECRETSECR";
	char key[STORE_KEY_MAX];
	struct response first, again;
	struct idem_job j;
	void *raw;
	size_t raw_len;

	response_init(&first);
	response_init(&again);
	response_json(&first, 201, json_pack("{s:s, s:s, s:s}", "id", "key_1",
	    "key", secret, "name", "ci"));
	j = (struct idem_job){ "key_a", "s-1", fp, &first, IDEM_NEW, 1, 1 };
	ck_assert_int_eq(store_run(idem_txn, &j), 0);
	/* the answer itself still shows it, once */
	ck_assert_str_eq(json_string_value(json_object_get(first.json, "key")), secret);

	ck_assert_int_gt(store_key(key, sizeof(key), "key_a", "s-1", NULL), 0);
	ck_assert_int_eq(store_get(NULL, T_IDEMPOTENCY, key, strlen(key), &raw,
	    &raw_len, 0), 0);
	ck_assert_ptr_null(memmem(raw, raw_len, "SECRETSECRET", 12));
	free(raw);

	ck_assert_int_eq(lookup("key_a", "s-1", fp, &again), IDEM_REPLAYED);
	ck_assert_int_eq(again.status, 201);
	ck_assert_mem_eq(again.raw, "{\"id\":\"key_1\",\"key\":null,\"name\":\"ci\"}",
	    again.raw_len);
	ck_assert(strstr(again.headers, "Secret-Withheld: key\r\n") != NULL);
	response_reset(&again);
	response_reset(&first);

	/* an answer a secret cannot be taken out of is not kept */
	response_raw(&first, 201, "text/plain", strdup(secret), strlen(secret));
	j = (struct idem_job){ "key_a", "s-2", fp, &first, IDEM_NEW, 1, 1 };
	ck_assert_int_eq(store_run(idem_txn, &j), 0);
	ck_assert_int_eq(lookup("key_a", "s-2", fp, &again), IDEM_REPLAYED);
	ck_assert_uint_eq(again.raw_len, 0);
	response_reset(&again);
	response_reset(&first);
}
END_TEST

UNIT_MAIN("idempotency", UNIT_STORE, idempotency_key_syntax,
    idempotency_fingerprints, idempotency_replays_the_first_response,
    idempotency_withholds_secrets)
