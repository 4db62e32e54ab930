/* test_tlog.c - unit tests of lib/tlog.c (Check). */
#include "audit.h"
#include "event.h"
#include "merkle.h"
#include "store.h"
#include "tlog.h"
#include "unit.h"

/* MTH over leaves[start .. start + n), exactly as RFC 9162 2.1.1 says. */
static void
naive_mth(const merkle_hash *leaves, uint64_t n, merkle_hash out)
{
	merkle_hash l, r;
	uint64_t k = 1;

	if (n == 0) {
		crypto_hash_sha256(out, NULL, 0);
		return;
	}
	if (n == 1) {
		memcpy(out, leaves[0], MERKLE_HASH_SIZE);
		return;
	}
	while (k * 2 < n)
		k *= 2;
	naive_mth(leaves, k, l);
	naive_mth(leaves + k, n - k, r);
	merkle_node_hash(l, r, out);
}

#define TLOG_EVENTS 21

START_TEST(tlog_root_matches_the_events)
{
	merkle_hash leaves[TLOG_EVENTS], root, want, stored;
	uint64_t size;

	ck_assert_int_eq(audit_head(NULL, &size, NULL, 0), 0);
	ck_assert_uint_eq(size, 0);
	ck_assert_int_eq(tlog_root(NULL, 0, root), 0);
	naive_mth(leaves, 0, want);
	ck_assert_mem_eq(root, want, MERKLE_HASH_SIZE);

	/* one event per transaction: every tree size from 1 up */
	for (uint64_t n = 1; n <= TLOG_EVENTS; n++) {
		json_t *event;
		char *canon;

		append_n(1);
		ck_assert_int_eq(audit_head(NULL, &size, NULL, 0), 0);
		ck_assert_uint_eq(size, n);
		/* the leaf is the event's canonical JSON, "hash" included */
		ck_assert_int_eq(audit_get(NULL, n, &event), 0);
		canon = event_canonical(event);
		merkle_leaf_hash(canon, strlen(canon), leaves[n - 1]);
		free(canon);
		json_decref(event);
		ck_assert_int_eq(tlog_node(NULL, 0, n - 1, stored), 0);
		ck_assert_mem_eq(stored, leaves[n - 1], MERKLE_HASH_SIZE);

		ck_assert_int_eq(tlog_root(NULL, n, root), 0);
		naive_mth(leaves, n, want);
		ck_assert_msg(memcmp(root, want, MERKLE_HASH_SIZE) == 0,
		    "root of %d leaves differs", (int)n);
	}
	/* earlier roots stay computable, and consistent with the latest */
	for (uint64_t m = 1; m < TLOG_EVENTS; m += 3) {
		merkle_hash proof[MERKLE_MAX_PROOF], old;
		size_t count;

		ck_assert_int_eq(tlog_root(NULL, m, old), 0);
		naive_mth(leaves, m, want);
		ck_assert_mem_eq(old, want, MERKLE_HASH_SIZE);
		ck_assert_int_eq(merkle_consistency_proof(tlog_node, NULL, m, TLOG_EVENTS,
		    proof, &count), 0);
		ck_assert(merkle_verify_consistency(m, TLOG_EVENTS, old, root, proof, count));
	}
	/* a batch of events in one transaction gives the same shape */
	append_n(5);
	ck_assert_int_eq(audit_head(NULL, &size, NULL, 0), 0);
	ck_assert_uint_eq(size, TLOG_EVENTS + 5);
}
END_TEST

