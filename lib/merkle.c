/*
 * merkle.c - RFC 9162 section 2.1 Merkle tree hashes, inclusion and
 * consistency proofs, and their verification.
 *
 * The recursive definitions split D[0:n] at k, the largest power of two
 * smaller than n.  The left part D[0:k] is always a complete subtree
 * aligned on a multiple of k, so its hash comes from the callback in one
 * call; only the right part needs recursion.
 */
#include <string.h>

#include <sodium.h>

#include "merkle.h"

void
merkle_leaf_hash(const void *data, size_t len, merkle_hash out)
{
	crypto_hash_sha256_state st;
	unsigned char prefix = 0x00;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &prefix, 1);
	crypto_hash_sha256_update(&st, data, len);
	crypto_hash_sha256_final(&st, out);
}

void
merkle_node_hash(const merkle_hash left, const merkle_hash right,
                 merkle_hash out)
{
	crypto_hash_sha256_state st;
	unsigned char prefix = 0x01;
	merkle_hash result;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &prefix, 1);
	crypto_hash_sha256_update(&st, left, MERKLE_HASH_SIZE);
	crypto_hash_sha256_update(&st, right, MERKLE_HASH_SIZE);
	crypto_hash_sha256_final(&st, result);
	memcpy(out, result, MERKLE_HASH_SIZE); /* out may alias an input */
}

/* The largest power of two strictly smaller than n (n >= 2). */
static uint64_t
split_point(uint64_t n)
{
	uint64_t k = 1;

	while (k < n - k)
		k <<= 1;
	return k;
}

static unsigned
log2_exact(uint64_t k)
{
	unsigned level = 0;

	while (k > 1) {
		k >>= 1;
		level++;
	}
	return level;
}

