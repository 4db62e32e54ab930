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

#define TLOG_RECEIPT_ID_SIZE 32

/* Stores leaf `index` and every complete subtree it closes. */
int tlog_append(DB_TXN *txn, uint64_t index, const merkle_hash leaf);
/* The number of leaves (audit events) committed. */
int tlog_size(DB_TXN *txn, uint64_t *size);
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
void tlog_receipt_id(uint64_t leaf_index, char out[TLOG_RECEIPT_ID_SIZE]);
int tlog_parse_receipt_id(const char *id, uint64_t *leaf_index);
/* The node callback over the stored tree (arg is a DB_TXN * or NULL). */
int tlog_node(void *arg, unsigned level, uint64_t index, merkle_hash out);
/* Verifies a receipt document offline: the event's leaf, its inclusion
 * in the signed head, and the head's signature under pk.  Returns 1 when
 * valid; else 0 and a reason. */
int tlog_verify_receipt(const json_t *receipt, const unsigned char pk[32],
                        char *why, size_t whylen);
/*
 * The canonical bytes of an event, which its hash and its leaf cover
 * (malloc'd): RFC 8785 (jcs.h) for an event marked "canon": "jcs" (every
 * event written since the marker), else, for the events written before
 * it, jansson's compact dump with sorted keys and every non-ASCII
 * character as \uXXXX.  NULL for an unknown marker or out of memory.
 */
#define TLOG_CANON_JCS "jcs"
char *tlog_canonical(const json_t *event);

#endif
