/*
 * killswitch.h - kill switches (contract section 6, seed 001): the records,
 * the one active switch per target, every switch per target, and the
 * check's lookups.  The only file that knows their keys.
 *
 * Stored: T_KILLSWITCH holds every record (tenant SEP id), T_KS_ACTIVE the
 * one active switch per target (tenant SEP type SEP target -> a summary
 * {id, reason, killed_at, killed_by}; the key a concurrent kill locks, so
 * exactly one wins), T_KS_HISTORY every switch per target.  The check reads
 * T_KS_ACTIVE only: one B-tree lookup per named target, whatever the number
 * of records, and the summary is all a killed answer needs.
 *
 * A registry agent is one target whichever of its two ids (id, agent_id)
 * names it.  Its switch is stored under the id its kill named (the record
 * keeps what the caller sent) and T_KS_ALIASES holds the same summary under
 * the other id, written and deleted with it: a check by either id is still
 * one lookup, and a second one only for a target shaped like a registry id
 * that is not killed.  Kill, revive and history resolve the other id in the
 * registry; introspection and session opening know both ids already.
 *
 * Returns follow lib/README: 0, -1 with the problem set, or an error.
 */
#ifndef ANDON_KILLSWITCH_H
#define ANDON_KILLSWITCH_H

#include <stdint.h>
#include <db.h>
#include <jansson.h>

#include "principal.h"
#include "problem.h"

/* target_id: 1 to 256 characters, and its terminating NUL */
#define KILLSWITCH_TARGET_SIZE 257

/* "agent", "run", "mission", NULL */
extern const char *const killswitch_target_types[];

/* Kills a target: *record is the stored record.  409 already_killed when a
 * switch is active on it (for an agent: under either of its ids).  Audits
 * killswitch.activated. */
int killswitch_kill(DB_TXN *txn, const struct principal *who,
                    const char *type, const char *target, const char *reason,
                    json_t **record, struct problem *p);

/* Revives a target's active switch: *record is the record revived.  404
 * not_killed when none is active.  Audits killswitch.revived. */
int killswitch_revive(DB_TXN *txn, const struct principal *who,
                      const char *type, const char *target, json_t **record,
                      struct problem *p);

/* The check's read, outside any transaction: what stops the target, into
 * *summary (shared, read only: decref it).  A switch's summary {id, reason,
 * killed_at, killed_by}; for an agent target also a switch under the
 * registry agent's other id, and a suspended or revoked agent shaped as
 * one: {id: null, target_type "agent", target_id, reason, killed_at,
 * killed_by: null, source "agent_status", agent_status}.  0, DB_NOTFOUND
 * when nothing stops it, or an error. */
int killswitch_check(const char *tenant, const char *type, const char *target,
                     json_t **summary);

/* Whether an active switch names the agent by its uuid or its agent_id:
 * 0 when one does, DB_NOTFOUND when none, or an error.  txn may be NULL. */
int killswitch_agent_switched(DB_TXN *txn, const char *tenant,
                              const char *uuid, const char *agent_id);

/* The tenant's active switches' records, unsorted. */
int killswitch_list_active(const char *tenant, json_t **items);

/* The tenant's switches' records, unsorted: every one (type NULL), a
 * type's, or one target's (with the switches its registry agent's other
 * id named).  400 invalid_query when the target cannot be a key. */
int killswitch_history(const char *tenant, const char *type,
                       const char *target, json_t **items, struct problem *p);

/* Active switches, every tenant (metrics). */
int killswitch_count_active(uint64_t *count);

#endif
