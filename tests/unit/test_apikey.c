/* test_apikey.c - unit tests of lib/apikey.c (Check). */
#include <signal.h>

#include "apikey.h"
#include "audit.h"
#include "clock.h"
#include "conf.h"
#include "pepper.h"
#include "principal.h"
#include "problem.h"
#include "request.h"
#include "scope.h"
#include "store.h"
#include "unit.h"

struct key_job {
	struct conf conf;
	const char *tenant;
	json_t *scopes;
	int64_t expires_ms;
	char secret[APIKEY_TEXT_SIZE];
	char key_id[32];
	json_t *record;
};

static int
create_key_txn(DB_TXN *txn, void *arg)
{
	struct key_job *j = arg;

	json_decref(j->record);
	j->record = NULL;
	return apikey_create(txn, &j->conf, j->tenant, "unit", j->scopes,
	    j->expires_ms, NULL, j->secret, &j->record);
}

struct revoke_job {
	const char *tenant;
	const char *key_id;
};

static int
revoke_key_txn(DB_TXN *txn, void *arg)
{
	struct revoke_job *r = arg;

	return apikey_revoke(txn, NULL, r->tenant, r->key_id, NULL);
}

static void
new_key_costing(struct key_job *j, const char *tenant, const char *scopes,
                int64_t expires_ms, unsigned t_cost, unsigned m_cost_kib)
{
	json_error_t err;

	memset(j, 0, sizeof(*j));
	conf_defaults(&j->conf);
	j->conf.argon2_t_cost = t_cost;
	j->conf.argon2_m_cost_kib = m_cost_kib;
	j->conf.argon2_parallelism = 1;
	j->tenant = tenant;
	j->scopes = json_loads(scopes, 0, &err);
	ck_assert_ptr_nonnull(j->scopes);
	j->expires_ms = expires_ms;
	ck_assert_int_eq(store_run(create_key_txn, j), 0);
	json_decref(j->scopes);
	ck_assert_ptr_nonnull(j->record);
	snprintf(j->key_id, sizeof(j->key_id), "%s",
	    json_string_value(json_object_get(j->record, "id")));
	json_decref(j->record);
	j->record = NULL;
}

/* Small Argon2 costs: the tests exercise the logic, not the hardness. */
static void
new_key(struct key_job *j, const char *tenant, const char *scopes, int64_t expires_ms)
{
	new_key_costing(j, tenant, scopes, expires_ms, 1, 64);
}

static int
is_base64url(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!s[i] || !strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789-_", s[i]))
			return 0;
	return 1;
}

START_TEST(apikey_format_and_record)
{
	struct key_job j, k;
	json_t *stored, *pub;
	char prefix[32], *text;
	const char *hash;

	new_key(&j, "org_test", "[\"killswitch:check\",\"audit:read\"]", 0);
	/* andon_<16 hex>_<43 base64url> */
	ck_assert_uint_eq(strlen(j.secret), 6 + 16 + 1 + 43);
	ck_assert(strncmp(j.secret, "andon_", 6) == 0);
	ck_assert_uint_eq(strspn(j.secret + 6, "0123456789abcdef"), 16);
	ck_assert_int_eq(j.secret[22], '_');
	ck_assert(is_base64url(j.secret + 23, 43));
	/* the id is the hex part; the prefix is safe to show */
	ck_assert_uint_eq(strlen(j.key_id), 4 + 16);
	ck_assert(strncmp(j.key_id, "key_", 4) == 0);
	ck_assert_mem_eq(j.key_id + 4, j.secret + 6, 16);

	/* the stored record holds an Argon2id hash, never the secret */
	ck_assert_int_eq(store_get_json(NULL, T_APIKEYS, j.key_id, &stored, 0), 0);
	hash = json_string_value(json_object_get(stored, "hash"));
	ck_assert_ptr_nonnull(hash);
	ck_assert(strncmp(hash, "$argon2id$", 10) == 0);
	ck_assert(strstr(hash, "m=64,t=1,p=1") != NULL);
	text = json_dumps(stored, 0);
	ck_assert_ptr_nonnull(text);
	ck_assert(strstr(text, j.secret + 23) == NULL);
	free(text);
	snprintf(prefix, sizeof(prefix), "%.22s", j.secret);
	ck_assert_str_eq(json_string_value(json_object_get(stored, "prefix")), prefix);
	ck_assert_str_eq(json_string_value(json_object_get(stored, "tenant")), "org_test");
	ck_assert(json_is_null(json_object_get(stored, "revoked_at")));
	pub = apikey_public(stored);
	ck_assert_ptr_null(json_object_get(pub, "hash"));
	ck_assert_str_eq(json_string_value(json_object_get(pub, "id")), j.key_id);
	json_decref(pub);
	json_decref(stored);

	/* two keys never share an id or a secret */
	new_key(&k, "org_test", "[\"killswitch:check\"]", 0);
	ck_assert_str_ne(j.key_id, k.key_id);
	ck_assert_str_ne(j.secret + 23, k.secret + 23);
}
END_TEST

