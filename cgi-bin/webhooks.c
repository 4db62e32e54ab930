/*
 * webhooks.c - the webhooks family: subscriptions (create, list, read,
 * change, delete), secret rotation, test events and their deliveries.
 * Delivery itself is the notifier's (andonctl notify), never a request's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit.h"
#include "clock.h"
#include "destination.h"
#include "listing.h"
#include "outbox.h"
#include "scope.h"
#include "server.h"
#include "webhook.h"

#define LISTING_FAN_OUT 1024      /* events a deliveries listing fans out */

static const struct field_spec create_fields[] = {
	{ .name = "url", .type = FIELD_STRING,
	  .flags = FIELD_REQUIRED | FIELD_NONEMPTY, .max_len = DESTINATION_URL_MAX },
	{ .name = "events", .type = FIELD_STRING_ARRAY,
	  .flags = FIELD_REQUIRED, .max_len = 64 },
	{ .name = "description", .type = FIELD_STRING,
	  .flags = FIELD_NULLABLE | FIELD_PRINTABLE, .max_len = 1024 },
};
static const struct body_spec create_body = BODY_SPEC(create_fields);

static const struct field_spec patch_fields[] = {
	{ .name = "url", .type = FIELD_STRING,
	  .flags = FIELD_NONEMPTY, .max_len = DESTINATION_URL_MAX },
	{ .name = "events", .type = FIELD_STRING_ARRAY, .max_len = 64 },
	{ .name = "enabled", .type = FIELD_BOOLEAN },
	{ .name = "description", .type = FIELD_STRING,
	  .flags = FIELD_NULLABLE | FIELD_PRINTABLE, .max_len = 1024 },
};
static const struct body_spec patch_body = {
	.fields = patch_fields,
	.count = sizeof(patch_fields) / sizeof(patch_fields[0]),
	.at_least_one = 1,
};

/* 0 when url and events (either may be NULL) are acceptable; else the 400
 * is answered and -1 returned. */
static int
check_subscription(struct ctx *c, const char *url, const json_t *events)
{
	struct destination d;
	struct problem p;

	if ((url && destination_resolve(url, c->conf->webhook_allow_http,
	        c->conf->webhook_allow_private, &d, &p) != 0) ||
	    (events && webhook_events_valid(events, &p) != 0)) {
		response_problem(c->resp, &p);
		return -1;
	}
	return 0;
}

static int
audit_webhook(struct ctx *c, const char *type, const json_t *rec, json_t *data)
{
	struct audit_entry e = { c->who.tenant, type, &c->who, NULL, "webhook",
	    json_string_value(json_object_get(rec, "id")), NULL, data };
	int rc = audit_append(c->txn, &e, NULL, 0);

	json_decref(data);
	return rc;
}

/* 503 when the installation has no pepper to seal secrets with. */
static int
no_pepper(struct ctx *c)
{
	response_error(c->resp, 503, "secrets_unavailable", "webhook secrets cannot "
	    "be sealed: the installation key pepper (key_pepper_file) is not loaded");
	return 0;
}

static int
create_webhook(struct ctx *c)
{
	const json_t *events = json_object_get(c->body, "events");
	char secret[WEBHOOK_SECRET_TEXT];
	json_t *rec, *out;
	int rc;

	if (check_subscription(c, ctx_str(c, "url"), events) != 0)
		return 0;
	rc = webhook_create(c->txn, c->who.tenant, ctx_str(c, "url"), events,
	    ctx_str(c, "description"), &rec, secret);
	if (rc == ENOSYS)
		return no_pepper(c);
	if (rc != 0)
		return rc;
	rc = audit_webhook(c, "webhook.created", rec, json_pack("{s:O, s:O}",
	    "url", json_object_get(rec, "url"), "events", events));
	if (rc != 0) {
		json_decref(rec);
		sodium_memzero(secret, sizeof(secret));
		return rc;
	}
	out = webhook_public(rec);
	json_decref(rec);
	json_object_set_new(out, "secret", json_string(secret));
	sodium_memzero(secret, sizeof(secret));
	response_json(c->resp, 201, out);
	return 0;
}

