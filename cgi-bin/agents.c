/*
 * agents.c - the agents family (contract section 5, seeds 000, 002, 004):
 * the registry, suspend, revoke and the irreversible kill with its
 * cascade, sessions and introspection, receipts and delegations.
 *
 * Handlers only read the request and shape the answer; the rules live in
 * lib/agent.c, lib/cascade.c, lib/session.c, lib/receipt.c and
 * lib/delegation.c.  Every route needs X-Tenant-ID (as the seed vendor
 * requires), and every lookup is within the caller's tenant: another
 * tenant's agent is 404.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "cascade.h"
#include "delegation.h"
#include "listing.h"
#include "receipt.h"
#include "scope.h"
#include "server.h"
#include "session.h"
#include "store.h"

/* Request bodies */

static const struct field_spec register_fields[] = {
	{ "agent_type", FIELD_STRING, FIELD_REQUIRED, 0, agent_types, 0, 0 },
	{ "display_name", FIELD_STRING, FIELD_REQUIRED | FIELD_NONEMPTY | FIELD_PRINTABLE, 256, NULL, 0, 0 },
	{ "description", FIELD_STRING, FIELD_NULLABLE, 2048, NULL, 0, 0 },
	{ "scopes", FIELD_STRING_ARRAY, FIELD_NULLABLE, 64, NULL, 0, 0 },
	{ "metadata", FIELD_OBJECT, FIELD_NULLABLE, AGENT_METADATA_MAX, NULL, 0, 0 },
	{ "trust_score", FIELD_NUMBER, FIELD_NULLABLE, 0, NULL, 0, 1 },
	{ "public_key", FIELD_STRING, FIELD_NULLABLE | FIELD_PRINTABLE, 256, NULL, 0, 0 },
};
static const struct body_spec register_body = BODY_SPEC(register_fields);

/* scopes is listed so that it is refused as immutable, not as unknown;
 * it comes first so that it is the rule a body breaking several names */
static const char *const patch_statuses[] = { "active", "suspended", "revoked", NULL };
static const struct field_spec patch_fields[] = {
	{ "scopes", FIELD_ANY_ARRAY, 0, 0, NULL, 0, 0 },
	/* a suspension or reactivation: rate limited like /suspend */
	{ "status", FIELD_STRING, FIELD_RATE_LIMITED, 0, patch_statuses, 0, 0 },
	{ "display_name", FIELD_STRING, FIELD_NONEMPTY | FIELD_PRINTABLE, 256, NULL, 0, 0 },
	{ "description", FIELD_STRING, 0, 2048, NULL, 0, 0 },
	{ "metadata", FIELD_OBJECT, 0, AGENT_METADATA_MAX, NULL, 0, 0 },
};
static const struct body_spec patch_body = {
	patch_fields, sizeof(patch_fields) / sizeof(patch_fields[0]), 1
};

static const struct field_spec suspend_fields[] = {
	{ "reason", FIELD_STRING, FIELD_REQUIRED | FIELD_NONEMPTY, 1024, NULL, 0, 0 },
};
static const struct body_spec suspend_body = BODY_SPEC(suspend_fields);

static const struct field_spec kill_fields[] = {
	{ "reason", FIELD_STRING, FIELD_REQUIRED | FIELD_NONEMPTY, 2000, NULL, 0, 0 },
	{ "operator_id", FIELD_STRING, FIELD_NULLABLE | FIELD_NONEMPTY | FIELD_PRINTABLE, 256, NULL, 0, 0 },
	{ "cascade", FIELD_BOOLEAN, FIELD_NULLABLE, 0, NULL, 0, 0 },
	{ "dry_run", FIELD_BOOLEAN, FIELD_NULLABLE, 0, NULL, 0, 0 },
};
static const struct body_spec kill_body = BODY_SPEC(kill_fields);

