/*
 * test_merkle.c - lib/merkle.c against the RFC 6962 / RFC 9162 test
 * vectors (the eight leaves of the Certificate Transparency reference
 * tests) and against a naive MTH computed straight from the definition.
 */
#include "unit.h"

#include "merkle.h"

#define MAX_LEAVES 70

static merkle_hash leaves[MAX_LEAVES];

/* Node callback over the in-memory leaves: computes the subtree naively. */
static void naive_mth(uint64_t start, uint64_t n, merkle_hash out);

static int
node_from_array(void *arg, unsigned level, uint64_t index, merkle_hash out)
{
	uint64_t *calls = arg;

	if (calls)
		(*calls)++;
	naive_mth(index << level, (uint64_t)1 << level, out);
	return 0;
}

/* MTH exactly as written in RFC 9162 section 2.1.1. */
static void
naive_mth(uint64_t start, uint64_t n, merkle_hash out)
{
	merkle_hash l, r;
	uint64_t k = 1;

	if (n == 1) {
		memcpy(out, leaves[start], MERKLE_HASH_SIZE);
		return;
	}
	while (k * 2 < n)
		k *= 2;
	naive_mth(start, k, l);
	naive_mth(start + k, n - k, r);
	merkle_node_hash(l, r, out);
}

static void
hex_to_hash(const char *hex, merkle_hash out)
{
	size_t len;

	ck_assert_int_eq(sodium_hex2bin(out, MERKLE_HASH_SIZE, hex,
	                                strlen(hex), NULL, &len, NULL), 0);
	ck_assert_uint_eq(len, MERKLE_HASH_SIZE);
}

static const char *const ct_leaves[] = {
	"", "00", "10", "2021", "3031", "40414243",
	"5051525354555657", "606162636465666768696a6b6c6d6e6f",
};

/* Roots of the first 1..8 leaves, from the CT reference implementation. */
static const char *const ct_roots[] = {
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

static void
load_ct_leaves(void)
{
	unsigned char buf[16];
	size_t len, i;

	for (i = 0; i < 8; i++) {
		ck_assert_int_eq(sodium_hex2bin(buf, sizeof buf, ct_leaves[i],
		                                strlen(ct_leaves[i]), NULL,
		                                &len, NULL), 0);
		merkle_leaf_hash(buf, len, leaves[i]);
	}
}

static void
load_numbered_leaves(uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++) {
		unsigned char data[8];
		memcpy(data, &i, sizeof data);
		merkle_leaf_hash(data, sizeof data, leaves[i]);
	}
}

START_TEST(empty_tree_is_sha256_of_nothing)
{
	merkle_hash root, want;

	hex_to_hash("e3b0c44298fc1c149afbf4c8996fb924"
	            "27ae41e4649b934ca495991b7852b855", want);
	ck_assert_int_eq(merkle_root(node_from_array, NULL, 0, root), 0);
	ck_assert_mem_eq(root, want, MERKLE_HASH_SIZE);
}
END_TEST

START_TEST(ct_vector_roots)
{
	merkle_hash root, want;
	uint64_t n;

	load_ct_leaves();
	for (n = 1; n <= 8; n++) {
		hex_to_hash(ct_roots[n - 1], want);
		ck_assert_int_eq(merkle_root(node_from_array, NULL, n, root),
		                 0);
		ck_assert_mem_eq(root, want, MERKLE_HASH_SIZE);
	}
}
END_TEST

START_TEST(ct_vector_inclusion_leaf0_of_8)
{
	/* RFC 6962 test: PATH(0, D[8]) has three known hashes. */
	static const char *const want[] = {
		"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
	};
	merkle_hash proof[MERKLE_MAX_PROOF], h, root;
	size_t count, i;

	load_ct_leaves();
	ck_assert_int_eq(merkle_inclusion_proof(node_from_array, NULL, 0, 8,
	                                        proof, &count), 0);
	ck_assert_uint_eq(count, 3);
	for (i = 0; i < 3; i++) {
		hex_to_hash(want[i], h);
		ck_assert_mem_eq(proof[i], h, MERKLE_HASH_SIZE);
	}
	hex_to_hash(ct_roots[7], root);
	ck_assert(merkle_verify_inclusion(leaves[0], 0, 8, proof, count,
	                                  root));
}
END_TEST

