/*
 * tlog.h - the transparency log: an append-only RFC 9162 Merkle tree over
 * the audit events, stored as complete subtree hashes, with Ed25519-signed
 * tree heads.
 *
 * A signed tree head signs these 50 bytes (after RFC 6962's TreeHeadSignature):
 *   version (1 byte, 0) | signature type (1 byte, 1) |
 *   timestamp in ms (8 bytes, big-endian) | tree size (8 bytes, big-endian) |
 *   root hash (32 bytes)
 */
#ifndef ANDON_TLOG_H
#define ANDON_TLOG_H

#include <stdint.h>
#include <db.h>
#include <jansson.h>

#include "merkle.h"

#define TLOG_LEAF_ID_SIZE 32

/* Stores leaf `index` and every complete subtree it closes. */
int tlog_append(DB_TXN *txn, uint64_t index, const merkle_hash leaf);
/* Creates the Ed25519 signing key when the log has none yet. */
int tlog_ensure_key(DB_TXN *txn);
/* The public key (32 bytes); 0 or a DB error. */
int tlog_public_key(unsigned char pk[32]);
/* {tree_size, timestamp, root_hash, signature, public_key} */
int tlog_signed_head(uint64_t size, json_t **sth);
int tlog_root(DB_TXN *txn, uint64_t size, merkle_hash root);
/* The message a tree head signature covers. */
void tlog_head_message(unsigned char msg[50], int64_t timestamp_ms,
                       uint64_t size, const merkle_hash root);
/*
 * A leaf's id, "rcpt_" and its index: what the API calls a transparency
 * receipt's id (GET /v1/transparency/receipts/{id}, an event's
 * receipt_id).  In the code "receipt" alone is an agent's action receipt
 * (receipt.h); the log's are leaf ids and inclusion proofs.
 */
void tlog_leaf_id(uint64_t leaf_index, char out[TLOG_LEAF_ID_SIZE]);
int tlog_parse_leaf_id(const char *id, uint64_t *leaf_index);
/* The node callback over the stored tree (arg is a DB_TXN * or NULL). */
int tlog_node(void *arg, unsigned level, uint64_t index, merkle_hash out);
/* Verifies an inclusion proof document (the API's transparency receipt:
 * event, leaf_index, inclusion_proof, sth) offline: the event's leaf, its
 * inclusion in the signed head, and the head's signature under pk.
 * Returns 1 when valid; else 0 and a reason. */
int tlog_verify_proof(const json_t *receipt, const unsigned char pk[32],
                      char *why, size_t whylen);

#endif
