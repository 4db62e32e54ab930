/* tlog.c - transparency log storage, signed tree heads, receipts. */
#include <inttypes.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "clock.h"
#include "encode.h"
#include "event.h"
#include "store.h"
#include "tlog.h"

#define META_SIGNING_KEY "tlog_ed25519"

static unsigned char cached_sk[crypto_sign_SECRETKEYBYTES];
static int have_sk;

static void
node_key(unsigned char key[9], unsigned level, uint64_t index)
{
	key[0] = (unsigned char)level;
	store_u64_be(key + 1, index);
}

int
tlog_node(void *arg, unsigned level, uint64_t index, merkle_hash out)
{
	unsigned char key[9];
	void *val;
	size_t len;
	int rc;

	node_key(key, level, index);
	rc = store_get((DB_TXN *)arg, T_TLOG, key, sizeof(key), &val, &len, 0);
	if (rc != 0)
		return rc;
	if (len != MERKLE_HASH_SIZE) {
		free(val);
		return DB_NOTFOUND;
	}
	memcpy(out, val, MERKLE_HASH_SIZE);
	free(val);
	return 0;
}

int
tlog_append(DB_TXN *txn, uint64_t index, const merkle_hash leaf)
{
	unsigned char key[9];
	merkle_hash node, left;
	unsigned level = 0;
	int rc;

	memcpy(node, leaf, MERKLE_HASH_SIZE);
	node_key(key, 0, index);
	if ((rc = store_put(txn, T_TLOG, key, sizeof(key), node, sizeof(node), 0)) != 0)
		return rc;
	/* an odd index closes the subtree its left sibling opened */
	while (index & 1) {
		if ((rc = tlog_node(txn, level, index - 1, left)) != 0)
			return rc;
		merkle_node_hash(left, node, node);
		level++;
		index >>= 1;
		node_key(key, level, index);
		rc = store_put(txn, T_TLOG, key, sizeof(key), node, sizeof(node), 0);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int
tlog_root(DB_TXN *txn, uint64_t size, merkle_hash root)
{
	return merkle_root(tlog_node, txn, size, root);
}

int
tlog_ensure_key(DB_TXN *txn)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	int rc;

	rc = store_exists(txn, T_META, META_SIGNING_KEY, strlen(META_SIGNING_KEY));
	if (rc != DB_NOTFOUND)
		return rc;
	crypto_sign_keypair(pk, sk);
	rc = store_put(txn, T_META, META_SIGNING_KEY, strlen(META_SIGNING_KEY),
	    sk, sizeof(sk), DB_NOOVERWRITE);
	sodium_memzero(sk, sizeof(sk));
	return rc == DB_KEYEXIST ? 0 : rc;
}

static int
ensure_key_txn(DB_TXN *txn, void *arg)
{
	(void)arg;
	return tlog_ensure_key(txn);
}

static int
load_key(void)
{
	void *val;
	size_t len;
	int rc;

	if (have_sk)
		return 0;
	rc = store_get(NULL, T_META, META_SIGNING_KEY, strlen(META_SIGNING_KEY),
	    &val, &len, 0);
	if (rc == DB_NOTFOUND) {
		if ((rc = store_run(ensure_key_txn, NULL)) != 0)
			return rc;
		rc = store_get(NULL, T_META, META_SIGNING_KEY,
		    strlen(META_SIGNING_KEY), &val, &len, 0);
	}
	if (rc != 0)
		return rc;
	if (len != sizeof(cached_sk)) {
		free(val);
		return DB_NOTFOUND;
	}
	memcpy(cached_sk, val, sizeof(cached_sk));
	sodium_memzero(val, len);
	free(val);
	have_sk = 1;
	return 0;
}

int
tlog_public_key(unsigned char pk[32])
{
	int rc;

	if ((rc = load_key()) != 0)
		return rc;
	crypto_sign_ed25519_sk_to_pk(pk, cached_sk);
	return 0;
}

void
tlog_head_message(unsigned char msg[50], int64_t timestamp_ms, uint64_t size,
                  const merkle_hash root)
{
	msg[0] = 0;
	msg[1] = 1;
	store_u64_be(msg + 2, (uint64_t)timestamp_ms);
	store_u64_be(msg + 10, size);
	memcpy(msg + 18, root, MERKLE_HASH_SIZE);
}

int
tlog_signed_head(uint64_t size, json_t **sth)
{
	unsigned char msg[50], sig[crypto_sign_BYTES], pk[32];
	char when[CLOCK_TEXT_SIZE];
	merkle_hash root;
	int64_t now = clock_now_ms();
	int rc;

	if ((rc = load_key()) != 0)
		return rc;
	if ((rc = tlog_root(NULL, size, root)) != 0)
		return rc;
	tlog_head_message(msg, now, size, root);
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), cached_sk);
	crypto_sign_ed25519_sk_to_pk(pk, cached_sk);
	clock_format(now, when);
	*sth = json_pack("{s:I, s:I, s:s, s:o, s:o, s:o, s:s}",
	    "tree_size", (json_int_t)size,
	    "timestamp", (json_int_t)now,
	    "timestamp_rfc3339", when,
	    "root_hash", encode_base64_json(root, sizeof(root)),
	    "signature", encode_base64_json(sig, sizeof(sig)),
	    "public_key", encode_base64_json(pk, sizeof(pk)),
	    "signature_algorithm", "ed25519");
	return *sth ? 0 : ENOMEM;
}

