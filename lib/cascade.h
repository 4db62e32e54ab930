/*
 * cascade.h - stopping an agent for good: kill and revoke (contract
 * section 5), in the caller's one transaction.
 *
 * Revoke: the agent's status becomes revoked and its sessions are
 * terminated; audited as agent.revoked.  Kill: the same plus its pending
 * receipts voided and, with cascade, the same for every agent reachable
 * through the active delegations it granted, transitively (a breadth-first
 * walk that visits each agent once, so cycles and diamonds end); one
 * killswitch.activated audit event, with its transparency receipt, per
 * agent revoked.  A dry run walks the same way and changes nothing.
 */
#ifndef ANDON_CASCADE_H
#define ANDON_CASCADE_H

#include <db.h>
#include <jansson.h>

#include "principal.h"
#include "problem.h"

struct stop_order {
	const struct principal *who;
	const char *reason;
	const char *operator_id;  /* NULL: the name of the caller's key */
	int kill;                 /* 1 kill, 0 revoke */
	int cascade;              /* kill only */
	int dry_run;
};

/* Stops agent (read with DB_RMW by the caller; updated in place).  409
 * already_revoked.  *out is the response body of the contract. */
int cascade_stop(DB_TXN *txn, const struct stop_order *o, json_t *agent,
                 json_t **out, struct problem *p);

#endif
