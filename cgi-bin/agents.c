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
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "cascade.h"
#include "delegation.h"
#include "receipt.h"
#include "scope.h"
#include "server.h"
#include "session.h"

/* Request bodies */

static const struct field_spec register_fields[] = {
	{ .name = "agent_type", .type = FIELD_STRING,
	  .flags = FIELD_REQUIRED, .allowed = agent_types },
	{ .name = "display_name", .type = FIELD_STRING,
	  .flags = FIELD_REQUIRED | FIELD_NONEMPTY | FIELD_PRINTABLE,
	  .max_len = 256 },
	{ .name = "description", .type = FIELD_STRING,
	  .flags = FIELD_NULLABLE, .max_len = 2048 },
	{ .name = "scopes", .type = FIELD_STRING_ARRAY,
	  .flags = FIELD_NULLABLE, .max_len = 64 },
	{ .name = "metadata", .type = FIELD_OBJECT,
	  .flags = FIELD_NULLABLE, .max_len = AGENT_METADATA_MAX },
	{ .name = "trust_score", .type = FIELD_NUMBER,
	  .flags = FIELD_NULLABLE, .min = 0, .max = 1 },
	{ .name = "public_key", .type = FIELD_STRING,
	  .flags = FIELD_NULLABLE | FIELD_PRINTABLE, .max_len = 256 },
};
static const struct body_spec register_body = BODY_SPEC(register_fields);

/* scopes is listed so that it is refused as immutable, not as unknown;
 * it comes first so that it is the rule a body breaking several names */
static const char *const patch_statuses[] = { "active", "suspended", "revoked", NULL };
static const struct field_spec patch_fields[] = {
	{ .name = "scopes", .type = FIELD_ANY_ARRAY },
	/* a suspension or reactivation: rate limited like /suspend */
	{ .name = "status", .type = FIELD_STRING,
	  .flags = FIELD_RATE_LIMITED, .allowed = patch_statuses },
	{ .name = "display_name", .type = FIELD_STRING,
	  .flags = FIELD_NONEMPTY | FIELD_PRINTABLE, .max_len = 256 },
	{ .name = "description", .type = FIELD_STRING, .max_len = 2048 },
	{ .name = "metadata", .type = FIELD_OBJECT,
	  .max_len = AGENT_METADATA_MAX },
};
static const struct body_spec patch_body = {
	patch_fields, sizeof(patch_fields) / sizeof(patch_fields[0]), 1
};

static const struct field_spec suspend_fields[] = {
	{ .name = "reason", .type = FIELD_STRING,
	  .flags = FIELD_REQUIRED | FIELD_NONEMPTY, .max_len = 1024 },
};
static const struct body_spec suspend_body = BODY_SPEC(suspend_fields);

static const struct field_spec kill_fields[] = {
	{ .name = "reason", .type = FIELD_STRING,
	  .flags = FIELD_REQUIRED | FIELD_NONEMPTY, .max_len = 2000 },
	{ .name = "operator_id", .type = FIELD_STRING,
	  .flags = FIELD_NULLABLE | FIELD_NONEMPTY | FIELD_PRINTABLE,
	  .max_len = 256 },
	{ .name = "cascade", .type = FIELD_BOOLEAN, .flags = FIELD_NULLABLE },
	{ .name = "dry_run", .type = FIELD_BOOLEAN, .flags = FIELD_NULLABLE },
};
static const struct body_spec kill_body = BODY_SPEC(kill_fields);

static const struct field_spec revoke_fields[] = {
	{ .name = "reason", .type = FIELD_STRING,
	  .flags = FIELD_REQUIRED | FIELD_NONEMPTY, .max_len = 1024 },
	{ .name = "operator_id", .type = FIELD_STRING,
	  .flags = FIELD_NULLABLE | FIELD_NONEMPTY | FIELD_PRINTABLE,
	  .max_len = 256 },
	{ .name = "dry_run", .type = FIELD_BOOLEAN, .flags = FIELD_NULLABLE },
};
static const struct body_spec revoke_body = BODY_SPEC(revoke_fields);

static const struct field_spec session_fields[] = {
	{ .name = "ttl_seconds", .type = FIELD_INTEGER,
	  .flags = FIELD_NULLABLE, .min = SESSION_TTL_MIN,
	  .max = SESSION_TTL_MAX },
	{ .name = "scopes", .type = FIELD_STRING_ARRAY,
	  .flags = FIELD_NULLABLE, .max_len = 64 },
};
static const struct body_spec session_body = BODY_SPEC(session_fields);

static const struct field_spec introspect_fields[] = {
	{ .name = "token", .type = FIELD_STRING,
	  .flags = FIELD_REQUIRED | FIELD_NONEMPTY | FIELD_PRINTABLE,
	  .max_len = 512 },
	{ .name = "scope", .type = FIELD_STRING,
	  .flags = FIELD_NULLABLE | FIELD_PRINTABLE, .max_len = 4096 },
	{ .name = "token_type_hint", .type = FIELD_STRING,
	  .flags = FIELD_NULLABLE | FIELD_PRINTABLE, .max_len = 64 },
};
static const struct body_spec introspect_body = BODY_SPEC(introspect_fields);

