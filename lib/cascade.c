/* cascade.c - kill and revoke, with the cascade through delegations. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "audit.h"
#include "cascade.h"
#include "clock.h"
#include "delegation.h"
#include "receipt.h"
#include "session.h"
#include "store.h"

struct tally {
	long sessions, receipts;
	json_t *revoked;         /* agent_ids revoked (or that would be) */
	char root_receipt[64];
};

/*
 * Every agent the kill reaches, root first, each once: a breadth-first
 * walk over the active delegations each reached agent granted.  The walk
 * goes on through agents revoked earlier (what they delegated is still
 * reachable) but those are not revoked twice.
 */
static int
reach(DB_TXN *txn, const char *tenant, const json_t *root, int cascade,
      json_t **order)
{
	json_t *seen = json_object(), *queue = json_array(), *next;
	int rc = 0;

	json_object_set_new(seen, agent_uuid(root), json_true());
	json_array_append_new(queue, json_string(agent_uuid(root)));
	for (size_t i = 0; cascade && rc == 0 && i < json_array_size(queue); i++) {
		size_t j;
		json_t *uuid;

		next = json_array();
		rc = delegation_delegates(txn, tenant,
		    json_string_value(json_array_get(queue, i)), next);
		json_array_foreach(next, j, uuid) {
			if (json_object_get(seen, json_string_value(uuid)))
				continue;
			json_object_set_new(seen, json_string_value(uuid), json_true());
			json_array_append(queue, uuid);
		}
		json_decref(next);
	}
	json_decref(seen);
	if (rc != 0) {
		json_decref(queue);
		return rc;
	}
	*order = queue;
	return 0;
}

static const char *
operator_of(const struct stop_order *o)
{
	return o->operator_id ? o->operator_id : o->who->name;
}

/* Stops one agent: sessions, receipts (kill), status, audit event. */
static int
stop_one(DB_TXN *txn, const struct stop_order *o, json_t *agent,
         const json_t *root, const char *at, struct tally *t)
{
	const char *tenant = o->who->tenant;
	const char *reason = o->reason;
	char receipt[64] = "";
	long sessions = 0, receipts = 0;
	json_t *data;
	int rc;

	rc = session_terminate_all(txn, tenant, agent_uuid(agent), at,
	    o->kill ? "agent killed" : "agent revoked", o->dry_run, &sessions);
	if (rc == 0 && o->kill)
		rc = receipt_void_pending(txn, tenant, agent_uuid(agent), at,
		    "agent killed", o->dry_run, &receipts);
	if (rc == 0 && !o->dry_run)
		rc = agent_mark_revoked(txn, tenant, agent, reason, at);
	if (rc != 0)
		return rc;
	if (!o->dry_run) {
		data = json_pack("{s:s, s:s, s:I, s:I}", "id", agent_uuid(agent),
		    "operation", o->kill ? "kill" : "revoke",
		    "sessions_terminated", (json_int_t)sessions,
		    "receipts_voided", (json_int_t)receipts);
		if (agent != root)
			json_object_set_new(data, "cascade_from",
			    json_string(agent_ident(root)));
		{
			struct audit_entry e = { tenant, o->kill ? "killswitch.activated"
			    : "agent.revoked", o->who, operator_of(o), "agent",
			    agent_ident(agent), reason, data };

			rc = audit_append(txn, &e, receipt, sizeof(receipt));
		}
		json_decref(data);
		if (rc != 0)
			return rc;
	}
	if (agent == root)
		snprintf(t->root_receipt, sizeof(t->root_receipt), "%s", receipt);
	t->sessions += sessions;
	t->receipts += receipts;
	json_array_append_new(t->revoked, json_string(agent_ident(agent)));
	return 0;
}

static json_t *
answer(DB_TXN *txn, const struct stop_order *o, const json_t *root,
       const char *at, struct tally *t)
{
	json_t *cascaded = json_array(), *out;
	long count = 0;

	if (session_count_active(txn, o->who->tenant, agent_uuid(root), &count) != 0)
		count = 0;
	for (size_t i = 1; i < json_array_size(t->revoked); i++)
		json_array_append(cascaded, json_array_get(t->revoked, i));
	out = json_pack("{s:o, s:O, s:s, s:I, s:I, s:s, s:s}",
	    "agent", agent_public(root, count),
	    "agent_id", json_object_get(root, "agent_id"),
	    "agent_status", agent_status(root),
	    "terminated_sessions", (json_int_t)t->sessions,
	    "sessions_terminated", (json_int_t)t->sessions,
	    "reason", o->reason, "operator_id", operator_of(o));
	if (out == NULL) {
		json_decref(cascaded);
		return NULL;
	}
	if (o->kill) {
		json_object_set_new(out, "receipts_voided", json_integer(t->receipts));
		json_object_set_new(out, "cascaded", cascaded);
	} else {
		json_decref(cascaded);
	}
	if (o->dry_run) {
		json_object_set_new(out, "dry_run", json_true());
		json_object_set(out, "agents", t->revoked);
	} else {
		json_object_set_new(out, "receipt_id", json_string(t->root_receipt));
		json_object_set_new(out, o->kill ? "killed_at" : "revoked_at",
		    json_string(at));
	}
	return out;
}

int
cascade_stop(DB_TXN *txn, const struct stop_order *o, json_t *agent,
             json_t **out, struct problem *p)
{
	struct tally t = { 0, 0, json_array(), "" };
	char at[CLOCK_TEXT_SIZE];
	json_t *order = NULL;
	size_t i;
	int rc;

	*out = NULL;
	if (!strcmp(agent_status(agent), "revoked")) {
		json_decref(t.revoked);
		problem_set(p, 409, "already_revoked", "agent %s is already revoked",
		    agent_ident(agent));
		return -1;
	}
	clock_format(clock_now_ms(), at);
	rc = reach(txn, o->who->tenant, agent, o->kill && o->cascade, &order);
	for (i = 0; rc == 0 && i < json_array_size(order); i++) {
		json_t *other;

		if (i == 0) {
			rc = stop_one(txn, o, agent, agent, at, &t);
			continue;
		}
		rc = agent_find(txn, o->who->tenant,
		    json_string_value(json_array_get(order, i)), &other, DB_RMW);
		if (rc == DB_NOTFOUND) {
			rc = 0;
			continue;
		}
		if (rc == 0 && strcmp(agent_status(other), "revoked") != 0)
			rc = stop_one(txn, o, other, agent, at, &t);
		json_decref(other);
	}
	json_decref(order);
	if (rc == 0 && (*out = answer(txn, o, agent, at, &t)) == NULL)
		rc = ENOMEM;
	json_decref(t.revoked);
	return rc;
}