void
tlog_leaf_id(uint64_t leaf_index, char out[TLOG_LEAF_ID_SIZE])
{
	snprintf(out, TLOG_LEAF_ID_SIZE, "rcpt_%016" PRIx64, leaf_index);
}

int
tlog_parse_leaf_id(const char *id, uint64_t *leaf_index)
{
	uint64_t v = 0;

	if (strncmp(id, "rcpt_", 5) != 0 || strlen(id) != 5 + 16)
		return -1;
	for (const char *p = id + 5; *p; p++) {
		int d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else
			return -1;
		v = v * 16 + (uint64_t)d;
	}
	*leaf_index = v;
	return 0;
}

static int
b64_decode(const json_t *v, unsigned char *out, size_t want)
{
	const char *text = json_string_value(v);
	size_t len;

	if (text == NULL)
		return -1;
	if (sodium_base642bin(out, want, text, strlen(text), NULL, &len, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || len != want)
		return -1;
	return 0;
}

static int
reject(char *why, size_t whylen, const char *reason)
{
	snprintf(why, whylen, "%s", reason);
	return 0;
}

int
tlog_verify_proof(const json_t *receipt, const unsigned char pk[32],
                  char *why, size_t whylen)
{
	merkle_hash leaf, root, proof[MERKLE_MAX_PROOF];
	unsigned char msg[50], sig[crypto_sign_BYTES];
	const json_t *sth = json_object_get(receipt, "sth");
	const json_t *path = json_object_get(receipt, "inclusion_proof");
	json_int_t index, size, ts;
	size_t count, i;
	json_t *item;
	char *canon;

	index = json_integer_value(json_object_get(receipt, "leaf_index"));
	size = json_integer_value(json_object_get(sth, "tree_size"));
	ts = json_integer_value(json_object_get(sth, "timestamp"));
	if (!json_is_object(json_object_get(receipt, "event")) || !json_is_array(path) ||
	    !json_is_object(sth) || index < 0 || size <= index)
		return reject(why, whylen, "the receipt is incomplete");
	if ((count = json_array_size(path)) > MERKLE_MAX_PROOF)
		return reject(why, whylen, "the inclusion proof is too long");
	json_array_foreach(path, i, item)
		if (b64_decode(item, proof[i], MERKLE_HASH_SIZE) != 0)
			return reject(why, whylen, "the inclusion proof is malformed");
	if (b64_decode(json_object_get(sth, "root_hash"), root, sizeof(root)) != 0 ||
	    b64_decode(json_object_get(sth, "signature"), sig, sizeof(sig)) != 0)
		return reject(why, whylen, "the signed tree head is malformed");
	if ((canon = event_canonical(json_object_get(receipt, "event"))) == NULL)
		return reject(why, whylen, "the event's canonical form is unknown or it cannot be written");
	merkle_leaf_hash(canon, strlen(canon), leaf);
	free(canon);
	if (!merkle_verify_inclusion(leaf, (uint64_t)index, (uint64_t)size, proof,
	    count, root))
		return reject(why, whylen, "the event is not included in the signed tree head");
	tlog_head_message(msg, ts, (uint64_t)size, root);
	if (crypto_sign_verify_detached(sig, msg, sizeof(msg), pk) != 0)
		return reject(why, whylen, "the tree head signature does not verify");
	if (!event_hash_ok(json_object_get(receipt, "event")))
		return reject(why, whylen, "the event's own hash does not match its content");
	return 1;
}