static const struct field_spec revoke_fields[] = {
	{ "reason", FIELD_STRING, FIELD_REQUIRED | FIELD_NONEMPTY, 1024, NULL, 0, 0 },
	{ "operator_id", FIELD_STRING, FIELD_NULLABLE | FIELD_NONEMPTY | FIELD_PRINTABLE, 256, NULL, 0, 0 },
	{ "dry_run", FIELD_BOOLEAN, FIELD_NULLABLE, 0, NULL, 0, 0 },
};
static const struct body_spec revoke_body = BODY_SPEC(revoke_fields);

static const struct field_spec session_fields[] = {
	{ "ttl_seconds", FIELD_INTEGER, FIELD_NULLABLE, 0, NULL, SESSION_TTL_MIN, SESSION_TTL_MAX },
	{ "scopes", FIELD_STRING_ARRAY, FIELD_NULLABLE, 64, NULL, 0, 0 },
};
static const struct body_spec session_body = BODY_SPEC(session_fields);

static const struct field_spec introspect_fields[] = {
	{ "token", FIELD_STRING, FIELD_REQUIRED | FIELD_NONEMPTY | FIELD_PRINTABLE, 512, NULL, 0, 0 },
	{ "scope", FIELD_STRING, FIELD_NULLABLE | FIELD_PRINTABLE, 4096, NULL, 0, 0 },
	{ "token_type_hint", FIELD_STRING, FIELD_NULLABLE | FIELD_PRINTABLE, 64, NULL, 0, 0 },
};
static const struct body_spec introspect_body = BODY_SPEC(introspect_fields);

static const struct field_spec receipt_fields[] = {
	{ "action", FIELD_STRING, FIELD_REQUIRED | FIELD_NONEMPTY | FIELD_PRINTABLE, 256, NULL, 0, 0 },
	{ "payload", FIELD_OBJECT, FIELD_NULLABLE, AGENT_METADATA_MAX, NULL, 0, 0 },
};
static const struct body_spec receipt_body = BODY_SPEC(receipt_fields);

/* finalizing takes nothing: no body, or an empty object */
static const struct body_spec finalize_body = { NULL, 0, 0 };

static const struct field_spec delegation_fields[] = {
	{ "delegate_agent_id", FIELD_STRING, FIELD_REQUIRED | FIELD_NONEMPTY | FIELD_PRINTABLE, 256, NULL, 0, 0 },
	{ "scopes", FIELD_STRING_ARRAY, FIELD_REQUIRED, 64, NULL, 0, 0 },
};
static const struct body_spec delegation_body = BODY_SPEC(delegation_fields);

/* Helpers */

/* The agent named by the first path parameter, or a 404 answered (then
 * *agent is NULL and 0 is returned). */
static int
path_agent(struct ctx *c, uint32_t flags, json_t **agent)
{
	int rc = agent_find(c->txn, c->who.tenant, ctx_param(c, 0), agent, flags);

	if (rc == DB_NOTFOUND) {
		response_error(c->resp, 404, "not_found", "no agent %.128s",
		    ctx_param(c, 0));
		return 0;
	}
	return rc;
}

/* rc of a library call: 0 with *out answered as status, -1 with the
 * problem answered, or a DB error passed back for a retry. */
static int
answer(struct ctx *c, int rc, int status, json_t *out, const struct problem *p)
{
	if (rc == -1) {
		response_problem(c->resp, p);
		return 0;
	}
	if (rc != 0) {
		json_decref(out);
		return rc;
	}
	response_json(c->resp, status, out);
	return 0;
}

/* A ?name= filter that must be one of allowed: 1 set, 0 absent, -1 bad. */
static int
query_choice(struct ctx *c, const char *name, const char *const *allowed,
             char *buf, size_t len)
{
	int rc = query_get(c->req->query, name, buf, len);

	if (rc == 0 || (rc == 1 && buf[0] == '\0'))
		return 0;
	for (; rc == 1 && *allowed; allowed++)
		if (!strcmp(*allowed, buf))
			return 1;
	response_error(c->resp, 400, "invalid_query",
	    "query parameter %s is not one of the allowed values", name);
	return -1;
}

