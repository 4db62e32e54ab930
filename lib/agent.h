/*
 * agent.h - the agent registry (contract section 5): records, lookup by id
 * or agent_id, and the status transitions active <-> suspended -> revoked.
 *
 * Stored: T_AGENTS holds the record under tenant SEP uuid; T_AGENT_IDS
 * maps tenant SEP agent_id to the uuid, so "{agentId}" in a path is either
 * and costs one or two B-tree lookups.  T_AGENT_STOPS holds one small entry
 * per stopped (suspended or revoked) agent under both of its identifiers:
 * the kill-switch check and introspection read it with one lookup that
 * misses for every running agent.  Every key starts with the tenant.
 *
 * Functions that change an agent append its audit event in the caller's
 * transaction; they answer 0, a Berkeley DB error, or -1 with a problem.
 */
#ifndef ANDON_AGENT_H
#define ANDON_AGENT_H

#include <db.h>
#include <jansson.h>

#include "principal.h"
#include "problem.h"

#define AGENT_METADATA_MAX 16384

extern const char *const agent_types[];
extern const char *const agent_statuses[];

/* Registers an agent from a validated body (agent_type, display_name,
 * description?, scopes?, metadata?, trust_score?, public_key?).  *agent is
 * the stored record. */
int agent_register(DB_TXN *txn, const struct principal *who,
                   const json_t *body, json_t **agent, struct problem *p);

/* The tenant's agent by uuid or agent_id: 0, DB_NOTFOUND or a DB error.
 * flags: DB_RMW to lock it for an update. */
int agent_find(DB_TXN *txn, const char *tenant, const char *ref,
               json_t **agent, uint32_t flags);

/* 1 when ref has the shape of an id or agent_id of the registry (both are
 * minted here: a UUID, "maip:..."), 0 when it cannot name a registry agent:
 * lets the check skip a lookup for every other target. */
int agent_ref_shaped(const char *ref);

/* The other identifier of the tenant's registry agent that ref names (its
 * agent_id for its id, its id for its agent_id), into other: 0, DB_NOTFOUND
 * when ref names none of the tenant's agents, or a DB error. */
int agent_other_ref(DB_TXN *txn, const char *tenant, const char *ref,
                    char *other, size_t len);

/* Writes the record back (updated_at is set by the callers that change). */
int agent_store(DB_TXN *txn, const char *tenant, const json_t *agent);

/* The agent object of the contract: the record with session_count (the
 * caller counts them: session_count_active()). */
json_t *agent_public(const json_t *agent, long session_count);

/* Every agent of the tenant matching the filters (NULL: any), as public
 * objects without session_count (the caller adds it to the page). */
int agent_list(const char *tenant, const char *status, const char *type,
               json_t **items);

/* PATCH: display_name, description, metadata, status (active|suspended).
 * 400 for scopes or status revoked, 409 agent_revoked.  Audits
 * agent.updated and, on a status change, agent.suspended or
 * agent.reactivated. */
int agent_update(DB_TXN *txn, const struct principal *who, json_t *agent,
                 const json_t *body, struct problem *p);

/* Suspends: 409 already_suspended or agent_revoked.  Audits agent.suspended. */
int agent_suspend(DB_TXN *txn, const struct principal *who, json_t *agent,
                  const char *reason, struct problem *p);

/* Marks the record revoked (status, revoked_at, revoked_reason, the stop
 * entry); the caller ends sessions and audits. */
int agent_mark_revoked(DB_TXN *txn, const char *tenant, json_t *agent,
                       const char *reason, const char *at);

/* Why an agent is stopped, by uuid or agent_id: 0 with *stop =
 * {id, agent_id, status, reason, at}, DB_NOTFOUND when it is not (or is
 * not the tenant's), or a DB error.  txn may be NULL. */
int agent_stop_find(DB_TXN *txn, const char *tenant, const char *ref,
                    json_t **stop);

/* Shortcuts over a record. */
const char *agent_uuid(const json_t *agent);
const char *agent_ident(const json_t *agent);     /* agent_id */
const char *agent_status(const json_t *agent);
/* 1 when every string of wanted is in the agent's scopes. */
int agent_holds_scopes(const json_t *agent, const json_t *wanted);

#endif