static int
list_webhooks(struct ctx *c)
{
	json_t *items;
	int rc = webhook_list(c->who.tenant, &items);

	return ctx_page(c, rc, items, NULL, 100, "created_at", "data");
}

/* The path's subscription, read for update in a write; NULL with the 404
 * answered, or a DB error. */
static int
path_webhook(struct ctx *c, json_t **rec)
{
	int rc = webhook_get(c->txn, c->who.tenant, ctx_param(c, 0), rec,
	    c->txn ? DB_RMW : 0);

	*rec = rc == 0 ? *rec : NULL;
	if (rc == DB_NOTFOUND) {
		response_error(c->resp, 404, "not_found", "no webhook %.64s",
		    ctx_param(c, 0));
		return 0;
	}
	return rc;
}

static int
get_webhook(struct ctx *c)
{
	json_t *rec;
	int rc = path_webhook(c, &rec);

	if (rc != 0 || rec == NULL)
		return rc;
	response_json(c->resp, 200, webhook_public(rec));
	json_decref(rec);
	return 0;
}

static int
update_webhook(struct ctx *c)
{
	static const char *const members[] = { "url", "events", "enabled",
	    "description", NULL };
	const json_t *events = json_object_get(c->body, "events");
	char now[CLOCK_TEXT_SIZE];
	json_t *rec, *changed;
	int rc;

	if (check_subscription(c, ctx_str(c, "url"), events) != 0)
		return 0;
	if ((rc = path_webhook(c, &rec)) != 0 || rec == NULL)
		return rc;
	changed = json_object();
	/* enabled set by hand: the notifier's failing record starts again */
	if (json_object_get(c->body, "enabled") != NULL)
		webhook_clear_failing(rec);
	for (const char *const *m = members; *m; m++) {
		json_t *v = json_object_get(c->body, *m);

		if (v == NULL)
			continue;
		json_object_set(rec, *m, v);
		json_object_set(changed, *m, v);
	}
	clock_format(clock_now_ms(), now);
	json_object_set_new(rec, "updated_at", json_string(now));
	if ((rc = webhook_put(c->txn, rec)) == 0)
		rc = audit_webhook(c, "webhook.updated", rec, changed);
	else
		json_decref(changed);
	if (rc == 0)
		response_json(c->resp, 200, webhook_public(rec));
	json_decref(rec);
	return rc;
}

static int
delete_webhook(struct ctx *c)
{
	json_t *rec;
	int rc = path_webhook(c, &rec);

	if (rc != 0 || rec == NULL)
		return rc;
	rc = webhook_delete(c->txn, c->who.tenant, ctx_param(c, 0));
	if (rc == 0)
		rc = audit_webhook(c, "webhook.deleted", rec, json_pack("{s:O}",
		    "url", json_object_get(rec, "url")));
	if (rc == 0)
		response_json(c->resp, 200, webhook_public(rec));
	json_decref(rec);
	return rc;
}

static int
rotate_secret(struct ctx *c)
{
	char secret[WEBHOOK_SECRET_TEXT];
	json_t *rec, *out;
	int rc = path_webhook(c, &rec);

	if (rc != 0 || rec == NULL)
		return rc;
	rc = webhook_rotate(rec, (int64_t)c->conf->webhook_rotation_overlap_seconds * 1000,
	    secret);
	if (rc == ENOSYS) {
		json_decref(rec);
		return no_pepper(c);
	}
	if (rc == 0)
		rc = webhook_put(c->txn, rec);
	if (rc == 0)
		rc = audit_webhook(c, "webhook.secret_rotated", rec, json_pack("{s:I}",
		    "previous_signs_for_seconds",
		    (json_int_t)c->conf->webhook_rotation_overlap_seconds));
	if (rc == 0) {
		out = webhook_public(rec);
		json_object_set_new(out, "secret", json_string(secret));
		response_json(c->resp, 200, out);
	}
	sodium_memzero(secret, sizeof(secret));
	json_decref(rec);
	return rc;
}

