/*
 * session.h - agent sessions: bearer tokens shown once, stored only as
 * their SHA-256 (the tokens are 256 random bits, so a fast hash is enough
 * where API keys need Argon2id), and RFC 7662 introspection.
 *
 * Stored: T_SESSIONS holds every session under tenant SEP agent uuid SEP
 * session id; T_SESSION_LIVE the sessions not yet terminated (value: the
 * expiry in ms), so counting and terminating an agent's sessions never
 * reads its history; T_SESSION_TOKENS maps tenant SEP hex SHA-256 of the
 * token to agent uuid SEP session id.
 */
#ifndef ANDON_SESSION_H
#define ANDON_SESSION_H

#include <db.h>
#include <jansson.h>

#include "principal.h"
#include "problem.h"

#define SESSION_TTL_MIN 60
#define SESSION_TTL_MAX 86400
#define SESSION_TTL_DEFAULT 3600

/* Opens a session for an active agent: 409 agent_suspended or
 * agent_revoked, 409 kill_switch_active when an active kill switch names
 * the agent by either of its ids, 400 scopes_not_held when scopes (NULL:
 * the agent's) are not a subset of the agent's.  *out is the session with
 * its token. */
int session_open(DB_TXN *txn, const struct principal *who, const json_t *agent,
                 long ttl_seconds, const json_t *scopes, json_t **out,
                 struct problem *p);

/* The agent's sessions, newest first not applied (the caller pages). */
int session_list(const char *tenant, const char *agent_uuid, json_t **items);

/* DELETE: terminates one session; 404 not_found, 409 already_terminated.
 * Audits session.terminated. */
int session_end(DB_TXN *txn, const struct principal *who, const json_t *agent,
                const char *session_id, json_t **out, struct problem *p);

/* Terminates every live session of an agent (all of them when dry_run is
 * 0; none when 1) and counts those that had not expired. */
int session_terminate_all(DB_TXN *txn, const char *tenant,
                          const char *agent_uuid, const char *at,
                          const char *reason, int dry_run, long *count);

/* Sessions of the agent that are active and not expired. */
int session_count_active(DB_TXN *txn, const char *tenant,
                         const char *agent_uuid, long *count);

/* RFC 7662: {"active":true, scope, agent_id, sub, client_id, exp, iat,
 * token_type, jti} or {"active":false} when the token is unknown (or
 * another tenant's), expired, terminated, its agent suspended or revoked,
 * a kill switch is active on its agent, shutdown_severity is 4 or more, or
 * a scope of scope (space separated, may be NULL) is not held. */
int session_introspect(const char *tenant, const char *token,
                       const char *scope, int shutdown_severity,
                       json_t **answer);

#endif
