/*
 * intervention.h - HARD_BLOCK interventions recorded by killed checks.
 *
 * A killed agent hammering check must not cost a write per call, and no
 * check waits on a durable write: each process counts blocked checks in
 * memory, one slot per (kill switch, agent, run, mission, action).  The
 * slots are written after answers, never in one: the slots seen for the
 * first time at most every 20 ms, in one transaction, so a new intervention
 * shows within moments; every pending count, together, at most every
 * intervention_flush_ms.  One stored intervention per aggregation key
 * carries count, first_seen and timestamp (the last time seen).
 *
 * A killed agent sending a new action or run_id on every check would open
 * a slot (and a stored intervention) per call: each kill switch opens at
 * most INTERVENTION_NEW_PER_SWITCH new slots per process and flush
 * interval; further new combinations are counted in the switch's overflow
 * slot (stored with "overflow": true and null action_name, agent_id,
 * run_id and mission_id), never dropped.
 */
#ifndef ANDON_INTERVENTION_H
#define ANDON_INTERVENTION_H

#include <stddef.h>
#include <stdint.h>
#include <db.h>
#include <jansson.h>

#include "clock.h"

struct blocked_check {
	const char *tenant;
	const json_t *kill_switch;   /* the record that matched */
	const char *agent_id, *run_id, *mission_id, *action;
};

#define INTERVENTION_NEW_PER_SWITCH 16

/* What a listing keeps: each has_ member set keeps the interventions whose
 * field is that value; start and end ("" for none) bound the timestamp. */
#define INTERVENTION_TEXT_SIZE 257  /* 256 characters and the NUL */
struct intervention_filter {
	char type[65], outcome[65];
	char action[INTERVENTION_TEXT_SIZE], agent[INTERVENTION_TEXT_SIZE];
	char run[INTERVENTION_TEXT_SIZE];
	int has_type, has_outcome, has_action, has_agent, has_run;
	char start[CLOCK_TEXT_SIZE], end[CLOCK_TEXT_SIZE];
};

/*
 * The words an intervention's type and outcome may be, written in any
 * case and kept in lowercase.  The contract names hard_block/blocked (a
 * killed check); the others are what an SDK that enforces locally
 * records: soft_block (the action held for a human), warning (let
 * through, flagged), rate_limited; outcomes allowed, escalated, approved,
 * denied.  A closed set, so that a filter with a word outside it is a
 * 400 rather than a silently empty list (as on every list).
 */
struct intervention_word {
	const char *name;                /* the field: "type", "outcome" */
	const char *const *words;
};
extern const struct intervention_word intervention_words[];  /* {NULL} ends */

/* Lowercases value in place: 1 when it is one of w's words. */
int intervention_word_known(const struct intervention_word *w, char *value);
/* "a, b or c" into buf. */
void intervention_word_list(const struct intervention_word *w, char *buf,
                            size_t len);

void intervention_blocked(const struct blocked_check *b);
/* Writes the pending counters when due (force: now), and the new slots
 * when FRESH_EVERY_MS passed; cheap when nothing is due.  Call it after
 * the answer is sent. */
void intervention_flush(int force, unsigned every_ms);
/* Adds count occurrences to the stored intervention for the key;
 * creates it when new.  Used by the flush and by POST batches. */
int intervention_merge(DB_TXN *txn, const char *tenant, json_t *item,
                       json_t **stored);
/* The tenant's stored interventions that pass the filter, unsorted. */
int intervention_list(const char *tenant, const struct intervention_filter *f,
                      json_t **items);

#endif
