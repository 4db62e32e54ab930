/*
 * intervention.h - HARD_BLOCK interventions recorded by killed checks.
 *
 * A killed agent hammering check must not cost a write per call, so each
 * process aggregates: the first blocked check of a given (kill switch,
 * agent, run, mission, action) is written at once, so it is visible
 * immediately; later ones only bump a counter in memory, and the counters
 * are written together, in one transaction, at most every
 * intervention_flush_ms (on the next request or the idle tick).  One stored
 * intervention per aggregation key carries count, first_seen and timestamp
 * (the last time seen).
 */
#ifndef ANDON_INTERVENTION_H
#define ANDON_INTERVENTION_H

#include <stdint.h>
#include <db.h>
#include <jansson.h>

struct blocked_check {
	const char *tenant;
	const json_t *kill_switch;   /* the record that matched */
	const char *agent_id, *run_id, *mission_id, *action;
};

void intervention_blocked(const struct blocked_check *b);
/* Writes the pending counters when due (force: now). */
void intervention_flush(int force, unsigned every_ms);
/* Adds count occurrences to the stored intervention for the key;
 * creates it when new.  Used by the flush and by POST batches. */
int intervention_merge(DB_TXN *txn, const char *tenant, json_t *item,
                       json_t **stored);

#endif
