/*
 * fuzz_merkle.c - the RFC 9162 proof verifiers (merkle_verify_inclusion,
 * merkle_verify_consistency), which a client's receipt check and the
 * console's "verify receipt" depend on.
 *
 * The harness builds a real tree of up to 64 leaves from the input's
 * first byte; the rest of the input is a claimed proof (index, size,
 * leaf, hashes) against that tree's real root.  Properties: the real
 * proofs verify; a claimed proof verifies only when it IS the real
 * proof of the real leaf (anything else verifying would be a forgery),
 * and the same for consistency proofs between two real roots.
 */
#include <string.h>

#include "fuzz.h"
#include "merkle.h"

#define LEAVES 64

static merkle_hash leaves[LEAVES];

/* The hash of the complete subtree of 2^level leaves from index << level
 * (what the log stores and merkle.c asks for), computed from the leaves. */
static int
node(void *arg, unsigned level, uint64_t index, merkle_hash out)
{
	merkle_hash left, right;

	(void)arg;
	if (level > 6 || ((index + 1) << level) > LEAVES)
		return -1;
	if (level == 0) {
		memcpy(out, leaves[index], sizeof(merkle_hash));
		return 0;
	}
	if (node(arg, level - 1, 2 * index, left) != 0 ||
	    node(arg, level - 1, 2 * index + 1, right) != 0)
		return -1;
	merkle_node_hash(left, right, out);
	return 0;
}

/* Takes n bytes from the input, or fails. */
static int
take(const uint8_t **data, size_t *size, void *out, size_t n)
{
	if (*size < n)
		return -1;
	memcpy(out, *data, n);
	*data += n;
	*size -= n;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	merkle_hash root, root2, leaf, real[MERKLE_MAX_PROOF];
	merkle_hash claimed[MERKLE_MAX_PROOF];
	uint8_t shape[4];
	size_t real_count, count;
	uint64_t tree, index, first;

	FUZZ_CANARY(data, size);
	if (take(&data, &size, shape, sizeof(shape)) != 0)
		return 0;
	for (unsigned i = 0; i < LEAVES; i++) {
		uint8_t d[2] = { (uint8_t)i, shape[0] };

		merkle_leaf_hash(d, sizeof(d), leaves[i]);
	}
	tree = 1 + shape[1] % LEAVES;
	index = shape[2] % tree;
	FUZZ_ASSERT(merkle_root(node, NULL, tree, root) == 0);
	FUZZ_ASSERT(merkle_inclusion_proof(node, NULL, index, tree, real,
	    &real_count) == 0);
	FUZZ_ASSERT(merkle_verify_inclusion(leaves[index], index, tree, real,
	    real_count, root) == 1);

	/* a claimed inclusion proof against the real root */
	count = shape[3] % (MERKLE_MAX_PROOF + 1);
	if (take(&data, &size, leaf, sizeof(leaf)) != 0)
		return 0;
	memset(claimed, 0, sizeof(claimed));
	for (size_t i = 0; i < count; i++)
		if (take(&data, &size, claimed[i], sizeof(merkle_hash)) != 0)
			count = i;
	if (merkle_verify_inclusion(leaf, index, tree, claimed, count, root))
		FUZZ_ASSERT(count == real_count &&
		    memcmp(leaf, leaves[index], sizeof(leaf)) == 0 &&
		    memcmp(claimed, real, count * sizeof(merkle_hash)) == 0);

	/* a claimed consistency proof between two real roots */
	first = 1 + index;
	FUZZ_ASSERT(merkle_root(node, NULL, first, root2) == 0);
	FUZZ_ASSERT(merkle_consistency_proof(node, NULL, first, tree, real,
	    &real_count) == 0);
	FUZZ_ASSERT(merkle_verify_consistency(first, tree, root2, root, real,
	    real_count) == 1);
	if (merkle_verify_consistency(first, tree, root2, root, claimed, count))
		FUZZ_ASSERT(count == real_count &&
		    memcmp(claimed, real, count * sizeof(merkle_hash)) == 0);
	return 0;
}