START_TEST(apikey_lifecycle)
{
	struct principal who;
	struct problem p;
	struct key_job j;
	struct revoke_job rv;
	char wrong[APIKEY_TEXT_SIZE];
	unsigned long calls;

	new_key(&j, "org_test", "[\"killswitch:check\",\"agents:read\"]", 0);

	calls = apikey_argon2_calls();
	ck_assert_int_eq(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);
	ck_assert_str_eq(who.tenant, "org_test");
	ck_assert_str_eq(who.key_id, j.key_id);
	ck_assert_str_eq(who.name, "unit");
	ck_assert_uint_eq(who.scopes, SCOPE_KILLSWITCH_CHECK | SCOPE_AGENTS_READ);
	ck_assert_uint_eq(apikey_argon2_calls(), calls + 1);
	/* the second request is served by the cache: no Argon2 */
	ck_assert_int_eq(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);
	ck_assert_uint_eq(apikey_argon2_calls(), calls + 1);

	/* a wrong secret with the right key id is refused, cache or not */
	snprintf(wrong, sizeof(wrong), "%s", j.secret);
	wrong[30] = wrong[30] == 'A' ? 'B' : 'A';
	memset(&p, 0, sizeof(p));
	ck_assert_int_ne(apikey_authenticate(&j.conf, wrong, &who, &p), 0);
	ck_assert_int_eq(p.status, 401);
	ck_assert_str_eq(p.code, "unauthorized");
	/* malformed keys and unknown ids */
	ck_assert_int_ne(apikey_authenticate(&j.conf, "andon_zz", &who, &p), 0);
	ck_assert_int_ne(apikey_authenticate(&j.conf, "", &who, &p), 0);
	ck_assert_int_ne(apikey_authenticate(&j.conf, NULL, &who, &p), 0);
	snprintf(wrong, sizeof(wrong), "%s", j.secret);
	wrong[6] = wrong[6] == '0' ? '1' : '0';   /* another id, same secret */
	ck_assert_int_ne(apikey_authenticate(&j.conf, wrong, &who, &p), 0);
	snprintf(wrong, sizeof(wrong), "%s", j.secret);
	strcat(wrong, "x");                                 /* one char longer */
	ck_assert_int_ne(apikey_authenticate(&j.conf, wrong, &who, &p), 0);
	snprintf(wrong, sizeof(wrong), "%s", j.secret);
	wrong[40] = '=';                                    /* not base64url */
	ck_assert_int_ne(apikey_authenticate(&j.conf, wrong, &who, &p), 0);
	/* the right secret still works after wrong ones */
	ck_assert_int_eq(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);

	/* another tenant cannot revoke it */
	rv.tenant = "org_other";
	rv.key_id = j.key_id;
	ck_assert_int_eq(store_run(revoke_key_txn, &rv), DB_NOTFOUND);
	ck_assert_int_eq(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);

	/* revoked: refused on the very next request although cached */
	rv.tenant = "org_test";
	ck_assert_int_eq(store_run(revoke_key_txn, &rv), 0);
	memset(&p, 0, sizeof(p));
	ck_assert_int_ne(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);
	ck_assert_int_eq(p.status, 401);
	ck_assert(strstr(p.detail, "revoked") != NULL);
	ck_assert_int_ne(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);
	ck_assert_int_eq(store_run(revoke_key_txn, &rv), DB_KEYEXIST);
}
END_TEST

/* The key's record and its event are written by apikey.c, in one
 * transaction: a created or revoked key has exactly one event, a refused
 * revocation none. */
static void
assert_last_event(uint64_t seq, const char *type, const char *key_id)
{
	json_t *ev;

	ck_assert_int_eq(audit_get(NULL, seq, &ev), 0);
	ck_assert_str_eq(json_string_value(json_object_get(ev, "type")), type);
	ck_assert_str_eq(json_string_value(json_object_get(ev, "tenant")), "org_test");
	ck_assert_str_eq(json_string_value(json_object_get(
	    json_object_get(ev, "target"), "type")), "api_key");
	ck_assert_str_eq(json_string_value(json_object_get(
	    json_object_get(ev, "target"), "id")), key_id);
	json_decref(ev);
}

