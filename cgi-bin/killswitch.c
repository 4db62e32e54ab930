/*
 * killswitch.c - the kill-switch family (contract section 6, seed 001):
 * kill, revive, check, active, history and interventions.
 *
 * The records, their keys, reads and writes are lib/killswitch.c's; this
 * file reads the queries and bodies and answers.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "idempotency.h"
#include "intervention.h"
#include "killswitch.h"
#include "localstop.h"
#include "scope.h"
#include "server.h"

static const struct field_spec kill_fields[] = {
	{ .name = "target_type", .type = FIELD_STRING,
	  .flags = FIELD_REQUIRED, .allowed = killswitch_target_types },
	{ .name = "target_id", .type = FIELD_STRING,
	  .flags = FIELD_REQUIRED | FIELD_NONEMPTY | FIELD_PRINTABLE,
	  .max_len = 256 },
	{ .name = "reason", .type = FIELD_STRING,
	  .flags = FIELD_NULLABLE, .max_len = 2000 },
};
static const struct body_spec kill_body = BODY_SPEC(kill_fields);

static const struct field_spec revive_fields[] = {
	{ .name = "target_type", .type = FIELD_STRING,
	  .flags = FIELD_REQUIRED, .allowed = killswitch_target_types },
	{ .name = "target_id", .type = FIELD_STRING,
	  .flags = FIELD_REQUIRED | FIELD_NONEMPTY | FIELD_PRINTABLE,
	  .max_len = 256 },
};
static const struct body_spec revive_body = BODY_SPEC(revive_fields);

static const struct field_spec intervention_fields[] = {
	{ .name = "id", .type = FIELD_STRING,
	  .flags = FIELD_NULLABLE, .max_len = 64 },
	{ .name = "type", .type = FIELD_STRING,
	  .flags = FIELD_REQUIRED | FIELD_NONEMPTY | FIELD_PRINTABLE,
	  .max_len = 64 },
	{ .name = "outcome", .type = FIELD_STRING,
	  .flags = FIELD_REQUIRED | FIELD_NONEMPTY | FIELD_PRINTABLE,
	  .max_len = 64 },
	{ .name = "action_name", .type = FIELD_STRING,
	  .flags = FIELD_NULLABLE | FIELD_PRINTABLE, .max_len = 256 },
	{ .name = "agent_id", .type = FIELD_STRING,
	  .flags = FIELD_NULLABLE | FIELD_PRINTABLE, .max_len = 256 },
	{ .name = "run_id", .type = FIELD_STRING,
	  .flags = FIELD_NULLABLE | FIELD_PRINTABLE, .max_len = 256 },
	{ .name = "mission_id", .type = FIELD_STRING,
	  .flags = FIELD_NULLABLE | FIELD_PRINTABLE, .max_len = 256 },
	{ .name = "reason", .type = FIELD_STRING,
	  .flags = FIELD_NULLABLE, .max_len = 2000 },
	{ .name = "killed_by", .type = FIELD_STRING,
	  .flags = FIELD_NULLABLE | FIELD_PRINTABLE, .max_len = 256 },
	{ .name = "kill_switch_id", .type = FIELD_STRING,
	  .flags = FIELD_NULLABLE | FIELD_PRINTABLE, .max_len = 64 },
	{ .name = "count", .type = FIELD_INTEGER,
	  .flags = FIELD_NULLABLE, .min = 1, .max = 1e9 },
	{ .name = "first_seen", .type = FIELD_STRING,
	  .flags = FIELD_NULLABLE, .max_len = 40 },
	{ .name = "timestamp", .type = FIELD_STRING,
	  .flags = FIELD_NULLABLE, .max_len = 40 },
	{ .name = "organization_id", .type = FIELD_STRING,
	  .flags = FIELD_NULLABLE, .max_len = 64 },
};
static const struct body_spec intervention_item = BODY_SPEC(intervention_fields);

static const struct field_spec batch_fields[] = {
	{ .name = "interventions", .type = FIELD_ANY_ARRAY,
	  .flags = FIELD_REQUIRED, .max_len = 1000 },
};
static const struct body_spec batch_body = BODY_SPEC(batch_fields);

/*
 * No site is the master (server.h, local_stop): the kill is kept on this
 * site (localstop.h) and answered 202 with the kept record.  A retry with
 * the same Idempotency-Key answers the same (422 with another body); a
 * target killed already, here or in the replicated database, 409.
 */
