/*
 * gate.h - the emergency gate every governance call passes before its
 * handler: the highest active emergency shutdown covering the caller's
 * tenant (scope org), the caller's key (scope key) or every tenant (scope
 * all).  Read from the database on every request, so an activation or a
 * resolution is seen by the very next request of every process.
 */
#ifndef ANDON_GATE_H
#define ANDON_GATE_H

struct gate_state {
	int severity;             /* 0 when nothing is active */
	char shutdown_id[64];
	char reason[2100];
};

int gate_evaluate(const char *tenant, const char *key_id, struct gate_state *g);

#endif