START_TEST(apikey_writes_its_events)
{
	struct key_job j;
	struct revoke_job rv;
	uint64_t before, after;

	ck_assert_int_eq(audit_head(NULL, &before, NULL, 0), 0);
	new_key(&j, "org_test", "[\"agents:read\"]", 0);
	ck_assert_int_eq(audit_head(NULL, &after, NULL, 0), 0);
	ck_assert_uint_eq(after, before + 1);
	assert_last_event(after, "key.created", j.key_id);

	rv.tenant = "org_other";
	rv.key_id = j.key_id;
	ck_assert_int_eq(store_run(revoke_key_txn, &rv), DB_NOTFOUND);
	rv.tenant = "org_test";
	ck_assert_int_eq(store_run(revoke_key_txn, &rv), 0);
	ck_assert_int_eq(audit_head(NULL, &after, NULL, 0), 0);
	ck_assert_uint_eq(after, before + 2);
	assert_last_event(after, "key.revoked", j.key_id);
	ck_assert_int_eq(store_run(revoke_key_txn, &rv), DB_KEYEXIST);
	ck_assert_int_eq(audit_head(NULL, &after, NULL, 0), 0);
	ck_assert_uint_eq(after, before + 2);
}
END_TEST

START_TEST(apikey_expiry)
{
	struct principal who;
	struct problem p;
	struct key_job j, past;

	new_key(&j, "org_test", "[\"killswitch:check\"]", clock_now_ms() + 1500);
	ck_assert_int_eq(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);
	ck_assert_int_eq(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);  /* cached */
	usleep(1600 * 1000);
	memset(&p, 0, sizeof(p));
	ck_assert_int_ne(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);
	ck_assert_int_eq(p.status, 401);
	ck_assert(strstr(p.detail, "expired") != NULL);

	/* already expired when created: never accepted */
	new_key(&past, "org_test", "[\"killswitch:check\"]", clock_now_ms() - 1000);
	ck_assert_int_ne(apikey_authenticate(&past.conf, past.secret, &who, &p), 0);
	ck_assert(strstr(p.detail, "expired") != NULL);
}
END_TEST

START_TEST(apikey_cache_follows_the_record)
{
	struct principal who;
	struct problem p;
	struct key_job j;
	json_t *rec;

	new_key(&j, "org_test", "[\"agents:read\"]", 0);
	ck_assert_int_eq(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);
	ck_assert_int_eq(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);  /* cached */
	ck_assert_uint_eq(who.scopes, SCOPE_AGENTS_READ);
	/* the record changes behind the cache's back, to a record of the very
	 * same length: the new scopes apply at once */
	ck_assert_int_eq(store_get_json(NULL, T_APIKEYS, j.key_id, &rec, 0), 0);
	json_object_set_new(rec, "scopes", json_pack("[s]", "agents:kill"));
	ck_assert_int_eq(store_put_json(NULL, T_APIKEYS, j.key_id, rec, 0), 0);
	json_decref(rec);
	ck_assert_int_eq(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);
	ck_assert_uint_eq(who.scopes, SCOPE_AGENTS_KILL);
	/* an expiry set later is honoured at once */
	ck_assert_int_eq(store_get_json(NULL, T_APIKEYS, j.key_id, &rec, 0), 0);
	json_object_set_new(rec, "expires_at", json_string("2020-01-01T00:00:00.000Z"));
	ck_assert_int_eq(store_put_json(NULL, T_APIKEYS, j.key_id, rec, 0), 0);
	json_decref(rec);
	ck_assert_int_ne(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);
	/* a deleted key is gone */
	ck_assert_int_eq(store_del(NULL, T_APIKEYS, j.key_id, strlen(j.key_id)), 0);
	ck_assert_int_ne(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);
}
END_TEST