static int
keep_kill(struct ctx *c)
{
	const char *type = ctx_str(c, "target_type"), *target = ctx_str(c, "target_id");
	const char *idem = c->req->idempotency_key, *dir = c->conf->data_dir;
	char fingerprint[65];
	json_t *rec = NULL;
	int rc;

	if (idem != NULL) {
		idem_fingerprint(c->req, fingerprint);
		rc = localstop_find_replay(dir, c->who.key_id, idem, &rec);
		if (rc == 0) {
			if (strcmp(json_string_value(json_object_get(rec,
			    "fingerprint")), fingerprint) != 0) {
				json_decref(rec);
				response_error(c->resp, 422, "idempotency_key_reused",
				    "Idempotency-Key was already used with another request");
				return 0;
			}
			response_json(c->resp, 202, rec);
			return 0;
		}
		if (rc != DB_NOTFOUND)
			return rc;
	}
	if ((rc = localstop_find(dir, c->who.tenant, type, target, &rec)) == 0 ||
	    (rc = killswitch_check(c->who.tenant, type, target, &rec)) == 0) {
		json_decref(rec);
		response_error(c->resp, 409, "already_killed",
		    "%s %s is already killed", type, target);
		return 0;
	}
	if (rc != DB_NOTFOUND)
		return rc;
	if ((rc = localstop_add(dir, &c->who, type, target, ctx_str(c, "reason"),
	    idem, idem ? fingerprint : NULL, &rec)) != 0)
		return rc;
	response_json(c->resp, 202, rec);
	return 0;
}

static int
kill_target(struct ctx *c)
{
	struct problem p;
	json_t *rec;
	int rc;

	if (c->local_stop)
		return keep_kill(c);
	rc = killswitch_kill(c->txn, &c->who, ctx_str(c, "target_type"),
	    ctx_str(c, "target_id"), ctx_str(c, "reason"), &rec, &p);
	return ctx_answer(c, rc, 201, rec, &p);
}

static int
revive_target(struct ctx *c)
{
	struct problem p;
	json_t *rec;
	int rc = killswitch_revive(c->txn, &c->who, ctx_str(c, "target_type"),
	    ctx_str(c, "target_id"), &rec, &p);

	return ctx_answer(c, rc, 200, rec, &p);
}

/*
 * The query parameters of the check and of the history, described once as
 * the bodies are: each is absent (or empty), or 1 to size - 1 printable
 * characters, else 400 invalid_query; a parameter with allowed values
 * takes only those.  The three that name a target directly carry its type,
 * in the order the check tries them: agent before mission before run.
 */
enum check_param {
	Q_TARGET_TYPE, Q_TARGET_ID, Q_AGENT, Q_MISSION, Q_RUN, Q_ACTION, Q_COUNT
};

struct query_spec {
	const char *name;
	size_t size;                  /* the buffer: at most size - 1 bytes */
	const char *const *allowed;   /* NULL-terminated, or NULL: any */
	const char *target;           /* the target type it names, or NULL */
};

static const struct query_spec check_query[Q_COUNT] = {
	[Q_TARGET_TYPE] = { .name = "target_type", .size = 16,
	                    .allowed = killswitch_target_types },
	[Q_TARGET_ID] = { .name = "target_id", .size = KILLSWITCH_TARGET_SIZE },
	[Q_AGENT] = { .name = "agent_id", .size = KILLSWITCH_TARGET_SIZE,
	              .target = "agent" },
	[Q_MISSION] = { .name = "mission_id", .size = KILLSWITCH_TARGET_SIZE,
	                .target = "mission" },
	[Q_RUN] = { .name = "run_id", .size = KILLSWITCH_TARGET_SIZE,
	            .target = "run" },
	[Q_ACTION] = { .name = "action", .size = KILLSWITCH_TARGET_SIZE },
};

