/*
 * merkle.h - RFC 9162 (Certificate Transparency v2) Merkle tree hashing.
 *
 * Pure functions: no storage, no allocation beyond what the caller passes.
 * The tree is reached through a callback that returns the hash of a
 * complete, aligned subtree: level 0 is a leaf hash, level L covers leaves
 * [index * 2^L, (index + 1) * 2^L).  Every left child met while walking
 * RFC 9162's recursive definitions (MTH, PATH, PROOF) is such a subtree, so
 * roots and proofs cost O(log^2 n) callback calls, never O(n).
 */
#ifndef ANDON_MERKLE_H
#define ANDON_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define MERKLE_HASH_SIZE 32
#define MERKLE_MAX_PROOF 64 /* hashes in a proof, enough for 2^63 leaves */

typedef unsigned char merkle_hash[MERKLE_HASH_SIZE];

/* Returns 0 and fills out, or non-zero (passed back to the caller). */
typedef int (*merkle_node_fn)(void *arg, unsigned level, uint64_t index,
                              merkle_hash out);

/* SHA-256(0x00 || data) */
void merkle_leaf_hash(const void *data, size_t len, merkle_hash out);
/* SHA-256(0x01 || left || right) */
void merkle_node_hash(const merkle_hash left, const merkle_hash right,
                      merkle_hash out);

/* MTH(D[0:size]); size 0 gives SHA-256 of the empty string. */
int merkle_root(merkle_node_fn fn, void *arg, uint64_t size, merkle_hash out);

/* PATH(index, D[0:size]); *count gets the number of hashes. */
int merkle_inclusion_proof(merkle_node_fn fn, void *arg, uint64_t index,
                           uint64_t size, merkle_hash proof[MERKLE_MAX_PROOF],
                           size_t *count);

/* PROOF(first, D[0:second]), 0 < first <= second. */
int merkle_consistency_proof(merkle_node_fn fn, void *arg, uint64_t first,
                             uint64_t second,
                             merkle_hash proof[MERKLE_MAX_PROOF],
                             size_t *count);

/* RFC 9162 section 2.1.3.2: 1 when the proof is valid, 0 otherwise. */
int merkle_verify_inclusion(const merkle_hash leaf, uint64_t index,
                            uint64_t size, const merkle_hash *proof,
                            size_t count, const merkle_hash root);

/* RFC 9162 section 2.1.4.2: 1 when the proof is valid, 0 otherwise. */
int merkle_verify_consistency(uint64_t first, uint64_t second,
                              const merkle_hash first_root,
                              const merkle_hash second_root,
                              const merkle_hash *proof, size_t count);

#endif