START_TEST(tlog_head_signature)
{
	unsigned char pk[32], msg[50], sig[64], pk_again[32], decoded[32];
	merkle_hash root;
	json_t *sth;
	const char *text;
	size_t len;

	append_n(3);
	ck_assert_int_eq(tlog_public_key(pk), 0);
	ck_assert_int_eq(tlog_public_key(pk_again), 0);
	ck_assert_mem_eq(pk, pk_again, 32);
	ck_assert_int_eq(tlog_signed_head(3, &sth), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(sth, "tree_size")), 3);
	text = json_string_value(json_object_get(sth, "signature"));
	ck_assert_int_eq(sodium_base642bin(sig, sizeof(sig), text, strlen(text), NULL, &len,
	    NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	ck_assert_uint_eq(len, 64);
	text = json_string_value(json_object_get(sth, "public_key"));
	ck_assert_int_eq(sodium_base642bin(decoded, sizeof(decoded), text, strlen(text), NULL,
	    &len, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	ck_assert_mem_eq(decoded, pk, 32);
	ck_assert_int_eq(tlog_root(NULL, 3, root), 0);
	text = json_string_value(json_object_get(sth, "root_hash"));
	ck_assert_int_eq(sodium_base642bin(decoded, sizeof(decoded), text, strlen(text), NULL,
	    &len, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	ck_assert_mem_eq(decoded, root, 32);

	/* the signed message is exactly the 50 bytes of tlog.h */
	tlog_head_message(msg, json_integer_value(json_object_get(sth, "timestamp")), 3, root);
	ck_assert_int_eq(msg[0], 0);
	ck_assert_int_eq(msg[1], 1);
	ck_assert_uint_eq(store_be_u64(msg + 10), 3);
	ck_assert_mem_eq(msg + 18, root, 32);
	ck_assert_int_eq(crypto_sign_verify_detached(sig, msg, sizeof(msg), pk), 0);
	msg[49] ^= 1;
	ck_assert_int_ne(crypto_sign_verify_detached(sig, msg, sizeof(msg), pk), 0);
	json_decref(sth);
}
END_TEST

static json_t *
b64_string(const unsigned char *bin, size_t len)
{
	char text[128];

	sodium_bin2base64(text, sizeof(text), bin, len, sodium_base64_VARIANT_ORIGINAL);
	return json_string(text);
}

/* The receipt document GET /v1/transparency/receipts/{id} serves. */
static json_t *
make_receipt(uint64_t index, uint64_t size)
{
	merkle_hash proof[MERKLE_MAX_PROOF];
	json_t *event, *sth, *path = json_array();
	size_t count;

	ck_assert_int_eq(audit_get(NULL, index + 1, &event), 0);
	ck_assert_int_eq(tlog_signed_head(size, &sth), 0);
	ck_assert_int_eq(merkle_inclusion_proof(tlog_node, NULL, index, size, proof,
	    &count), 0);
	for (size_t i = 0; i < count; i++)
		json_array_append_new(path, b64_string(proof[i], MERKLE_HASH_SIZE));
	return json_pack("{s:I, s:I, s:o, s:o, s:o}", "leaf_index", (json_int_t)index,
	    "tree_size", (json_int_t)size, "event", event, "inclusion_proof", path,
	    "sth", sth);
}

/* Flips one bit of a base64 string member. */
static void
flip_b64(json_t *obj, const char *name)
{
	unsigned char bin[64];
	const char *text = json_string_value(json_object_get(obj, name));
	size_t len;

	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(sodium_base642bin(bin, sizeof(bin), text, strlen(text), NULL, &len,
	    NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	bin[len / 2] ^= 0x08;
	json_object_set_new(obj, name, b64_string(bin, len));
}

START_TEST(tlog_receipts_verify_offline)
{
	unsigned char pk[32], other_pk[32], other_sk[64];
	char why[256];
	json_t *r, *bad, *event;

	append_n(11);
	ck_assert_int_eq(tlog_public_key(pk), 0);
	for (uint64_t i = 0; i < 11; i++) {
		r = make_receipt(i, 11);
		why[0] = '\0';
		ck_assert_msg(tlog_verify_proof(r, pk, why, sizeof(why)) == 1,
		    "receipt %d: %s", (int)i, why);
		json_decref(r);
	}
	/* a receipt against an older head still verifies */
	r = make_receipt(2, 3);
	ck_assert(tlog_verify_proof(r, pk, why, sizeof(why)) == 1);
	json_decref(r);

	r = make_receipt(5, 11);

	/* another key */
	crypto_sign_keypair(other_pk, other_sk);
	ck_assert(tlog_verify_proof(r, other_pk, why, sizeof(why)) == 0);
	ck_assert(strstr(why, "signature") != NULL);

	/* the event changed */
	bad = json_deep_copy(r);
	event = json_object_get(bad, "event");
	json_object_set_new(event, "reason", json_string("forged"));
	ck_assert(tlog_verify_proof(bad, pk, why, sizeof(why)) == 0);
	json_decref(bad);

	/* another leaf index */
	bad = json_deep_copy(r);
	json_object_set_new(bad, "leaf_index", json_integer(4));
	ck_assert(tlog_verify_proof(bad, pk, why, sizeof(why)) == 0);
	json_object_set_new(bad, "leaf_index", json_integer(11));
	ck_assert(tlog_verify_proof(bad, pk, why, sizeof(why)) == 0);
	json_object_set_new(bad, "leaf_index", json_integer(-1));
	ck_assert(tlog_verify_proof(bad, pk, why, sizeof(why)) == 0);
	json_object_del(bad, "leaf_index");
	ck_assert(tlog_verify_proof(bad, pk, why, sizeof(why)) == 0);
	json_decref(bad);

	/* a proof hash altered, dropped, added or malformed */
	bad = json_deep_copy(r);
	{
		json_t *path = json_object_get(bad, "inclusion_proof");
		unsigned char h[32];
		size_t len;
		const char *text = json_string_value(json_array_get(path, 1));

		ck_assert_int_eq(sodium_base642bin(h, sizeof(h), text, strlen(text), NULL,
		    &len, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
		h[0] ^= 1;
		json_array_set_new(path, 1, b64_string(h, 32));
		ck_assert(tlog_verify_proof(bad, pk, why, sizeof(why)) == 0);
		json_array_remove(path, 1);
		ck_assert(tlog_verify_proof(bad, pk, why, sizeof(why)) == 0);
		json_array_append_new(path, b64_string(h, 32));
		json_array_append_new(path, b64_string(h, 32));
		ck_assert(tlog_verify_proof(bad, pk, why, sizeof(why)) == 0);
		json_array_set_new(path, 0, json_string("not base64!"));
		ck_assert(tlog_verify_proof(bad, pk, why, sizeof(why)) == 0);
		json_array_set_new(path, 0, json_integer(1));
		ck_assert(tlog_verify_proof(bad, pk, why, sizeof(why)) == 0);
	}
	json_decref(bad);

	/* the signed head: size, time, root or signature altered */
	bad = json_deep_copy(r);
	json_object_set_new(json_object_get(bad, "sth"), "tree_size", json_integer(12));
	ck_assert(tlog_verify_proof(bad, pk, why, sizeof(why)) == 0);
	json_decref(bad);
	bad = json_deep_copy(r);
	{
		json_t *sth = json_object_get(bad, "sth");

		json_object_set_new(sth, "timestamp", json_integer(
		    json_integer_value(json_object_get(sth, "timestamp")) + 1));
	}
	ck_assert(tlog_verify_proof(bad, pk, why, sizeof(why)) == 0);
	ck_assert(strstr(why, "signature") != NULL);
	json_decref(bad);
	bad = json_deep_copy(r);
	flip_b64(json_object_get(bad, "sth"), "root_hash");
	ck_assert(tlog_verify_proof(bad, pk, why, sizeof(why)) == 0);
	json_decref(bad);
	bad = json_deep_copy(r);
	flip_b64(json_object_get(bad, "sth"), "signature");
	ck_assert(tlog_verify_proof(bad, pk, why, sizeof(why)) == 0);
	json_decref(bad);
	bad = json_deep_copy(r);
	json_object_set_new(json_object_get(bad, "sth"), "signature", json_string("AAAA"));
	ck_assert(tlog_verify_proof(bad, pk, why, sizeof(why)) == 0);
	json_decref(bad);

	/* pieces missing */
	bad = json_deep_copy(r);
	json_object_del(bad, "sth");
	ck_assert(tlog_verify_proof(bad, pk, why, sizeof(why)) == 0);
	json_decref(bad);
	bad = json_deep_copy(r);
	json_object_del(bad, "event");
	ck_assert(tlog_verify_proof(bad, pk, why, sizeof(why)) == 0);
	json_decref(bad);
	bad = json_deep_copy(r);
	json_object_set_new(bad, "inclusion_proof", json_string("x"));
	ck_assert(tlog_verify_proof(bad, pk, why, sizeof(why)) == 0);
	json_decref(bad);
	ck_assert(tlog_verify_proof(json_object_get(r, "nothing"), pk, why, sizeof(why)) == 0);

	/* the untouched receipt still verifies */
	ck_assert(tlog_verify_proof(r, pk, why, sizeof(why)) == 1);
	json_decref(r);
}
END_TEST

START_TEST(receipt_ids)
{
	char id[TLOG_LEAF_ID_SIZE];
	uint64_t index;

	tlog_leaf_id(42, id);
	ck_assert_str_eq(id, "rcpt_000000000000002a");
	ck_assert_int_eq(tlog_parse_leaf_id(id, &index), 0);
	ck_assert_uint_eq(index, 42);
	tlog_leaf_id(UINT64_MAX, id);
	ck_assert_int_eq(tlog_parse_leaf_id(id, &index), 0);
	ck_assert_uint_eq(index, UINT64_MAX);
	ck_assert_int_ne(tlog_parse_leaf_id("rcpt_", &index), 0);
	ck_assert_int_ne(tlog_parse_leaf_id("rcpt_xyz", &index), 0);
	ck_assert_int_ne(tlog_parse_leaf_id("rcpt_000000000000002A", &index), 0);
	ck_assert_int_ne(tlog_parse_leaf_id("rcpt_000000000000002", &index), 0);
	ck_assert_int_ne(tlog_parse_leaf_id("rcpt_000000000000002a0", &index), 0);
	ck_assert_int_ne(tlog_parse_leaf_id("rcpt_00000000000000-1", &index), 0);
	ck_assert_int_ne(tlog_parse_leaf_id("evt_0000000000000001", &index), 0);
	ck_assert_int_ne(tlog_parse_leaf_id("", &index), 0);
}
END_TEST

UNIT_MAIN("tlog", UNIT_STORE | UNIT_SLOW, tlog_root_matches_the_events,
    tlog_head_signature, tlog_receipts_verify_offline, receipt_ids)