struct query_values {
	int has[Q_COUNT];
	char value[Q_COUNT][KILLSWITCH_TARGET_SIZE];
};

/* Reads one text parameter; 1 present, 0 absent or empty, -1 bad
 * (answered). */
static int
query_text(struct ctx *c, const char *name, char *buf, size_t len)
{
	int rc = query_get(c->req->query, name, buf, len);

	if (rc == 1 && buf[0] == '\0')
		return 0;
	if (rc < 0 || (rc == 1 && !text_printable(buf))) {
		response_error(c->resp, 400, "invalid_query",
		    "query parameter %s must be 1 to 256 printable characters", name);
		return -1;
	}
	return rc;
}

/* Reads the first n parameters of check_query into q: 0, or -1 when one
 * is bad (answered). */
static int
read_query(struct ctx *c, size_t n, struct query_values *q)
{
	for (size_t i = 0; i < n; i++)
		if ((q->has[i] = query_text(c, check_query[i].name, q->value[i],
		    check_query[i].size)) < 0)
			return -1;
	return 0;
}

/* 1 when parameter i is absent or one of its allowed values; else 0,
 * answered ("target_type must be agent, run or mission"). */
static int
query_allowed(struct ctx *c, const struct query_values *q, enum check_param i)
{
	const char *const *allowed = check_query[i].allowed;
	char list[128] = "";
	size_t n = 0, len = 0;

	if (!q->has[i] || allowed == NULL)
		return 1;
	for (; allowed[n] != NULL; n++)
		if (!strcmp(allowed[n], q->value[i]))
			return 1;
	for (size_t k = 0; k < n && len < sizeof(list); k++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
		    k == 0 ? "" : k + 1 == n ? " or " : ", ", allowed[k]);
	response_error(c->resp, 400, "invalid_query", "%s must be %s",
	    check_query[i].name, list);
	return 0;
}

static json_t *
check_answer(const char *type, const char *target, const json_t *rec)
{
	json_t *out = json_pack("{s:b, s:s, s:s}", "is_killed", rec != NULL,
	    "target_type", type, "target_id", target);

	if (rec) {
		json_object_set(out, "reason", json_object_get(rec, "reason"));
		json_object_set(out, "killed_at", json_object_get(rec, "killed_at"));
		json_object_set(out, "kill_switch_id", json_object_get(rec, "id"));
		json_object_set(out, "killed_by", json_object_get(rec, "killed_by"));
		json_object_set_new(out, "source", json_string("kill_switch"));
	} else {
		json_object_set_new(out, "reason", json_null());
		json_object_set_new(out, "killed_at", json_null());
	}
	return out;
}

/* The check's targets from the query: 0 with q->has[Q_AGENT..Q_RUN] set
 * (target_type and target_id folded into them), or -1 (answered). */
static int
check_targets(struct ctx *c, struct query_values *q)
{
	int by_type = q->has[Q_TARGET_TYPE] || q->has[Q_TARGET_ID];
	int direct = q->has[Q_AGENT] || q->has[Q_MISSION] || q->has[Q_RUN];

	if (by_type ? !q->has[Q_TARGET_TYPE] || !q->has[Q_TARGET_ID] || direct
	    : !direct) {
		response_error(c->resp, 400, "invalid_query",
		    "give target_type and target_id, or any of agent_id, run_id, mission_id");
		return -1;
	}
	if (!by_type)
		return 0;
	if (!query_allowed(c, q, Q_TARGET_TYPE))
		return -1;
	for (int i = Q_AGENT; i <= Q_RUN; i++) {
		q->has[i] = !strcmp(q->value[Q_TARGET_TYPE], check_query[i].target);
		if (q->has[i])
			snprintf(q->value[i], sizeof(q->value[i]), "%s",
			    q->value[Q_TARGET_ID]);
	}
	return 0;
}

