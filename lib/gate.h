/*
 * gate.h - the emergency gate every governance call passes before its
 * handler: the highest active emergency shutdown covering the caller's
 * tenant (scope org), the caller's key (scope key) or every tenant (scope
 * all).  An activation or a resolution is seen by the very next request
 * of every process: the table is read again whenever the shared
 * GEN_SHUTDOWNS counter moved (generation.h), and otherwise answered from
 * the copy this process read last.
 *
 * lib/server.c applies it to every authenticated route of every family:
 * gated is the default, so a new family is gated without a line of its
 * own.  A route opts out with ROUTE_GATE_EXEMPT, which is kept for what
 * must stay reachable during a halt (API.md section 4):
 *   - the emergency-shutdown routes (the way out: list, read, resolve);
 *   - /healthz and /metrics (public liveness, platform monitoring);
 *   - audit and transparency-log reads (incident investigation);
 *   - calls that only take authority away: kill-switch kill, agent kill,
 *     suspend and revoke, ending a session or a delegation, key
 *     revocation.  A halt never blocks a stop.  (A revive, a key creation
 *     or a reactivation grants, and is halted.)
 *   - session introspection, whose handler answers {"active":false}
 *     itself during a severity 4-5 shutdown or when the gate is unreadable.
 * Exempt routes still carry the severity-3 warning.
 */
#ifndef ANDON_GATE_H
#define ANDON_GATE_H

struct gate_state {
	int severity;             /* 0 when nothing is active */
	int unavailable;          /* 1 when the gate could not be read */
	char shutdown_id[64];
	char reason[2100];
};

/*
 * Fills g with the highest active shutdown covering (tenant, key_id).
 * 0 on success (g->severity 0 when none); otherwise a database error, or
 * EBADMSG for an unreadable covering record, and the caller must fail
 * closed (treat it as a halt).  Lock conflicts are retried internally.
 */
int gate_evaluate(const char *tenant, const char *key_id, struct gate_state *g);

#endif
