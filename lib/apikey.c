/* apikey.c - create, hash and authenticate API keys. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>
#include <sodium.h>

#include "apikey.h"
#include "audit.h"
#include "clock.h"
#include "pepper.h"
#include "scope.h"
#include "store.h"

#define KEY_ID_HEX 16
#define KEY_SECRET_BYTES 32
#define KEY_SALT_BYTES 16
#define KEY_HASH_BYTES 32
#define KEY_ENCODED_MAX 192
#define CACHE_SLOTS 64
#define LAST_USED_EVERY_MS 60000

/*
 * The verification cache.  A slot remembers, for one key id, a digest of
 * the secret that passed Argon2 and the exact bytes of the key's record as
 * they were then, with the principal built from them.  Every request still
 * reads the record (lib/store.c answers from its per-process copy while no
 * process wrote any key record, readcache.h): when its bytes are unchanged
 * (not revoked, not edited)
 * and the presented secret has the same digest, the cached principal is
 * used; any change to the record sends the request down the full path.
 * The digest is BLAKE2b keyed with random bytes drawn once per process
 * (crypto_generichash): the secret itself is never kept, the digests mean
 * nothing outside the process, and it costs less than half of a SHA-256.
 */
#define DIGEST_BYTES crypto_generichash_BYTES
struct cache_slot {
	char key_id[32];
	unsigned char digest[DIGEST_BYTES];
	char encoded[KEY_ENCODED_MAX];
	void *record;            /* raw record bytes, NULL when not cached */
	size_t record_len;
	struct principal who;
	int64_t expires_ms;      /* 0 when the key does not expire */
	int64_t last_used_write;
	int64_t used_at;
};

static struct cache_slot cache[CACHE_SLOTS];
static unsigned long argon2_calls;

/* The keyed digest of a presented secret the cache compares. */
static void
secret_digest(const char *secret, unsigned char digest[DIGEST_BYTES])
{
	static unsigned char key[crypto_generichash_KEYBYTES];
	static int keyed;

	if (!keyed) {
		randombytes_buf(key, sizeof(key));
		keyed = 1;
	}
	crypto_generichash(digest, DIGEST_BYTES, (const unsigned char *)secret,
	    strlen(secret), key, sizeof(key));
}

void
apikey_cache_clear(void)
{
	for (int i = 0; i < CACHE_SLOTS; i++)
		free(cache[i].record);
	sodium_memzero(cache, sizeof(cache));
}

unsigned long
apikey_argon2_calls(void)
{
	return argon2_calls;
}

/* "andon_" 16 hex "_" 43 base64url; fills the hex id. */
static int
parse_key(const char *key, char hex[KEY_ID_HEX + 1])
{
	size_t len = strlen(key);

	if (len != 6 + KEY_ID_HEX + 1 + 43 || strncmp(key, "andon_", 6) != 0 ||
	    key[6 + KEY_ID_HEX] != '_')
		return -1;
	for (int i = 0; i < KEY_ID_HEX; i++) {
		char c = key[6 + i];

		if (!isdigit((unsigned char)c) && !(c >= 'a' && c <= 'f'))
			return -1;
	}
	for (size_t i = 6 + KEY_ID_HEX + 1; i < len; i++) {
		char c = key[i];

		if (!isalnum((unsigned char)c) && c != '-' && c != '_')
			return -1;
	}
	memcpy(hex, key + 6, KEY_ID_HEX);
	hex[KEY_ID_HEX] = '\0';
	return 0;
}

/* "<pepper id>:<64 hex>" for a key under the loaded pepper; 0, or -1
 * when no pepper is loaded. */
static int
make_verifier(const char *presented, char out[PEPPER_ID_SIZE + 65])
{
	char mac[65];

	if (pepper_mac_hex(presented, strlen(presented), mac) != 0)
		return -1;
	snprintf(out, PEPPER_ID_SIZE + 65, "%s:%s", pepper_id(), mac);
	sodium_memzero(mac, sizeof(mac));
	return 0;
}