static int
is_power_of_two(uint64_t n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

/* MTH(D[start:start+n]) where start is a multiple of the split points. */
static int
subtree_root(merkle_node_fn fn, void *arg, uint64_t start, uint64_t n,
             merkle_hash out)
{
	merkle_hash left, right;
	uint64_t k;
	int rc;

	if (is_power_of_two(n)) {
		unsigned level = log2_exact(n);
		return fn(arg, level, start >> level, out);
	}
	k = split_point(n);
	if ((rc = subtree_root(fn, arg, start, k, left)) != 0)
		return rc;
	if ((rc = subtree_root(fn, arg, start + k, n - k, right)) != 0)
		return rc;
	merkle_node_hash(left, right, out);
	return 0;
}

int
merkle_root(merkle_node_fn fn, void *arg, uint64_t size, merkle_hash out)
{
	if (size == 0) {
		crypto_hash_sha256(out, NULL, 0);
		return 0;
	}
	return subtree_root(fn, arg, 0, size, out);
}

/*
 * PATH(m, D[start:start+n]); hashes are appended deepest first, as the
 * RFC lists them.  The recursion goes down first and appends on return.
 */
static int
path(merkle_node_fn fn, void *arg, uint64_t m, uint64_t start, uint64_t n,
     merkle_hash *proof, size_t *count)
{
	uint64_t k;
	int rc;

	if (n <= 1)
		return 0;
	if (*count >= MERKLE_MAX_PROOF)
		return -1;
	k = split_point(n);
	if (m < k) {
		if ((rc = path(fn, arg, m, start, k, proof, count)) != 0)
			return rc;
		return subtree_root(fn, arg, start + k, n - k,
		                    proof[(*count)++]);
	}
	if ((rc = path(fn, arg, m - k, start + k, n - k, proof, count)) != 0)
		return rc;
	return subtree_root(fn, arg, start, k, proof[(*count)++]);
}

int
merkle_inclusion_proof(merkle_node_fn fn, void *arg, uint64_t index,
                       uint64_t size, merkle_hash proof[MERKLE_MAX_PROOF],
                       size_t *count)
{
	*count = 0;
	if (index >= size)
		return -1;
	return path(fn, arg, index, 0, size, proof, count);
}

/* SUBPROOF(m, D[start:start+n], b) from RFC 9162 section 2.1.4.1. */
static int
subproof(merkle_node_fn fn, void *arg, uint64_t m, uint64_t start,
         uint64_t n, int b, merkle_hash *proof, size_t *count)
{
	uint64_t k;
	int rc;

	if (*count >= MERKLE_MAX_PROOF)
		return -1;
	if (m == n) {
		if (b)
			return 0;
		return subtree_root(fn, arg, start, n, proof[(*count)++]);
	}
	k = split_point(n);
	if (m <= k) {
		if ((rc = subproof(fn, arg, m, start, k, b, proof, count)) != 0)
			return rc;
		return subtree_root(fn, arg, start + k, n - k,
		                    proof[(*count)++]);
	}
	if ((rc = subproof(fn, arg, m - k, start + k, n - k, 0, proof,
	                   count)) != 0)
		return rc;
	return subtree_root(fn, arg, start, k, proof[(*count)++]);
}

int
merkle_consistency_proof(merkle_node_fn fn, void *arg, uint64_t first,
                         uint64_t second,
                         merkle_hash proof[MERKLE_MAX_PROOF], size_t *count)
{
	*count = 0;
	if (first == 0 || first > second)
		return -1;
	if (first == second)
		return 0;
	return subproof(fn, arg, first, 0, second, 1, proof, count);
}

int
merkle_verify_inclusion(const merkle_hash leaf, uint64_t index,
                        uint64_t size, const merkle_hash *proof,
                        size_t count, const merkle_hash root)
{
	uint64_t fn = index, sn = size - 1;
	merkle_hash r;
	size_t i;

	if (index >= size)
		return 0;
	memcpy(r, leaf, MERKLE_HASH_SIZE);
	for (i = 0; i < count; i++) {
		if (sn == 0)
			return 0;
		if ((fn & 1) || fn == sn) {
			merkle_node_hash(proof[i], r, r);
			if (!(fn & 1)) {
				while (fn != 0 && !(fn & 1)) {
					fn >>= 1;
					sn >>= 1;
				}
			}
		} else {
			merkle_node_hash(r, proof[i], r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && sodium_memcmp(r, root, MERKLE_HASH_SIZE) == 0;
}

int
merkle_verify_consistency(uint64_t first, uint64_t second,
                          const merkle_hash first_root,
                          const merkle_hash second_root,
                          const merkle_hash *proof, size_t count)
{
	merkle_hash fr, sr;
	uint64_t fn, sn;
	size_t i = 0;

	if (first == 0 || first > second)
		return 0;
	if (first == second)
		return count == 0 &&
		       sodium_memcmp(first_root, second_root,
		                     MERKLE_HASH_SIZE) == 0;
	if (count == 0)
		return 0;
	/* If first is a power of two, first_root is implicitly the first
	 * element of the proof. */
	if (is_power_of_two(first)) {
		memcpy(fr, first_root, MERKLE_HASH_SIZE);
	} else {
		memcpy(fr, proof[0], MERKLE_HASH_SIZE);
		i = 1;
	}
	memcpy(sr, fr, MERKLE_HASH_SIZE);
	fn = first - 1;
	sn = second - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < count; i++) {
		if (sn == 0)
			return 0;
		if ((fn & 1) || fn == sn) {
			merkle_node_hash(proof[i], fr, fr);
			merkle_node_hash(proof[i], sr, sr);
			if (!(fn & 1)) {
				while (fn != 0 && !(fn & 1)) {
					fn >>= 1;
					sn >>= 1;
				}
			}
		} else {
			merkle_node_hash(sr, proof[i], sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 &&
	       sodium_memcmp(fr, first_root, MERKLE_HASH_SIZE) == 0 &&
	       sodium_memcmp(sr, second_root, MERKLE_HASH_SIZE) == 0;
}