/* Pages items (stolen) newest first as {data, count}. */
static int
answer_page(struct ctx *c, json_t *items, long def)
{
	struct problem p;
	long skip, limit;

	if (listing_params(c->req->query, def, &skip, &limit, &p) != 0) {
		json_decref(items);
		response_problem(c->resp, &p);
		return 0;
	}
	response_json(c->resp, 200,
	    listing_page(items, "created_at", 1, skip, limit, "data"));
	return 0;
}

/* Registry */

static int
register_agent(struct ctx *c)
{
	struct problem p;
	json_t *agent = NULL;
	int rc = agent_register(c->txn, &c->who, c->body, &agent, &p);

	if (rc == 0) {
		json_t *out = agent_public(c->txn, c->who.tenant, agent);

		json_decref(agent);
		agent = out;
	}
	return answer(c, rc, 201, agent, &p);
}

static int
get_agent(struct ctx *c)
{
	json_t *agent;
	int rc = path_agent(c, 0, &agent);

	if (rc != 0 || agent == NULL)
		return rc;
	response_json(c->resp, 200, agent_public(NULL, c->who.tenant, agent));
	json_decref(agent);
	return 0;
}

static int
list_agents(struct ctx *c)
{
	char status[16], type[16];
	int has_status, has_type, rc;
	json_t *items, *page, *item;
	size_t i;

	if ((has_status = query_choice(c, "status", agent_statuses, status,
	    sizeof(status))) < 0 ||
	    (has_type = query_choice(c, "agent_type", agent_types, type,
	    sizeof(type))) < 0)
		return 0;
	rc = agent_list(c->who.tenant, has_status ? status : NULL,
	    has_type ? type : NULL, &items);
	if (rc != 0)
		return rc;
	if ((rc = answer_page(c, items, 100)) != 0 || c->resp->status != 200)
		return rc;
	/* session_count only for the page shown */
	page = json_object_get(c->resp->json, "data");
	json_array_foreach(page, i, item) {
		long count = 0;

		session_count_active(NULL, c->who.tenant, agent_uuid(item), &count);
		json_object_set_new(item, "session_count", json_integer(count));
	}
	return 0;
}

static int
update_agent(struct ctx *c)
{
	struct problem p;
	json_t *agent;
	int rc;

	/* a status change suspends or reactivates: it needs the scope of
	 * /suspend, not only agents:write (limit by what the call does) */
	if (json_object_get(c->body, "status") != NULL &&
	    !(c->who.scopes & SCOPE_AGENTS_SUSPEND)) {
		response_error(c->resp, 403, "insufficient_scope",
		    "the API key lacks the scope agents:suspend this call needs "
		    "(a PATCH of status suspends or reactivates)");
		return 0;
	}
	if ((rc = path_agent(c, DB_RMW, &agent)) != 0 || agent == NULL)
		return rc;
	rc = agent_update(c->txn, &c->who, agent, c->body, &p);
	if (rc == 0) {
		json_t *out = agent_public(c->txn, c->who.tenant, agent);

		json_decref(agent);
		agent = out;
	}
	return answer(c, rc, 200, agent, &p);
}

static int
suspend_agent(struct ctx *c)
{
	struct problem p;
	json_t *agent;
	int rc = path_agent(c, DB_RMW, &agent);

	if (rc != 0 || agent == NULL)
		return rc;
	rc = agent_suspend(c->txn, &c->who, agent, ctx_str(c, "reason"), &p);
	if (rc == 0) {
		json_t *out = agent_public(c->txn, c->who.tenant, agent);

		json_decref(agent);
		agent = out;
	}
	return answer(c, rc, 200, agent, &p);
}

static int
stop_agent(struct ctx *c, int kill)
{
	struct stop_order o = { &c->who, ctx_str(c, "reason"),
	    ctx_str(c, "operator_id"), kill,
	    json_is_true(json_object_get(c->body, "cascade")),
	    json_is_true(json_object_get(c->body, "dry_run")) };
	struct problem p;
	json_t *agent, *out = NULL;
	int rc = path_agent(c, DB_RMW, &agent);

	if (rc != 0 || agent == NULL)
		return rc;
	rc = cascade_stop(c->txn, &o, agent, &out, &p);
	json_decref(agent);
	if (o.dry_run)
		c->no_effect = 1;
	return answer(c, rc, 200, out, &p);
}

