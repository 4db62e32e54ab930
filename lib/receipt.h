/*
 * receipt.h - receipts: records of actions an agent took, pending until
 * finalized, when they are anchored in the transparency log (their
 * receipt.finalized audit event carries the SHA-256 of the payload), or
 * voided by a kill of the agent.  A voided receipt can never be finalized.
 *
 * Stored: T_RECEIPTS under tenant SEP agent uuid SEP receipt id, and
 * T_RECEIPT_PENDING for the pending ones only, so a kill voids without
 * reading the agent's history.
 */
#ifndef ANDON_RECEIPT_H
#define ANDON_RECEIPT_H

#include <db.h>
#include <jansson.h>

#include "principal.h"
#include "problem.h"

extern const char *const receipt_statuses[];

/* A pending receipt of an active agent (409 agent_suspended or
 * agent_revoked).  Audits receipt.created. */
int receipt_create(DB_TXN *txn, const struct principal *who,
                   const json_t *agent, const char *action,
                   const json_t *payload, json_t **out, struct problem *p);

/* Finalizes: 404 not_found, 409 receipt_voided or already_finalized.
 * Audits receipt.finalized; its transparency receipt is the anchor. */
int receipt_finalize(DB_TXN *txn, const struct principal *who,
                     const json_t *agent, const char *receipt_id,
                     json_t **out, struct problem *p);

/* The agent's receipts, all or those of one status. */
int receipt_list(const char *tenant, const char *agent_uuid,
                 const char *status, json_t **items);

/* Voids every pending receipt of the agent (none when dry_run) and counts
 * them. */
int receipt_void_pending(DB_TXN *txn, const char *tenant,
                         const char *agent_uuid, const char *at,
                         const char *reason, int dry_run, long *count);

#endif