START_TEST(ct_vector_consistency_1_8)
{
	merkle_hash proof[MERKLE_MAX_PROOF], first, second;
	size_t count;

	load_ct_leaves();
	ck_assert_int_eq(merkle_consistency_proof(node_from_array, NULL, 1, 8,
	                                          proof, &count), 0);
	ck_assert_uint_eq(count, 3);
	hex_to_hash(ct_roots[0], first);
	hex_to_hash(ct_roots[7], second);
	ck_assert(merkle_verify_consistency(1, 8, first, second, proof,
	                                    count));
}
END_TEST

START_TEST(inclusion_every_leaf_every_size)
{
	merkle_hash proof[MERKLE_MAX_PROOF], root, bigger_root;
	uint64_t n, m;
	size_t count;

	load_numbered_leaves(MAX_LEAVES);
	for (n = 1; n < MAX_LEAVES; n++) {
		naive_mth(0, n, root);
		naive_mth(0, n + 1, bigger_root);
		for (m = 0; m < n; m++) {
			ck_assert_int_eq(merkle_inclusion_proof(
			        node_from_array, NULL, m, n, proof, &count), 0);
			ck_assert(merkle_verify_inclusion(leaves[m], m, n,
			                                  proof, count, root));
			/* a wrong index, leaf or size must fail */
			if (n > 1)
				ck_assert(!merkle_verify_inclusion(
				        leaves[m], (m + 1) % n, n, proof,
				        count, root));
			ck_assert(!merkle_verify_inclusion(
			        leaves[(m + 1) % MAX_LEAVES], m, n, proof,
			        count, root));
			/* the proof does not prove the next tree head */
			ck_assert(!merkle_verify_inclusion(leaves[m], m, n + 1,
			                                   proof, count,
			                                   bigger_root));
		}
	}
}
END_TEST

START_TEST(consistency_every_pair)
{
	merkle_hash proof[MERKLE_MAX_PROOF], r1, r2;
	uint64_t a, b;
	size_t count;

	load_numbered_leaves(MAX_LEAVES);
	for (b = 1; b <= MAX_LEAVES; b++) {
		naive_mth(0, b, r2);
		for (a = 1; a <= b; a++) {
			naive_mth(0, a, r1);
			ck_assert_int_eq(merkle_consistency_proof(
			        node_from_array, NULL, a, b, proof, &count), 0);
			ck_assert(merkle_verify_consistency(a, b, r1, r2, proof,
			                                    count));
			if (a < b) {
				ck_assert(!merkle_verify_consistency(
				        a, b, r2, r2, proof, count));
				proof[0][0] ^= 1;
				ck_assert(!merkle_verify_consistency(
				        a, b, r1, r2, proof, count));
			}
		}
	}
}
END_TEST

START_TEST(root_uses_few_callbacks)
{
	/* the point of the callback design: O(log n) nodes per root */
	merkle_hash root, want;
	uint64_t calls = 0;

	load_numbered_leaves(MAX_LEAVES);
	naive_mth(0, 67, want);
	ck_assert_int_eq(merkle_root(node_from_array, &calls, 67, root), 0);
	ck_assert_mem_eq(root, want, MERKLE_HASH_SIZE);
	ck_assert_uint_le(calls, 7);
}
END_TEST

START_TEST(bad_arguments_refused)
{
	merkle_hash proof[MERKLE_MAX_PROOF];
	size_t count;

	ck_assert_int_ne(merkle_inclusion_proof(node_from_array, NULL, 3, 3,
	                                        proof, &count), 0);
	ck_assert_int_ne(merkle_consistency_proof(node_from_array, NULL, 0, 3,
	                                          proof, &count), 0);
	ck_assert_int_ne(merkle_consistency_proof(node_from_array, NULL, 4, 3,
	                                          proof, &count), 0);
}
END_TEST

UNIT_MAIN("merkle", UNIT_SLOW,
          empty_tree_is_sha256_of_nothing,
          ct_vector_roots,
          ct_vector_inclusion_leaf0_of_8,
          ct_vector_consistency_1_8,
          inclusion_every_leaf_every_size,
          consistency_every_pair,
          root_uses_few_callbacks,
          bad_arguments_refused)