static int
kill_agent(struct ctx *c)
{
	return stop_agent(c, 1);
}

static int
revoke_agent(struct ctx *c)
{
	return stop_agent(c, 0);
}

/* Sessions */

static int
open_session(struct ctx *c)
{
	const json_t *ttl = json_object_get(c->body, "ttl_seconds");
	const json_t *scopes = json_object_get(c->body, "scopes");
	struct problem p;
	json_t *agent, *out = NULL;
	int rc = path_agent(c, 0, &agent);

	if (rc != 0 || agent == NULL)
		return rc;
	rc = session_open(c->txn, &c->who, agent,
	    json_is_integer(ttl) ? (long)json_integer_value(ttl) : SESSION_TTL_DEFAULT,
	    json_is_array(scopes) ? scopes : NULL, &out, &p);
	json_decref(agent);
	return answer(c, rc, 201, out, &p);
}

static int
list_sessions(struct ctx *c)
{
	json_t *agent, *items;
	int rc = path_agent(c, 0, &agent);

	if (rc != 0 || agent == NULL)
		return rc;
	rc = session_list(c->who.tenant, agent_uuid(agent), &items);
	json_decref(agent);
	return rc != 0 ? rc : answer_page(c, items, 100);
}

static int
end_session(struct ctx *c)
{
	struct problem p;
	json_t *agent, *out = NULL;
	int rc = path_agent(c, 0, &agent);

	if (rc != 0 || agent == NULL)
		return rc;
	rc = session_end(c->txn, &c->who, agent, ctx_param(c, 1), &out, &p);
	json_decref(agent);
	return answer(c, rc, 200, out, &p);
}

static int
introspect(struct ctx *c)
{
	json_t *out = NULL;
	/* an unreadable gate counts as a halt: inactive, fail closed */
	int rc = session_introspect(c->who.tenant, ctx_str(c, "token"),
	    ctx_str(c, "scope"), c->gate.unavailable ? 5 : c->gate.severity, &out);

	return answer(c, rc, 200, out, NULL);
}

/* Receipts */

static int
create_receipt(struct ctx *c)
{
	struct problem p;
	json_t *agent, *out = NULL;
	int rc = path_agent(c, 0, &agent);

	if (rc != 0 || agent == NULL)
		return rc;
	rc = receipt_create(c->txn, &c->who, agent, ctx_str(c, "action"),
	    json_object_get(c->body, "payload"), &out, &p);
	json_decref(agent);
	return answer(c, rc, 201, out, &p);
}

static int
finalize_receipt(struct ctx *c)
{
	struct problem p;
	json_t *agent, *out = NULL;
	int rc = path_agent(c, 0, &agent);

	if (rc != 0 || agent == NULL)
		return rc;
	rc = receipt_finalize(c->txn, &c->who, agent, ctx_param(c, 1), &out, &p);
	json_decref(agent);
	return answer(c, rc, 200, out, &p);
}

static int
list_receipts(struct ctx *c)
{
	char status[16];
	json_t *agent, *items;
	int has_status, rc;

	if ((has_status = query_choice(c, "status", receipt_statuses, status,
	    sizeof(status))) < 0)
		return 0;
	if ((rc = path_agent(c, 0, &agent)) != 0 || agent == NULL)
		return rc;
	rc = receipt_list(c->who.tenant, agent_uuid(agent),
	    has_status ? status : NULL, &items);
	json_decref(agent);
	return rc != 0 ? rc : answer_page(c, items, 100);
}

/* Delegations */

static int
create_delegation(struct ctx *c)
{
	struct problem p;
	json_t *agent, *out = NULL;
	int rc = path_agent(c, 0, &agent);

	if (rc != 0 || agent == NULL)
		return rc;
	rc = delegation_create(c->txn, &c->who, agent,
	    ctx_str(c, "delegate_agent_id"), json_object_get(c->body, "scopes"),
	    &out, &p);
	json_decref(agent);
	return answer(c, rc, 201, out, &p);
}