/* Appends a key's event (key.created, key.revoked) of tenant. */
static int
key_event(DB_TXN *txn, const struct principal *who, const char *tenant,
          const char *type, const char *key_id, json_t *data)
{
	struct audit_entry e = {
		.tenant = tenant, .type = type, .who = who,
		.target_type = "api_key", .target_id = key_id, .data = data,
	};

	return audit_append(txn, &e, NULL, 0);
}

int
apikey_create(DB_TXN *txn, const struct conf *conf, const char *tenant,
              const char *name, const json_t *scopes, int64_t expires_ms,
              const struct principal *who, char secret[APIKEY_TEXT_SIZE],
              json_t **record)
{
	unsigned char id_bytes[KEY_ID_HEX / 2], secret_bytes[KEY_SECRET_BYTES];
	unsigned char salt[KEY_SALT_BYTES];
	char hex[KEY_ID_HEX + 1], encoded[KEY_ENCODED_MAX];
	char b64[sodium_base64_ENCODED_LEN(KEY_SECRET_BYTES,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
	char key_id[32], prefix[32], now[CLOCK_TEXT_SIZE], exp[CLOCK_TEXT_SIZE];
	char verifier[PEPPER_ID_SIZE + 65];
	json_t *rec, *data;
	int rc;

	if (record != NULL)
		*record = NULL;
	randombytes_buf(id_bytes, sizeof(id_bytes));
	randombytes_buf(secret_bytes, sizeof(secret_bytes));
	randombytes_buf(salt, sizeof(salt));
	sodium_bin2hex(hex, sizeof(hex), id_bytes, sizeof(id_bytes));
	sodium_bin2base64(b64, sizeof(b64), secret_bytes, sizeof(secret_bytes),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	snprintf(secret, APIKEY_TEXT_SIZE, "andon_%s_%s", hex, b64);
	sodium_memzero(secret_bytes, sizeof(secret_bytes));
	rc = argon2id_hash_encoded(conf->argon2_t_cost, conf->argon2_m_cost_kib,
	    conf->argon2_parallelism, secret, strlen(secret), salt, sizeof(salt),
	    KEY_HASH_BYTES, encoded, sizeof(encoded));
	if (rc != ARGON2_OK)
		return EINVAL;
	snprintf(key_id, sizeof(key_id), "key_%s", hex);
	snprintf(prefix, sizeof(prefix), "andon_%s", hex);
	clock_format(clock_now_ms(), now);
	rec = json_pack("{s:s, s:s, s:s, s:s, s:O, s:s, s:s, s:n, s:n, s:n, s:s}",
	    "id", key_id, "tenant", tenant, "name", name, "prefix", prefix,
	    "scopes", scopes, "hash", encoded, "created_at", now,
	    "expires_at", "last_used_at", "revoked_at",
	    "created_by", who ? who->key_id : "andonctl");
	if (rec == NULL)
		return ENOMEM;
	if (expires_ms > 0) {
		clock_format(expires_ms, exp);
		json_object_set_new(rec, "expires_at", json_string(exp));
	}
	if (make_verifier(secret, verifier) == 0)
		json_object_set_new(rec, "verifier", json_string(verifier));
	sodium_memzero(verifier, sizeof(verifier));
	rc = store_put_json(txn, T_APIKEYS, key_id, rec, DB_NOOVERWRITE);
	data = json_pack("{s:s, s:O}", "key_id", key_id, "scopes", scopes);
	if (rc == 0 && data == NULL)
		rc = ENOMEM;
	if (rc == 0)
		rc = key_event(txn, who, tenant, "key.created", key_id, data);
	if (rc == 0 && record != NULL && (*record = apikey_public(rec)) == NULL)
		rc = ENOMEM;
	json_decref(data);
	json_decref(rec);
	return rc;
}

json_t *
apikey_public(const json_t *record)
{
	json_t *pub = json_deep_copy(record);

	json_object_del(pub, "hash");
	json_object_del(pub, "verifier");
	return pub;
}

static struct cache_slot *
cache_find(const char *key_id)
{
	for (int i = 0; i < CACHE_SLOTS; i++)
		if (!strcmp(cache[i].key_id, key_id))
			return &cache[i];
	return NULL;
}

static struct cache_slot *
cache_victim(void)
{
	struct cache_slot *oldest = &cache[0];

	for (int i = 0; i < CACHE_SLOTS; i++) {
		if (cache[i].key_id[0] == '\0')
			return &cache[i];
		if (cache[i].used_at < oldest->used_at)
			oldest = &cache[i];
	}
	free(oldest->record);
	oldest->record = NULL;
	return oldest;
}

static int
touch_last_used(DB_TXN *txn, void *arg)
{
	const char *key_id = arg;
	char now[CLOCK_TEXT_SIZE];
	json_t *rec;
	int rc;

	if ((rc = store_get_json(txn, T_APIKEYS, key_id, &rec, DB_RMW)) != 0)
		return rc == DB_NOTFOUND ? STORE_ROLLBACK : rc;
	clock_format(clock_now_ms(), now);
	json_object_set_new(rec, "last_used_at", json_string(now));
	rc = store_put_json(txn, T_APIKEYS, key_id, rec, 0);
	json_decref(rec);
	return rc;
}

static int
unauthorized(struct problem *p, const char *why)
{
	problem_set(p, 401, "unauthorized", "%s", why);
	return -1;
}

/*
 * Records last_used_at at most once a minute per key: not when this
 * process wrote it less than a minute ago, nor when the record says
 * another process did (a plain-CGI process serves one request: without
 * the second test every check would be a durable write).  rec: the
 * record just read, or NULL when the slot has seen it already.
 */
static void
note_use(struct cache_slot *slot, const char *key_id, const json_t *rec,
         int64_t now)
{
	const char *stored = json_string_value(json_object_get(rec, "last_used_at"));
	int64_t stored_ms;

	if (stored != NULL && clock_parse(stored, &stored_ms) == 0 &&
	    stored_ms > slot->last_used_write && stored_ms <= now)
		slot->last_used_write = stored_ms;
	if (now - slot->last_used_write >= LAST_USED_EVERY_MS) {
		slot->last_used_write = now;
		store_run(touch_last_used, (void *)key_id);
	}
}

/*
 * The Argon2 budget.  Only a record without a verifier under this
 * process's pepper (made before there was one, or under another pepper)
 * is checked by its Argon2 hash, and those checks may take at most
 * ARGON2_SHARE_MS milliseconds of each second of this process's time
 * (a tenth), ARGON2_BURST_MS at most at once: whatever an attacker sends,
 * failed checks cannot take more.  The bucket is filled with time and
 * emptied by the measured length of each run, so a slow machine spends
 * no more of itself than a fast one.  Past the budget the request is
 * answered 503 at once.
 */
#define ARGON2_SHARE_MS 100
#define ARGON2_BURST_MS 100

static int64_t argon2_budget_ms = ARGON2_BURST_MS;
static int64_t argon2_budget_at;

static int
argon2_budget_open(void)
{
	int64_t now = clock_monotonic_ms();

	if (argon2_budget_at != 0)
		argon2_budget_ms += (now - argon2_budget_at) * ARGON2_SHARE_MS / 1000;
	if (argon2_budget_ms > ARGON2_BURST_MS)
		argon2_budget_ms = ARGON2_BURST_MS;
	argon2_budget_at = now;
	return argon2_budget_ms > 0;
}

static void
argon2_budget_spend(int64_t started)
{
	int64_t now = clock_monotonic_ms();

	argon2_budget_ms -= now - started;
	argon2_budget_at = now;
}

enum secret_verdict { SECRET_WRONG, SECRET_RIGHT, SECRET_BUSY };

/* Checks a presented key against its record: by the pepper's verifier when
 * the record has one under this pepper (*upgrade = 0), else by Argon2
 * within the budget (*upgrade = 1 when a pepper is loaded: the record
 * should gain a verifier). */
static enum secret_verdict
check_secret(const json_t *rec, const char *presented, int *upgrade)
{
	const char *hash = json_string_value(json_object_get(rec, "hash"));
	const char *stored = json_string_value(json_object_get(rec, "verifier"));
	const char *id = pepper_id();
	char mine[PEPPER_ID_SIZE + 65];
	int64_t started;
	int right, verified;

	*upgrade = 0;
	if (stored != NULL && id != NULL && make_verifier(presented, mine) == 0 &&
	    strncmp(stored, mine, PEPPER_ID_SIZE) == 0) {
		right = strlen(stored) == strlen(mine) &&
		    sodium_memcmp(stored, mine, strlen(mine)) == 0;
		sodium_memzero(mine, sizeof(mine));
		return right ? SECRET_RIGHT : SECRET_WRONG;
	}
	if (hash == NULL || strlen(hash) >= KEY_ENCODED_MAX)
		return SECRET_WRONG;
	if (!argon2_budget_open())
		return SECRET_BUSY;
	argon2_calls++;
	started = clock_monotonic_ms();
	verified = argon2id_verify(hash, presented, strlen(presented)) == ARGON2_OK;
	argon2_budget_spend(started);
	if (!verified)
		return SECRET_WRONG;
	*upgrade = id != NULL;
	return SECRET_RIGHT;
}

/* Gives a record checked by Argon2 the verifier of this process's pepper,
 * so that its later checks, in every process, need no Argon2. */
struct upgrade_job {
	const char *key_id;
	const char *hash;        /* the hash that was verified */
	char verifier[PEPPER_ID_SIZE + 65];
};

static int
upgrade_txn(DB_TXN *txn, void *arg)
{
	struct upgrade_job *job = arg;
	const char *hash;
	json_t *rec;
	int rc;

	if ((rc = store_get_json(txn, T_APIKEYS, job->key_id, &rec, DB_RMW)) != 0)
		return rc == DB_NOTFOUND ? STORE_ROLLBACK : rc;
	hash = json_string_value(json_object_get(rec, "hash"));
	if (hash == NULL || strcmp(hash, job->hash) != 0) {
		json_decref(rec);
		return STORE_ROLLBACK;
	}
	json_object_set_new(rec, "verifier", json_string(job->verifier));
	rc = store_put_json(txn, T_APIKEYS, job->key_id, rec, 0);
	json_decref(rec);
	return rc;
}

static void
upgrade_record(const char *key_id, const char *hash, const char *presented)
{
	struct upgrade_job job = { key_id, hash, "" };

	if (make_verifier(presented, job.verifier) == 0)
		store_run(upgrade_txn, &job);
	sodium_memzero(job.verifier, sizeof(job.verifier));
}

static int
busy(struct problem *p)
{
	problem_set(p, 503, "key_verification_busy",
	    "this API key is checked by its Argon2 hash, and too many such checks "
	    "are running; retry in a second");
	return -1;
}

/* The full path: parse the record, check the secret unless the slot
 * already vouches for it, then revocation, expiry and scopes. */
static int
authenticate_record(const char *presented, const char *key_id,
                    const char *hex, const unsigned char *digest,
                    void *raw, size_t raw_len, int64_t now,
                    struct principal *who, struct problem *p)
{
	const char *hash, *revoked, *expires;
	struct cache_slot *slot = cache_find(key_id);
	enum secret_verdict verdict;
	json_error_t err;
	int64_t exp_ms = 0;
	int upgrade = 0;
	json_t *rec;
	long mask;

	if ((rec = json_loadb(raw, raw_len, 0, &err)) == NULL) {
		free(raw);
		return unauthorized(p, "the API key is not valid");
	}
	hash = json_string_value(json_object_get(rec, "hash"));
	if (hash == NULL || slot == NULL ||
	    sodium_memcmp(slot->digest, digest, DIGEST_BYTES) != 0 ||
	    strcmp(slot->encoded, hash) != 0) {
		verdict = check_secret(rec, presented, &upgrade);
		if (verdict != SECRET_RIGHT) {
			json_decref(rec);
			free(raw);
			return verdict == SECRET_BUSY ? busy(p)
			    : unauthorized(p, "the API key is not valid");
		}
		if (slot == NULL)
			slot = cache_victim();
		free(slot->record);
		memset(slot, 0, sizeof(*slot));
		snprintf(slot->key_id, sizeof(slot->key_id), "%s", key_id);
		memcpy(slot->digest, digest, DIGEST_BYTES);
		snprintf(slot->encoded, sizeof(slot->encoded), "%s", hash);
	}
	slot->used_at = now;
	free(slot->record);
	slot->record = NULL;
	revoked = json_string_value(json_object_get(rec, "revoked_at"));
	expires = json_string_value(json_object_get(rec, "expires_at"));
	if (revoked != NULL) {
		json_decref(rec);
		free(raw);
		return unauthorized(p, "the API key has been revoked");
	}
	if (expires != NULL && (clock_parse(expires, &exp_ms) != 0 || exp_ms <= now)) {
		json_decref(rec);
		free(raw);
		return unauthorized(p, "the API key has expired");
	}
	if (upgrade)
		upgrade_record(key_id, hash, presented);
	mask = scope_mask_from_json(json_object_get(rec, "scopes"));
	memset(who, 0, sizeof(*who));
	snprintf(who->key_id, sizeof(who->key_id), "%s", key_id);
	snprintf(who->prefix, sizeof(who->prefix), "andon_%s", hex);
	snprintf(who->tenant, sizeof(who->tenant), "%s",
	    json_string_value(json_object_get(rec, "tenant")));
	snprintf(who->name, sizeof(who->name), "%s",
	    json_string_value(json_object_get(rec, "name")));
	who->scopes = mask < 0 ? 0 : (unsigned)mask;
	note_use(slot, key_id, rec, now);
	json_decref(rec);
	/* remember this exact record for the fast path */
	slot->record = raw;
	slot->record_len = raw_len;
	slot->who = *who;
	slot->expires_ms = exp_ms;
	return 0;
}

int
apikey_authenticate(const struct conf *conf, const char *presented,
                    struct principal *who, struct problem *p)
{
	unsigned char digest[DIGEST_BYTES];
	char hex[KEY_ID_HEX + 1], key_id[32];
	struct cache_slot *slot;
	int64_t now = clock_now_ms();
	void *raw;
	size_t raw_len;
	int rc;

	(void)conf;
	if (presented == NULL || *presented == '\0')
		return unauthorized(p, "an API key is required (X-API-Key or Authorization: Bearer)");
	if (parse_key(presented, hex) != 0)
		return unauthorized(p, "the API key is not valid");
	memcpy(key_id, "key_", 4);
	memcpy(key_id + 4, hex, KEY_ID_HEX + 1);
	/* the record is read on every request: revocation is never cached */
	rc = store_get(NULL, T_APIKEYS, key_id, strlen(key_id), &raw, &raw_len, 0);
	if (rc != 0) {
		/* the keyed hash a wrong secret for a real id costs, so that
		 * the two refusals take the same time */
		char mac[65];

		pepper_mac_hex(presented, strlen(presented), mac);
		return unauthorized(p, "the API key is not valid");
	}
	secret_digest(presented, digest);
	slot = cache_find(key_id);
	if (slot != NULL && slot->record != NULL && slot->record_len == raw_len &&
	    memcmp(slot->record, raw, raw_len) == 0 &&
	    sodium_memcmp(slot->digest, digest, sizeof(digest)) == 0) {
		free(raw);
		if (slot->expires_ms != 0 && slot->expires_ms <= now)
			return unauthorized(p, "the API key has expired");
		*who = slot->who;
		slot->used_at = now;
		/* the same record as when the slot took its last_used_at */
		note_use(slot, key_id, NULL, now);
		return 0;
	}
	return authenticate_record(presented, key_id, hex, digest, raw, raw_len,
	    now, who, p);
}

int
apikey_revoke(DB_TXN *txn, const struct principal *who, const char *tenant,
              const char *key_id, json_t **record)
{
	char now[CLOCK_TEXT_SIZE];
	const char *owner;
	json_t *rec;
	int rc;

	if (record != NULL)
		*record = NULL;
	if ((rc = store_get_json(txn, T_APIKEYS, key_id, &rec, DB_RMW)) != 0)
		return rc;
	owner = json_string_value(json_object_get(rec, "tenant"));
	if (owner == NULL || strcmp(owner, tenant) != 0) {
		json_decref(rec);
		return DB_NOTFOUND;
	}
	if (json_is_string(json_object_get(rec, "revoked_at"))) {
		if (record)
			*record = apikey_public(rec);
		json_decref(rec);
		return DB_KEYEXIST;
	}
	clock_format(clock_now_ms(), now);
	json_object_set_new(rec, "revoked_at", json_string(now));
	rc = store_put_json(txn, T_APIKEYS, key_id, rec, 0);
	if (rc == 0)
		rc = key_event(txn, who, tenant, "key.revoked", key_id, NULL);
	if (rc == 0 && record && (*record = apikey_public(rec)) == NULL)
		rc = ENOMEM;
	json_decref(rec);
	return rc;
}

int
apikey_expiry_ms(DB_TXN *txn, const char *key_id, int64_t *expires_ms)
{
	const char *expires;
	json_t *rec;
	int rc;

	*expires_ms = 0;
	if ((rc = store_get_json(txn, T_APIKEYS, key_id, &rec, 0)) != 0)
		return rc;
	expires = json_string_value(json_object_get(rec, "expires_at"));
	if (expires != NULL && clock_parse(expires, expires_ms) != 0)
		rc = EINVAL;
	json_decref(rec);
	return rc;
}

int
apikey_of_tenant(const char *tenant, const char *key_id)
{
	const char *owner;
	json_t *rec;
	int ok;

	if (store_get_json(NULL, T_APIKEYS, key_id, &rec, 0) != 0)
		return -1;
	owner = json_string_value(json_object_get(rec, "tenant"));
	ok = owner && !strcmp(owner, tenant);
	json_decref(rec);
	return ok ? 0 : -1;
}

int
apikey_find_public(const char *key_id, json_t **record)
{
	json_t *rec;
	int rc;

	*record = NULL;
	if ((rc = store_get_json(NULL, T_APIKEYS, key_id, &rec, 0)) != 0)
		return rc;
	*record = apikey_public(rec);
	json_decref(rec);
	return *record ? 0 : ENOMEM;
}

/* A listing's step: the tenant's keys, without their hashes. */
static int
public_of_tenant(void *arg, const void *key, size_t klen, json_t *rec,
                 json_t **item)
{
	const char *tenant = json_string_value(json_object_get(rec, "tenant"));

	(void)key;
	(void)klen;
	if (tenant != NULL && !strcmp(tenant, arg))
		*item = apikey_public(rec);
	return 0;
}

int
apikey_list(const char *tenant, json_t **items)
{
	return store_list_tenant(T_APIKEYS, NULL, public_of_tenant,
	    (void *)tenant, items);
}

int
apikey_count(uint64_t *keys, uint64_t *tenants)
{
	int rc = store_count(T_APIKEYS, keys);

	return rc ? rc : store_count(T_TENANTS, tenants);
}