static int
check_target(struct ctx *c)
{
	struct query_values q;
	json_t *rec = NULL, *out;
	int matched = -1, rc;

	if (read_query(c, Q_COUNT, &q) != 0 || check_targets(c, &q) != 0)
		return 0;
	/* agent before mission before run */
	for (int i = Q_AGENT; i <= Q_RUN && matched < 0; i++) {
		if (!q.has[i])
			continue;
		rc = killswitch_check(c->who.tenant, check_query[i].target,
		    q.value[i], &rec);
		if (rc == 0)
			matched = i;
		else if (rc != DB_NOTFOUND)
			return rc;
	}
	/* with replication on: a kill kept on this site while no master
	 * could be elected stops its target here at once (localstop.h) */
	for (int i = Q_AGENT; i <= Q_RUN && matched < 0 && c->conf->replication;
	    i++) {
		json_t *kept;

		if (!q.has[i])
			continue;
		rc = localstop_find(c->conf->data_dir, c->who.tenant,
		    check_query[i].target, q.value[i], &kept);
		if (rc == 0) {
			matched = i;
			rec = json_pack("{s:O, s:O, s:O, s:O, s:s}",
			    "id", json_object_get(kept, "id"),
			    "reason", json_object_get(kept, "reason"),
			    "killed_at", json_object_get(kept, "killed_at"),
			    "killed_by", json_object_get(kept, "key_id"),
			    "source", "local_stop");
			json_decref(kept);
			if (rec == NULL)
				return ENOMEM;
		} else if (rc != DB_NOTFOUND) {
			return rc;
		}
	}
	if (matched < 0) {
		int first = q.has[Q_AGENT] ? Q_AGENT : q.has[Q_MISSION] ? Q_MISSION : Q_RUN;

		response_json(c->resp, 200,
		    check_answer(check_query[first].target, q.value[first], NULL));
		return 0;
	}
	out = check_answer(check_query[matched].target, q.value[matched], rec);
	if (json_object_get(rec, "source") != NULL) {
		json_object_set(out, "source", json_object_get(rec, "source"));
		if (json_object_get(rec, "agent_status") != NULL)
			json_object_set(out, "agent_status",
			    json_object_get(rec, "agent_status"));
	}
	{
		struct blocked_check b = { c->who.tenant, rec,
		    q.has[Q_AGENT] ? q.value[Q_AGENT] : NULL,
		    q.has[Q_RUN] ? q.value[Q_RUN] : NULL,
		    q.has[Q_MISSION] ? q.value[Q_MISSION] : NULL,
		    q.has[Q_ACTION] ? q.value[Q_ACTION] : NULL };

		intervention_blocked(&b);
	}
	json_decref(rec);
	response_json(c->resp, 200, out);
	return 0;
}

static int
list_active(struct ctx *c)
{
	json_t *items;
	int rc = killswitch_list_active(c->who.tenant, &items);

	return ctx_page(c, rc, items, NULL, 100, "killed_at", "data");
}

static int
list_history(struct ctx *c)
{
	struct query_values q;
	struct problem p;
	json_t *items;
	int rc;

	/* target_type and target_id, the first two of check_query */
	if (read_query(c, Q_TARGET_ID + 1, &q) != 0 ||
	    !query_allowed(c, &q, Q_TARGET_TYPE))
		return 0;
	if (q.has[Q_TARGET_ID] && !q.has[Q_TARGET_TYPE]) {
		response_error(c->resp, 400, "invalid_query",
		    "target_id needs target_type");
		return 0;
	}
	rc = killswitch_history(c->who.tenant,
	    q.has[Q_TARGET_TYPE] ? q.value[Q_TARGET_TYPE] : NULL,
	    q.has[Q_TARGET_ID] ? q.value[Q_TARGET_ID] : NULL, &items, &p);
	return ctx_page(c, rc, items, &p, 100, "killed_at", "data");
}

/* Interventions */

