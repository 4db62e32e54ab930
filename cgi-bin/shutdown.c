/*
 * shutdown.c - the emergency-shutdown family (API.md sections 4 and 7,
 * seed 003): activate, list the active ones, get one, resolve.  The
 * records, who sees and resolves what, are lib/shutdown.c's.
 *
 * Every route here is gate-exempt: the way out of a halt must stay open.
 */
#include "scope.h"
#include "server.h"
#include "shutdown.h"

static const struct field_spec activate_fields[] = {
	{ .name = "severity", .type = FIELD_INTEGER,
	  .flags = FIELD_REQUIRED, .min = 1, .max = 5 },
	{ .name = "reason", .type = FIELD_STRING,
	  .flags = FIELD_REQUIRED | FIELD_NONEMPTY, .max_len = 2000 },
	{ .name = "scope", .type = FIELD_STRING,
	  .flags = FIELD_NULLABLE, .allowed = shutdown_scopes },
	{ .name = "key_id", .type = FIELD_STRING,
	  .flags = FIELD_NULLABLE | FIELD_PRINTABLE, .max_len = 64 },
};
static const struct body_spec activate_body = BODY_SPEC(activate_fields);

static const struct field_spec resolve_fields[] = {
	{ .name = "reason", .type = FIELD_STRING,
	  .flags = FIELD_NULLABLE, .max_len = 2000 },
};
static const struct body_spec resolve_body = BODY_SPEC(resolve_fields);

static int
activate(struct ctx *c)
{
	struct problem p;
	json_t *rec;
	int rc = shutdown_activate(c->txn, &c->who,
	    (int)json_integer_value(json_object_get(c->body, "severity")),
	    ctx_str(c, "reason"), ctx_str(c, "scope"), ctx_str(c, "key_id"),
	    &rec, &p);

	return ctx_answer(c, rc, 201, rec, &p);
}

static int
list_active(struct ctx *c)
{
	json_t *items;
	int rc = shutdown_list_active(c->who.tenant, &items);

	if (rc == 0)
		items = json_pack("{s:o, s:I}", "active_shutdowns", items,
		    "count", (json_int_t)json_array_size(items));
	return ctx_answer(c, rc, 200, items, NULL);
}

static int
get_one(struct ctx *c)
{
	struct problem p;
	json_t *rec;
	int rc = shutdown_get(c->who.tenant, ctx_param(c, 0), &rec, &p);

	return ctx_answer(c, rc, 200, rec, &p);
}

static int
resolve(struct ctx *c)
{
	struct problem p;
	json_t *rec;
	int rc = shutdown_resolve(c->txn, &c->who, ctx_param(c, 0),
	    ctx_str(c, "reason"), &rec, &p);

	return ctx_answer(c, rc, 200, rec, &p);
}

static const struct route routes[] = {
	{ "POST", "/v1/emergency-shutdown", activate, SCOPE_SHUTDOWN_WRITE,
	  ROUTE_WRITE | ROUTE_RATE_LIMITED | ROUTE_GATE_EXEMPT, &activate_body },
	{ "GET", "/v1/emergency-shutdown", list_active, SCOPE_SHUTDOWN_READ,
	  ROUTE_GATE_EXEMPT, NULL },
	{ "GET", "/v1/emergency-shutdown/{id}", get_one, SCOPE_SHUTDOWN_READ,
	  ROUTE_GATE_EXEMPT, NULL },
	{ "POST", "/v1/emergency-shutdown/{id}/resolve", resolve, SCOPE_SHUTDOWN_WRITE,
	  ROUTE_WRITE | ROUTE_RATE_LIMITED | ROUTE_GATE_EXEMPT, &resolve_body },
};

static const struct family shutdown_family = {
	"andon-shutdown", routes, sizeof(routes) / sizeof(routes[0]),
	NULL, NULL, NULL,
};

int
main(int argc, char **argv)
{
	return server_main(argc, argv, &shutdown_family);
}
