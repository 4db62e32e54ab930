/*
 * apikey.h - API keys: creation, Argon2id hashing, authentication with a
 * per-process verification cache.
 *
 * A key reads "andon_<16 hex id>_<43 base64url secret>": 256 random bits
 * behind a public id, so the record is found in O(1).  The record keeps an
 * Argon2id hash of the key and a verifier keyed with the installation's
 * pepper (pepper.h): a presented key is checked against the verifier, so a
 * wrong secret costs one keyed hash, as an unknown id does; the Argon2 hash
 * decides only for a record without a verifier under the loaded pepper,
 * within a per-process time budget.  A per-process cache remembers that a
 * given key (by a keyed BLAKE2b digest, compared in constant time) matched
 * a record's exact bytes; any change to the record (a revocation, an
 * expiry) sends the next request down the full path.
 */
#ifndef ANDON_APIKEY_H
#define ANDON_APIKEY_H

#include <stdint.h>
#include <db.h>
#include <jansson.h>

#include "conf.h"
#include "principal.h"
#include "problem.h"

#define APIKEY_TEXT_SIZE 80

/* Creates a key record of tenant in txn and appends its key.created
 * event; writes the secret (shown once) into secret and the public record
 * (no hash) into *record.  who: the creating key, NULL for andonctl. */
int apikey_create(DB_TXN *txn, const struct conf *conf, const char *tenant,
                  const char *name, const json_t *scopes, int64_t expires_ms,
                  const struct principal *who, char secret[APIKEY_TEXT_SIZE],
                  json_t **record);
/* 0 with *who filled, or -1 with a 401 problem. */
int apikey_authenticate(const struct conf *conf, const char *presented,
                        struct principal *who, struct problem *p);
/* The record without its hash, for listings. */
json_t *apikey_public(const json_t *record);
/* The key's expiry in ms, 0 when it never expires. */
int apikey_expiry_ms(DB_TXN *txn, const char *key_id, int64_t *expires_ms);
/* Marks a key of tenant revoked and appends its key.revoked event (who:
 * the revoking key, NULL for andonctl); DB_NOTFOUND when it is not the
 * tenant's, DB_KEYEXIST (with *record) when it is revoked already. */
int apikey_revoke(DB_TXN *txn, const struct principal *who, const char *tenant,
                  const char *key_id, json_t **record);
/* 0 when key_id names an API key of tenant; else -1. */
int apikey_of_tenant(const char *tenant, const char *key_id);
/* A key's record without its hash: 0, DB_NOTFOUND or an error. */
int apikey_find_public(const char *key_id, json_t **record);
/* The tenant's keys (revoked ones too) without their hashes, unsorted. */
int apikey_list(const char *tenant, json_t **items);
/* How many keys (revoked ones too) and tenants there are (metrics). */
int apikey_count(uint64_t *keys, uint64_t *tenants);
/* Empties the verification cache (tests). */
void apikey_cache_clear(void);
/* Statistics for tests: how many Argon2 verifications this process ran. */
unsigned long apikey_argon2_calls(void);

#endif