static int
date_param(struct ctx *c, const char *name, char out[CLOCK_TEXT_SIZE])
{
	char text[64];
	int64_t ms;
	int rc = query_get(c->req->query, name, text, sizeof(text));

	out[0] = '\0';
	if (rc == 0 || (rc == 1 && text[0] == '\0'))
		return 0;
	if (rc < 0 || clock_parse(text, &ms) != 0) {
		response_error(c->resp, 400, "invalid_query",
		    "query parameter %s must be an RFC 3339 timestamp", name);
		return -1;
	}
	clock_format(ms, out);
	return 0;
}

/* A ?type= or ?outcome= filter: lowercased, or a 400 naming the words. */
static int
filter_word(struct ctx *c, const struct intervention_word *w, char *value)
{
	char allowed[256];

	if (intervention_word_known(w, value))
		return 0;
	intervention_word_list(w, allowed, sizeof(allowed));
	response_error(c->resp, 400, "invalid_query",
	    "query parameter %s must be one of %s", w->name, allowed);
	return -1;
}

static int
list_interventions(struct ctx *c)
{
	struct intervention_filter f;
	json_t *items;
	int rc;

	memset(&f, 0, sizeof(f));
	if ((f.has_type = query_text(c, "type", f.type, sizeof(f.type))) < 0 ||
	    (f.has_outcome = query_text(c, "outcome", f.outcome, sizeof(f.outcome))) < 0 ||
	    (f.has_action = query_text(c, "action_name", f.action, sizeof(f.action))) < 0 ||
	    (f.has_agent = query_text(c, "agent_id", f.agent, sizeof(f.agent))) < 0 ||
	    (f.has_run = query_text(c, "run_id", f.run, sizeof(f.run))) < 0 ||
	    date_param(c, "start_date", f.start) != 0 ||
	    date_param(c, "end_date", f.end) != 0)
		return 0;
	/* one rule for every list's filters: a value outside the field's
	 * known set is a 400, never a silent empty list */
	if ((f.has_type && filter_word(c, &intervention_words[0], f.type) != 0) ||
	    (f.has_outcome && filter_word(c, &intervention_words[1], f.outcome) != 0))
		return 0;
	intervention_flush(1, 0);
	rc = intervention_list(c->who.tenant, &f, &items);
	return ctx_page(c, rc, items, NULL, 50, "timestamp", "interventions");
}

static int
normalise_item(struct ctx *c, json_t *item, size_t index)
{
	const char *names[] = { "first_seen", "timestamp" };
	struct problem p;
	char now[CLOCK_TEXT_SIZE];
	const char *org;

	if (!json_is_object(item)) {
		response_error(c->resp, 400, "invalid_type",
		    "interventions[%zu] must be an object", index);
		return -1;
	}
	if (validate_body(item, &intervention_item, &p) != 0) {
		char field[sizeof(p.field) + 32], detail[sizeof(p.detail)];

		snprintf(field, sizeof(field), "interventions[%zu].%s", index, p.field);
		snprintf(detail, sizeof(detail), "%s", p.detail);
		problem_set(&p, 400, p.code, "%s: %s", field, detail);
		problem_field(&p, field);
		response_problem(c->resp, &p);
		return -1;
	}
	org = json_string_value(json_object_get(item, "organization_id"));
	if (org && strcmp(org, c->who.tenant) != 0) {
		response_error(c->resp, 400, "invalid_field",
		    "interventions[%zu].organization_id is not the caller's organization", index);
		return -1;
	}
	json_object_del(item, "organization_id");
	json_object_del(item, "id");
	/* type and outcome are known words, written in any case, kept in
	 * lowercase ("HARD_BLOCK" is hard_block) */
	for (const struct intervention_word *w = intervention_words; w->name; w++) {
		char word[65];

		snprintf(word, sizeof(word), "%s",
		    json_string_value(json_object_get(item, w->name)));
		if (!intervention_word_known(w, word)) {
			char allowed[256];

			intervention_word_list(w, allowed, sizeof(allowed));
			response_error(c->resp, 400, "invalid_field",
			    "interventions[%zu].%s must be one of %s", index, w->name, allowed);
			return -1;
		}
		json_object_set_new(item, w->name, json_string(word));
	}
	for (int i = 0; i < 2; i++) {
		const char *v = json_string_value(json_object_get(item, names[i]));
		char norm[CLOCK_TEXT_SIZE];
		int64_t ms;

		if (v == NULL)
			continue;
		if (clock_parse(v, &ms) != 0) {
			response_error(c->resp, 400, "invalid_field",
			    "interventions[%zu].%s must be an RFC 3339 timestamp", index, names[i]);
			return -1;
		}
		clock_format(ms, norm);
		json_object_set_new(item, names[i], json_string(norm));
	}
	/* first_seen is never after timestamp: a missing one is the other
	 * (both missing: now); both given in the wrong order are refused */
	{
		json_t *first = json_object_get(item, "first_seen");
		json_t *last = json_object_get(item, "timestamp");

		if (first == NULL && last == NULL) {
			clock_format(clock_now_ms(), now);
			json_object_set_new(item, "first_seen", json_string(now));
			json_object_set_new(item, "timestamp", json_string(now));
		} else if (first == NULL) {
			json_object_set(item, "first_seen", last);
		} else if (last == NULL) {
			json_object_set(item, "timestamp", first);
		} else if (strcmp(json_string_value(first), json_string_value(last)) > 0) {
			response_error(c->resp, 400, "invalid_field",
			    "interventions[%zu].first_seen must not be after its timestamp",
			    index);
			return -1;
		}
	}
	for (const char *const *n = (const char *const[]){ "action_name", "agent_id",
	    "run_id", "mission_id", "reason", "killed_by", "kill_switch_id", NULL }; *n; n++)
		if (json_object_get(item, *n) == NULL)
			json_object_set_new(item, *n, json_null());
	return 0;
}