static int
list_delegations(struct ctx *c)
{
	json_t *agent, *items;
	int rc = path_agent(c, 0, &agent);

	if (rc != 0 || agent == NULL)
		return rc;
	rc = delegation_list(c->who.tenant, agent_uuid(agent), &items);
	json_decref(agent);
	return rc != 0 ? rc : answer_page(c, items, 100);
}

static int
revoke_delegation(struct ctx *c)
{
	struct problem p;
	json_t *agent, *out = NULL;
	int rc = path_agent(c, 0, &agent);

	if (rc != 0 || agent == NULL)
		return rc;
	rc = delegation_revoke(c->txn, &c->who, agent, ctx_param(c, 1), &out, &p);
	json_decref(agent);
	return answer(c, rc, 200, out, &p);
}

#define T ROUTE_TENANT_HEADER
#define W (ROUTE_WRITE | ROUTE_TENANT_HEADER)
/* stops only reduce privilege: rate limited, never halted by a shutdown */
#define STOP (W | ROUTE_RATE_LIMITED | ROUTE_GATE_EXEMPT)

static const struct route routes[] = {
	{ "POST", "/v1/agents", register_agent, SCOPE_AGENTS_WRITE, W, &register_body },
	{ "GET", "/v1/agents", list_agents, SCOPE_AGENTS_READ, T, NULL },
	{ "GET", "/v1/agents/{agentId}", get_agent, SCOPE_AGENTS_READ, T, NULL },
	{ "PATCH", "/v1/agents/{agentId}", update_agent, SCOPE_AGENTS_WRITE, W, &patch_body },
	{ "POST", "/v1/agents/{agentId}/suspend", suspend_agent, SCOPE_AGENTS_SUSPEND,
	  STOP, &suspend_body },
	{ "POST", "/v1/agents/{agentId}/kill", kill_agent, SCOPE_AGENTS_KILL,
	  STOP, &kill_body },
	{ "POST", "/v1/agents/{agentId}/revoke", revoke_agent, SCOPE_AGENTS_KILL,
	  STOP, &revoke_body },
	{ "POST", "/v1/agents/{agentId}/sessions", open_session, SCOPE_AGENTS_WRITE,
	  W | ROUTE_SHOWS_SECRET, &session_body },
	{ "GET", "/v1/agents/{agentId}/sessions", list_sessions, SCOPE_AGENTS_READ, T, NULL },
	/* ending a session only takes authority away */
	{ "DELETE", "/v1/agents/{agentId}/sessions/{sessionId}", end_session,
	  SCOPE_AGENTS_WRITE, W | ROUTE_GATE_EXEMPT, NULL },
	/* exempt so that a shutdown answers "inactive" rather than 503; the
	 * handler reads the gate's severity */
	{ "POST", "/v1/sessions/introspect", introspect, SCOPE_AGENTS_READ,
	  T | ROUTE_GATE_EXEMPT, &introspect_body },
	{ "POST", "/v1/agents/{agentId}/receipts", create_receipt, SCOPE_AGENTS_WRITE,
	  W, &receipt_body },
	{ "GET", "/v1/agents/{agentId}/receipts", list_receipts, SCOPE_AGENTS_READ, T, NULL },
	{ "POST", "/v1/agents/{agentId}/receipts/{receiptId}/finalize", finalize_receipt,
	  SCOPE_AGENTS_WRITE, W, &finalize_body },
	{ "POST", "/v1/agents/{agentId}/delegations", create_delegation,
	  SCOPE_AGENTS_WRITE, W, &delegation_body },
	{ "GET", "/v1/agents/{agentId}/delegations", list_delegations,
	  SCOPE_AGENTS_READ, T, NULL },
	{ "DELETE", "/v1/agents/{agentId}/delegations/{delegationId}", revoke_delegation,
	  SCOPE_AGENTS_WRITE, W | ROUTE_GATE_EXEMPT, NULL },
};

static const struct family agents = {
	"andon-agents", routes, sizeof(routes) / sizeof(routes[0]), NULL, NULL, NULL,
};

int
main(int argc, char **argv)
{
	return server_main(argc, argv, &agents);
}
