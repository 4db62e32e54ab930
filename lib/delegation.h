/*
 * delegation.h - delegations: an agent grants some of its scopes to
 * another agent of its tenant.  A kill with cascade follows the active
 * delegations an agent granted (lib/cascade.h).
 *
 * Stored: T_DELEGATIONS under tenant SEP delegator uuid SEP delegation id,
 * so the delegations one agent granted are one prefix scan.  A deleted
 * delegation is kept, with status revoked, for the record.
 */
#ifndef ANDON_DELEGATION_H
#define ANDON_DELEGATION_H

#include <db.h>
#include <jansson.h>

#include "principal.h"
#include "problem.h"

/* Grants scopes (a non-empty subset of the delegator's) to the agent
 * delegate_ref names (uuid or agent_id).  400 self_delegation or
 * scopes_not_held, 404 when the delegate is not the tenant's, 409 when
 * either agent cannot take part.  Audits delegation.created. */
int delegation_create(DB_TXN *txn, const struct principal *who,
                      const json_t *delegator, const char *delegate_ref,
                      const json_t *scopes, json_t **out, struct problem *p);

/* The delegations the agent granted. */
int delegation_list(const char *tenant, const char *agent_uuid, json_t **items);

/* DELETE: 404 not_found, 409 already_revoked.  Audits delegation.revoked. */
int delegation_revoke(DB_TXN *txn, const struct principal *who,
                      const json_t *delegator, const char *delegation_id,
                      json_t **out, struct problem *p);

/* Appends to uuids (an array) the delegate uuid of every active delegation
 * the agent granted. */
int delegation_delegates(DB_TXN *txn, const char *tenant,
                         const char *agent_uuid, json_t *uuids);

#endif