static int
post_interventions(struct ctx *c)
{
	json_t *list = json_object_get(c->body, "interventions"), *item, *out;
	size_t i;
	int rc;

	json_array_foreach(list, i, item)
		if (normalise_item(c, item, i) != 0)
			return 0;
	out = json_array();
	json_array_foreach(list, i, item) {
		json_t *stored;

		if ((rc = intervention_merge(c->txn, c->who.tenant, item, &stored)) != 0) {
			json_decref(out);
			return rc;
		}
		json_array_append_new(out, stored);
	}
	response_json(c->resp, 201, json_pack("{s:o, s:I}", "interventions", out,
	    "count", (json_int_t)json_array_size(out)));
	return 0;
}

static void
flush_interventions(const struct conf *conf)
{
	intervention_flush(0, conf->intervention_flush_ms);
}

static void
finish(void)
{
	intervention_flush(1, 0);
}

static const struct route routes[] = {
	{ "POST", "/api/v1/kill-switch/kill", kill_target, SCOPE_KILLSWITCH_WRITE,
	  ROUTE_WRITE | ROUTE_RATE_LIMITED | ROUTE_GATE_EXEMPT | ROUTE_STOP,
	  &kill_body },
	{ "POST", "/api/v1/kill-switch/revive", revive_target, SCOPE_KILLSWITCH_WRITE,
	  ROUTE_WRITE | ROUTE_RATE_LIMITED, &revive_body },
	{ "GET", "/api/v1/kill-switch/check", check_target, SCOPE_KILLSWITCH_CHECK,
	  ROUTE_CHECK, NULL },
	{ "GET", "/api/v1/kill-switch/active", list_active, SCOPE_KILLSWITCH_CHECK, 0, NULL },
	{ "GET", "/api/v1/kill-switch/history", list_history, SCOPE_KILLSWITCH_CHECK, 0, NULL },
	{ "GET", "/api/v1/interventions", list_interventions, SCOPE_KILLSWITCH_CHECK, 0, NULL },
	{ "POST", "/api/v1/interventions", post_interventions, SCOPE_KILLSWITCH_CHECK,
	  ROUTE_WRITE, &batch_body },
};

static const struct family killswitch = {
	"andon-killswitch", routes, sizeof(routes) / sizeof(routes[0]),
	NULL, flush_interventions, finish,
};

int
main(int argc, char **argv)
{
	return server_main(argc, argv, &killswitch);
}