static int
test_webhook(struct ctx *c)
{
	char receipt[64];
	json_t *rec;
	int rc = path_webhook(c, &rec);

	if (rc != 0 || rec == NULL)
		return rc;
	if (!json_is_true(json_object_get(rec, "enabled"))) {
		json_decref(rec);
		response_error(c->resp, 409, "webhook_disabled",
		    "webhook %.64s is disabled: enable it to test it", ctx_param(c, 0));
		return 0;
	}
	{
		struct audit_entry e = { c->who.tenant, "webhook.test", &c->who, NULL,
		    "webhook", ctx_param(c, 0), NULL, NULL };

		rc = audit_append(c->txn, &e, receipt, sizeof(receipt));
	}
	json_decref(rec);
	if (rc == 0)
		response_json(c->resp, 202, json_pack("{s:s, s:s}", "status", "queued",
		    "receipt_id", receipt));
	return rc;
}

static int
list_deliveries(struct ctx *c)
{
	struct problem p;
	long skip, limit;
	json_t *rec, *items;
	int rc;

	if (listing_params(c->req->query, 100, &skip, &limit, &p) != 0) {
		response_problem(c->resp, &p);
		return 0;
	}
	if ((rc = path_webhook(c, &rec)) != 0 || rec == NULL)
		return rc;
	json_decref(rec);
	/* what the notifier has not fanned out yet, so that a test event's
	 * delivery shows at once even when no notifier runs (bounded) */
	if ((rc = outbox_catch_up(LISTING_FAN_OUT)) != 0 ||
	    (rc = outbox_list(c->who.tenant, ctx_param(c, 0), skip + limit, &items)) != 0)
		return rc;
	response_json(c->resp, 200, listing_page(items, "created_at", 1, skip, limit,
	    "data"));
	return 0;
}

static int
retry_delivery(struct ctx *c)
{
	struct problem p;
	json_t *rec, *out;
	int rc;

	if ((rc = path_webhook(c, &rec)) != 0 || rec == NULL)
		return rc;
	json_decref(rec);
	rc = outbox_retry(c->txn, c->who.tenant, ctx_param(c, 0), ctx_param(c, 1),
	    &out, &p);
	if (rc < 0) {
		response_problem(c->resp, &p);
		return 0;
	}
	if (rc == 0)
		response_json(c->resp, 202, out);
	return rc;
}

/* rotate-secret, test and retry take no fields: no body or {} */
static const struct body_spec no_fields = { .fields = NULL, .count = 0 };

#define W (ROUTE_WRITE)

static const struct route routes[] = {
	{ "POST", "/v1/webhooks", create_webhook, SCOPE_WEBHOOKS_WRITE,
	  W | ROUTE_SHOWS_SECRET, &create_body },
	{ "GET", "/v1/webhooks", list_webhooks, SCOPE_AUDIT_READ, ROUTE_GATE_EXEMPT, NULL },
	{ "GET", "/v1/webhooks/{id}", get_webhook, SCOPE_AUDIT_READ, ROUTE_GATE_EXEMPT, NULL },
	{ "PATCH", "/v1/webhooks/{id}", update_webhook, SCOPE_WEBHOOKS_WRITE, W,
	  &patch_body },
	{ "DELETE", "/v1/webhooks/{id}", delete_webhook, SCOPE_WEBHOOKS_WRITE, W, NULL },
	{ "POST", "/v1/webhooks/{id}/rotate-secret", rotate_secret,
	  SCOPE_WEBHOOKS_WRITE, W | ROUTE_SHOWS_SECRET, &no_fields },
	{ "POST", "/v1/webhooks/{id}/test", test_webhook, SCOPE_WEBHOOKS_WRITE, W,
	  &no_fields },
	{ "GET", "/v1/webhooks/{id}/deliveries", list_deliveries, SCOPE_AUDIT_READ,
	  ROUTE_GATE_EXEMPT, NULL },
	{ "POST", "/v1/webhooks/{id}/deliveries/{deliveryId}/retry", retry_delivery,
	  SCOPE_WEBHOOKS_WRITE, W, &no_fields },
};

static const struct family webhooks_family = {
	"andon-webhooks", routes, sizeof(routes) / sizeof(routes[0]), NULL, NULL, NULL,
};

int
main(int argc, char **argv)
{
	return server_main(argc, argv, &webhooks_family);
}