static const struct field_spec receipt_fields[] = {
	{ .name = "action", .type = FIELD_STRING,
	  .flags = FIELD_REQUIRED | FIELD_NONEMPTY | FIELD_PRINTABLE,
	  .max_len = 256 },
	{ .name = "payload", .type = FIELD_OBJECT,
	  .flags = FIELD_NULLABLE, .max_len = AGENT_METADATA_MAX },
};
static const struct body_spec receipt_body = BODY_SPEC(receipt_fields);

/* finalizing takes nothing: no body, or an empty object */
static const struct body_spec finalize_body = { NULL, 0, 0 };

static const struct field_spec delegation_fields[] = {
	{ .name = "delegate_agent_id", .type = FIELD_STRING,
	  .flags = FIELD_REQUIRED | FIELD_NONEMPTY | FIELD_PRINTABLE,
	  .max_len = 256 },
	{ .name = "scopes", .type = FIELD_STRING_ARRAY,
	  .flags = FIELD_REQUIRED, .max_len = 64 },
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

/* The agent object of the contract, its live sessions counted. */
static json_t *
public_agent(DB_TXN *txn, const char *tenant, const json_t *agent)
{
	long count = 0;

	if (session_count_active(txn, tenant, agent_uuid(agent), &count) != 0)
		count = 0;
	return agent_public(agent, count);
}

/* Registry */

static int
register_agent(struct ctx *c)
{
	struct problem p;
	json_t *agent = NULL;
	int rc = agent_register(c->txn, &c->who, c->body, &agent, &p);

	if (rc == 0) {
		json_t *out = public_agent(c->txn, c->who.tenant, agent);

		json_decref(agent);
		agent = out;
	}
	return ctx_answer(c, rc, 201, agent, &p);
}

/*
 * What a handler does with the agent of the path: the library call (which
 * may change it, when found with DB_RMW), its answer into *out.  Returns
 * as lib/README says.
 */
typedef int (*agent_call)(struct ctx *c, json_t *agent, json_t **out,
                          struct problem *p);

#define PAGE 0     /* on_agent's status for a listing: *out paged */

/* Every handler on one agent: find it (404), call, release it, answer
 * status (or a page of *out for PAGE). */
static int
on_agent(struct ctx *c, uint32_t flags, agent_call call, int status)
{
	struct problem p;
	json_t *agent, *out = NULL;
	int rc = path_agent(c, flags, &agent);

	if (rc != 0 || agent == NULL)
		return rc;
	rc = call(c, agent, &out, &p);
	json_decref(agent);
	if (status == PAGE)
		return ctx_page(c, rc, out, &p, 100, "created_at", "data");
	return ctx_answer(c, rc, status, out, &p);
}

static int
call_get(struct ctx *c, json_t *agent, json_t **out, struct problem *p)
{
	(void)p;
	*out = public_agent(NULL, c->who.tenant, agent);
	return *out ? 0 : ENOMEM;
}

static int
get_agent(struct ctx *c)
{
	return on_agent(c, 0, call_get, 200);
}

static int
list_agents(struct ctx *c)
{
	char status[16], type[16];
	int has_status, has_type, rc;
	json_t *items = NULL, *page, *item;
	size_t i;

	if ((has_status = query_choice(c, "status", agent_statuses, status,
	    sizeof(status))) < 0 ||
	    (has_type = query_choice(c, "agent_type", agent_types, type,
	    sizeof(type))) < 0)
		return 0;
	rc = agent_list(c->who.tenant, has_status ? status : NULL,
	    has_type ? type : NULL, &items);
	rc = ctx_page(c, rc, items, NULL, 100, "created_at", "data");
	if (rc != 0 || c->resp->status != 200)
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

/* The changed agent, as the contract shows it. */
static int
changed(struct ctx *c, int rc, json_t *agent, json_t **out)
{
	if (rc == 0 && (*out = public_agent(c->txn, c->who.tenant, agent)) == NULL)
		rc = ENOMEM;
	return rc;
}

static int
call_update(struct ctx *c, json_t *agent, json_t **out, struct problem *p)
{
	return changed(c, agent_update(c->txn, &c->who, agent, c->body, p),
	    agent, out);
}

static int
update_agent(struct ctx *c)
{
	/* a status change suspends or reactivates: it needs the scope of
	 * /suspend, not only agents:write (limit by what the call does) */
	if (json_object_get(c->body, "status") != NULL &&
	    !(c->who.scopes & SCOPE_AGENTS_SUSPEND)) {
		response_error(c->resp, 403, "insufficient_scope",
		    "the API key lacks the scope agents:suspend this call needs "
		    "(a PATCH of status suspends or reactivates)");
		return 0;
	}
	return on_agent(c, DB_RMW, call_update, 200);
}

static int
call_suspend(struct ctx *c, json_t *agent, json_t **out, struct problem *p)
{
	return changed(c, agent_suspend(c->txn, &c->who, agent,
	    ctx_str(c, "reason"), p), agent, out);
}

static int
suspend_agent(struct ctx *c)
{
	return on_agent(c, DB_RMW, call_suspend, 200);
}

static int
call_stop(struct ctx *c, json_t *agent, json_t **out, struct problem *p,
          int kill)
{
	struct stop_order o = { &c->who, ctx_str(c, "reason"),
	    ctx_str(c, "operator_id"), kill,
	    json_is_true(json_object_get(c->body, "cascade")),
	    json_is_true(json_object_get(c->body, "dry_run")) };

	if (o.dry_run)
		c->no_effect = 1;
	return cascade_stop(c->txn, &o, agent, out, p);
}

static int
call_kill(struct ctx *c, json_t *agent, json_t **out, struct problem *p)
{
	return call_stop(c, agent, out, p, 1);
}

static int
call_revoke(struct ctx *c, json_t *agent, json_t **out, struct problem *p)
{
	return call_stop(c, agent, out, p, 0);
}

static int
kill_agent(struct ctx *c)
{
	return on_agent(c, DB_RMW, call_kill, 200);
}

static int
revoke_agent(struct ctx *c)
{
	return on_agent(c, DB_RMW, call_revoke, 200);
}

/* Sessions */

static int
call_open_session(struct ctx *c, json_t *agent, json_t **out, struct problem *p)
{
	const json_t *ttl = json_object_get(c->body, "ttl_seconds");
	const json_t *scopes = json_object_get(c->body, "scopes");

	return session_open(c->txn, &c->who, agent,
	    json_is_integer(ttl) ? (long)json_integer_value(ttl) : SESSION_TTL_DEFAULT,
	    json_is_array(scopes) ? scopes : NULL, out, p);
}

static int
open_session(struct ctx *c)
{
	return on_agent(c, 0, call_open_session, 201);
}

static int
call_list_sessions(struct ctx *c, json_t *agent, json_t **out, struct problem *p)
{
	(void)p;
	return session_list(c->who.tenant, agent_uuid(agent), out);
}

static int
list_sessions(struct ctx *c)
{
	return on_agent(c, 0, call_list_sessions, PAGE);
}

static int
call_end_session(struct ctx *c, json_t *agent, json_t **out, struct problem *p)
{
	return session_end(c->txn, &c->who, agent, ctx_param(c, 1), out, p);
}

static int
end_session(struct ctx *c)
{
	return on_agent(c, 0, call_end_session, 200);
}

static int
introspect(struct ctx *c)
{
	json_t *out = NULL;
	/* an unreadable gate counts as a halt: inactive, fail closed */
	int rc = session_introspect(c->who.tenant, ctx_str(c, "token"),
	    ctx_str(c, "scope"), c->gate.unavailable ? 5 : c->gate.severity, &out);

	return ctx_answer(c, rc, 200, out, NULL);
}

/* Receipts */

static int
call_create_receipt(struct ctx *c, json_t *agent, json_t **out,
                    struct problem *p)
{
	return receipt_create(c->txn, &c->who, agent, ctx_str(c, "action"),
	    json_object_get(c->body, "payload"), out, p);
}

static int
create_receipt(struct ctx *c)
{
	return on_agent(c, 0, call_create_receipt, 201);
}

static int
call_finalize_receipt(struct ctx *c, json_t *agent, json_t **out,
                      struct problem *p)
{
	return receipt_finalize(c->txn, &c->who, agent, ctx_param(c, 1), out, p);
}

static int
finalize_receipt(struct ctx *c)
{
	return on_agent(c, 0, call_finalize_receipt, 200);
}

static int
list_receipts(struct ctx *c)
{
	char status[16];
	json_t *agent, *items = NULL;
	int has_status, rc;

	if ((has_status = query_choice(c, "status", receipt_statuses, status,
	    sizeof(status))) < 0)
		return 0;
	if ((rc = path_agent(c, 0, &agent)) != 0 || agent == NULL)
		return rc;
	rc = receipt_list(c->who.tenant, agent_uuid(agent),
	    has_status ? status : NULL, &items);
	json_decref(agent);
	return ctx_page(c, rc, items, NULL, 100, "created_at", "data");
}

/* Delegations */

static int
call_create_delegation(struct ctx *c, json_t *agent, json_t **out,
                       struct problem *p)
{
	return delegation_create(c->txn, &c->who, agent,
	    ctx_str(c, "delegate_agent_id"), json_object_get(c->body, "scopes"),
	    out, p);
}

static int
create_delegation(struct ctx *c)
{
	return on_agent(c, 0, call_create_delegation, 201);
}

static int
call_list_delegations(struct ctx *c, json_t *agent, json_t **out,
                      struct problem *p)
{
	(void)p;
	return delegation_list(c->who.tenant, agent_uuid(agent), out);
}

static int
list_delegations(struct ctx *c)
{
	return on_agent(c, 0, call_list_delegations, PAGE);
}

static int
call_revoke_delegation(struct ctx *c, json_t *agent, json_t **out,
                       struct problem *p)
{
	return delegation_revoke(c->txn, &c->who, agent, ctx_param(c, 1), out, p);
}

static int
revoke_delegation(struct ctx *c)
{
	return on_agent(c, 0, call_revoke_delegation, 200);
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