/* A key checked by the pepper's verifier never runs Argon2, right or wrong. */
START_TEST(apikey_pepper_verifier)
{
	unsigned char bytes[PEPPER_BYTES];
	struct principal who;
	struct problem p;
	struct key_job j;
	char wrong[APIKEY_TEXT_SIZE];
	unsigned long calls;
	json_t *rec, *pub;

	randombytes_buf(bytes, sizeof(bytes));
	pepper_set(bytes);
	new_key(&j, "org_test", "[\"killswitch:check\"]", 0);
	ck_assert_int_eq(store_get_json(NULL, T_APIKEYS, j.key_id, &rec, 0), 0);
	ck_assert(strncmp(json_string_value(json_object_get(rec, "verifier")),
	    pepper_id(), strlen(pepper_id())) == 0);
	pub = apikey_public(rec);
	ck_assert_ptr_null(json_object_get(pub, "verifier"));
	ck_assert_ptr_null(json_object_get(pub, "hash"));
	json_decref(pub);
	json_decref(rec);

	calls = apikey_argon2_calls();
	snprintf(wrong, sizeof(wrong), "%s", j.secret);
	for (int i = 0; i < 200; i++) {
		size_t k = 30 + (size_t)i % 20;
		char c = "ABCDEFGHIJ"[i % 10];

		/* never the right key (the secret is random: it may hold c) */
		wrong[k] = c != j.secret[k] ? c : 'K';
		memset(&p, 0, sizeof(p));
		ck_assert_int_ne(apikey_authenticate(&j.conf, wrong, &who, &p), 0);
		ck_assert_int_eq(p.status, 401);
		ck_assert_str_eq(p.detail, "the API key is not valid");
	}
	ck_assert_int_eq(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);
	apikey_cache_clear();   /* as a new process (plain CGI) would */
	ck_assert_int_eq(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);
	ck_assert_uint_eq(apikey_argon2_calls(), calls);

	/* another pepper: the verifier is not its own, Argon2 decides, and
	 * the record gains this pepper's verifier */
	randombytes_buf(bytes, sizeof(bytes));
	pepper_set(bytes);
	apikey_cache_clear();
	ck_assert_int_eq(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);
	ck_assert_uint_eq(apikey_argon2_calls(), calls + 1);
	apikey_cache_clear();
	ck_assert_int_eq(apikey_authenticate(&j.conf, j.secret, &who, &p), 0);
	ck_assert_int_ne(apikey_authenticate(&j.conf, wrong, &who, &p), 0);
	ck_assert_uint_eq(apikey_argon2_calls(), calls + 1);
	pepper_set(NULL);
}
END_TEST

/* A record without a verifier: Argon2 within a budget, then 503. */
START_TEST(apikey_argon2_budget)
{
	struct principal who;
	struct problem p;
	struct key_job j;
	char wrong[APIKEY_TEXT_SIZE];
	unsigned long calls;
	int busy = 0, refused = 0;

	pepper_set(NULL);
	/* the shipped cost (~20 ms a run): the budget is a share of time */
	new_key_costing(&j, "org_test", "[\"killswitch:check\"]", 0, 2, 19456);
	calls = apikey_argon2_calls();
	snprintf(wrong, sizeof(wrong), "%s", j.secret);
	for (int i = 0; i < 40; i++) {
		int at = 30 + i % 20;
		char c = "ABCDEFGHIJ"[i % 10];

		/* never the secret's own character there: always a wrong key */
		wrong[at] = c != j.secret[at] ? c : 'Z';
		memset(&p, 0, sizeof(p));
		ck_assert_int_ne(apikey_authenticate(&j.conf, wrong, &who, &p), 0);
		if (p.status == 503) {
			ck_assert_str_eq(p.code, "key_verification_busy");
			busy++;
		} else {
			ck_assert_int_eq(p.status, 401);
			refused++;
		}
	}
	/* a tenth of the loop's time, a burst of 100 ms: a few runs */
	ck_assert_uint_le(apikey_argon2_calls() - calls, 8);
	ck_assert_int_ge(busy, 30);
	ck_assert_int_ge(refused, 1);
	/* the bucket refills with time: the right key is accepted then */
	for (int i = 0; i < 200; i++) {
		memset(&p, 0, sizeof(p));
		if (apikey_authenticate(&j.conf, j.secret, &who, &p) == 0)
			break;
		ck_assert_int_eq(p.status, 503);
		usleep(100 * 1000);
	}
	ck_assert_int_eq(p.status, 0);
	ck_assert_str_eq(who.key_id, j.key_id);
}
END_TEST

UNIT_MAIN("apikey", UNIT_STORE | UNIT_SLOW, apikey_format_and_record,
    apikey_lifecycle, apikey_writes_its_events, apikey_expiry,
    apikey_cache_follows_the_record, apikey_pepper_verifier,
    apikey_argon2_budget)
