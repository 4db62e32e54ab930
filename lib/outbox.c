/* outbox.c - webhook deliveries, their leases and their retry schedule. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit.h"
#include "clock.h"
#include "outbox.h"
#include "store.h"
#include "webhook.h"

/* Svix's schedule: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
 * 10 h; each wait gets up to 20% of random jitter. */
const int64_t outbox_schedule_ms[] = {
	0, 5000, 300000, 1800000, 7200000, 18000000, 36000000, 36000000,
};
const unsigned outbox_attempts =
    sizeof(outbox_schedule_ms) / sizeof(outbox_schedule_ms[0]);

#define MAX_KEPT_ATTEMPTS 20
#define FANOUT_CURSOR "outbox_fanout"  /* T_CURSORS (T_META before): {seq} */

/* webhook id SEP seq (8 bytes BE); its length, or -1. */
static int
delivery_key(unsigned char *buf, size_t len, const char *webhook_id, uint64_t seq)
{
	int n = store_key((char *)buf, len - 8, webhook_id, "", NULL);

	if (n < 0)
		return -1;
	store_u64_be(buf + n, seq);
	return n + 8;
}

static int
get_delivery(DB_TXN *txn, const unsigned char *key, int klen, json_t **out)
{
	json_error_t err;
	void *val;
	size_t vlen;
	int rc = store_get(txn, T_DELIVERIES, key, (size_t)klen, &val, &vlen,
	    txn ? DB_RMW : 0);

	if (rc != 0)
		return rc;
	*out = json_loadb(val, vlen, 0, &err);
	free(val);
	return *out ? 0 : DB_NOTFOUND;
}

static int
put_delivery(DB_TXN *txn, const unsigned char *key, int klen, const json_t *d)
{
	char *text = json_dumps(d, JSON_COMPACT);
	int rc;

	if (text == NULL)
		return ENOMEM;
	rc = store_put(txn, T_DELIVERIES, key, (size_t)klen, text, strlen(text), 0);
	free(text);
	return rc;
}

static int
add_one(DB_TXN *txn, const json_t *sub, const json_t *event, void *arg)
{
	unsigned char key[STORE_KEY_MAX];
	char id[24];
	uint64_t seq = (uint64_t)json_integer_value(json_object_get(event, "seq"));
	const char *wid = json_string_value(json_object_get(sub, "id"));
	int klen = delivery_key(key, sizeof(key), wid, seq), rc;
	json_t *d;

	(void)arg;
	if (klen < 0)
		return EINVAL;
	/* an event from before the subscription is not its */
	if (seq <= (uint64_t)json_integer_value(json_object_get(sub, "from_seq")))
		return 0;
	snprintf(id, sizeof(id), "dlv_%016" PRIx64, seq);
	d = json_pack("{s:s, s:s, s:O, s:O, s:I, s:O, s:s, s:[], s:i, s:I, s:O}",
	    "id", id, "webhook_id", wid, "tenant", json_object_get(event, "tenant"),
	    "event_id", json_object_get(event, "id"), "event_seq", (json_int_t)seq,
	    "type", json_object_get(event, "type"), "state", "pending",
	    "attempts", "attempt_count", 0, "next_at_ms", (json_int_t)clock_now_ms(),
	    "created_at", json_object_get(event, "at"));
	if (d == NULL)
		return ENOMEM;
	rc = put_delivery(txn, key, klen, d);
	json_decref(d);
	if (rc == 0)
		rc = store_put(txn, T_OUTBOX, key, (size_t)klen, "", 0, 0);
	return rc;
}

/*
 * The fan-out cursor: every audit event up to its seq has its deliveries.
 * Missing (no fan-out yet), it starts below the oldest subscription's
 * from_seq, or at the audit head when there is none: a subscription
 * written by a version that queued deliveries in the event's own
 * transaction has no from_seq and had its deliveries then.
 */
struct cursor_start {
	uint64_t seq;
};

static int
oldest_from(void *arg, const void *key, size_t klen, const void *val,
            size_t vlen)
{
	struct cursor_start *cs = arg;
	json_error_t err;
	json_t *sub = json_loadb(val, vlen, 0, &err), *from;

	(void)key;
	(void)klen;
	from = json_object_get(sub, "from_seq");
	if (json_is_integer(from) && (uint64_t)json_integer_value(from) < cs->seq)
		cs->seq = (uint64_t)json_integer_value(from);
	json_decref(sub);
	return 0;
}

/*
 * Inside the fan-out's transaction the cursor is read for update (two
 * fan-outs queue on it); where it is missing, the start is worked out by
 * reads outside the transaction, which hold no lock on the audit head's
 * page (T_META): a data directory written before T_CURSORS existed kept
 * the cursor there.
 */
static int
load_cursor(DB_TXN *txn, uint64_t *seq)
{
	json_t *v;
	int rc = store_get_json(txn, T_CURSORS, FANOUT_CURSOR, &v, txn ? DB_RMW : 0);
	struct cursor_start cs;

	if (rc == DB_NOTFOUND)
		rc = store_get_json(NULL, T_META, FANOUT_CURSOR, &v, 0);
	if (rc == 0) {
		*seq = (uint64_t)json_integer_value(json_object_get(v, "seq"));
		json_decref(v);
		return 0;
	}
	if (rc != DB_NOTFOUND)
		return rc;
	if ((rc = audit_head(NULL, &cs.seq, NULL, 0)) != 0 ||
	    (rc = store_scan(NULL, T_WEBHOOKS, "", 0, 0, oldest_from, &cs)) != 0)
		return rc;
	*seq = cs.seq;
	return 0;
}

struct fan_out_job {
	uint64_t cursor;          /* as read before the events were */
	json_t *events;           /* the events after it, in seq order */
	int moved;                /* another fan-out took them first */
};

static int
fan_out_txn(DB_TXN *txn, void *arg)
{
	struct fan_out_job *j = arg;
	uint64_t cursor, last = 0;
	size_t i;
	json_t *event, *v;
	int rc;

	if ((rc = load_cursor(txn, &cursor)) != 0)
		return rc;
	if (cursor != j->cursor) {
		j->moved = 1;
		return STORE_ROLLBACK;
	}
	json_array_foreach(j->events, i, event) {
		if ((rc = webhook_each_wanting(txn, event, add_one, NULL)) != 0)
			return rc;
		last = (uint64_t)json_integer_value(json_object_get(event, "seq"));
	}
	if ((v = json_pack("{s:I}", "seq", (json_int_t)last)) == NULL)
		return ENOMEM;
	rc = store_put_json(txn, T_CURSORS, FANOUT_CURSOR, v, 0);
	json_decref(v);
	return rc;
}

/*
 * The events are read before the transaction, each on its own (committed
 * events never change), so that the transaction holds no read lock on the
 * audit table, whose last page every writer appends to.
 */
int
outbox_fan_out(unsigned max_events, unsigned *fanned)
{
	struct fan_out_job j = { 0, NULL, 0 };
	json_t *event;
	int rc;

	*fanned = 0;
	if ((rc = load_cursor(NULL, &j.cursor)) != 0)
		return rc;
	if ((j.events = json_array()) == NULL)
		return ENOMEM;
	for (uint64_t seq = j.cursor + 1; json_array_size(j.events) < max_events;
	    seq++) {
		if ((rc = audit_get(NULL, seq, &event)) == DB_NOTFOUND)
			break;
		if (rc != 0) {
			json_decref(j.events);
			return rc;
		}
		json_array_append_new(j.events, event);
	}
	rc = json_array_size(j.events) > 0 ? store_run_lazy(fan_out_txn, &j) : 0;
	if (rc == 0)
		*fanned = (unsigned)json_array_size(j.events);
	json_decref(j.events);
	return rc == STORE_ROLLBACK && j.moved ? 0 : rc;
}

int
outbox_catch_up(unsigned max_events)
{
	unsigned fanned, total = 0;
	int rc;

	do {
		rc = outbox_fan_out(FANOUT_BATCH, &fanned);
		total += fanned;
	} while (rc == 0 && fanned == FANOUT_BATCH && total < max_events);
	return rc;
}

/* The API's form: no lease, times as text. */
static json_t *
delivery_public(const json_t *d)
{
	json_t *pub = json_deep_copy(d);
	json_t *next = json_object_get(d, "next_at_ms");
	char text[CLOCK_TEXT_SIZE];

	json_object_del(pub, "lease_owner");
	json_object_del(pub, "lease_until_ms");
	json_object_del(pub, "next_at_ms");
	json_object_del(pub, "tenant");
	if (!strcmp(json_string_value(json_object_get(d, "state")) ?: "", "pending") &&
	    json_is_integer(next)) {
		clock_format(json_integer_value(next), text);
		json_object_set_new(pub, "next_attempt_at", json_string(text));
	} else
		json_object_set_new(pub, "next_attempt_at", json_null());
	return pub;
}

struct list_scan {
	const char *tenant;
	json_t *items;
	long left;
};

static int
collect(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct list_scan *s = arg;
	json_error_t err;
	json_t *d = json_loadb(val, vlen, 0, &err);
	const char *tenant = json_string_value(json_object_get(d, "tenant"));

	(void)key;
	(void)klen;
	if (d != NULL && tenant != NULL && !strcmp(tenant, s->tenant)) {
		json_array_append_new(s->items, delivery_public(d));
		s->left--;
	}
	json_decref(d);
	return s->left > 0 ? 0 : 1;
}

int
outbox_list(const char *tenant, const char *webhook_id, long limit,
            json_t **items)
{
	char prefix[STORE_KEY_MAX];
	struct list_scan s = { tenant, json_array(), limit };
	int plen = store_key(prefix, sizeof(prefix), webhook_id, "", NULL), rc;

	if (plen < 0 || s.items == NULL) {
		json_decref(s.items);
		return ENOMEM;
	}
	rc = store_scan(NULL, T_DELIVERIES, prefix, (size_t)plen, 1, collect, &s);
	if (rc != 0) {
		json_decref(s.items);
		return rc;
	}
	*items = s.items;
	return 0;
}

int
outbox_retry(DB_TXN *txn, const char *tenant, const char *webhook_id,
             const char *delivery_id, json_t **out, struct problem *p)
{
	unsigned char key[STORE_KEY_MAX];
	uint64_t seq;
	char *end;
	json_t *d;
	int klen, rc;

	*out = NULL;
	if (strncmp(delivery_id, "dlv_", 4) != 0 || strlen(delivery_id) != 20 ||
	    (seq = strtoull(delivery_id + 4, &end, 16), *end != '\0') ||
	    (klen = delivery_key(key, sizeof(key), webhook_id, seq)) < 0 ||
	    (rc = get_delivery(txn, key, klen, &d)) == DB_NOTFOUND) {
		problem_set(p, 404, "not_found", "no delivery %.64s", delivery_id);
		return -1;
	}
	if (rc != 0)
		return rc;
	if (strcmp(json_string_value(json_object_get(d, "tenant")) ?: "", tenant) != 0) {
		json_decref(d);
		problem_set(p, 404, "not_found", "no delivery %.64s", delivery_id);
		return -1;
	}
	if (!strcmp(json_string_value(json_object_get(d, "state")) ?: "", "pending")) {
		json_decref(d);
		problem_set(p, 409, "delivery_pending", "delivery %.64s is still "
		    "pending: the notifier will try it again", delivery_id);
		return -1;
	}
	json_object_set_new(d, "state", json_string("pending"));
	json_object_set_new(d, "attempt_count", json_integer(0));
	json_object_set_new(d, "next_at_ms", json_integer(clock_now_ms()));
	json_object_del(d, "lease_owner");
	json_object_del(d, "lease_until_ms");
	rc = put_delivery(txn, key, klen, d);
	if (rc == 0)
		rc = store_put(txn, T_OUTBOX, key, (size_t)klen, "", 0, 0);
	if (rc == 0)
		*out = delivery_public(d);
	json_decref(d);
	return rc;
}

struct heads_scan {
	json_t *heads;            /* [[webhook id, seq], ...] */
	char last[STORE_KEY_MAX];
};

/* The first pending delivery from the scan's start: its endpoint's head. */
static int
head_one(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct heads_scan *h = arg;

	(void)val;
	(void)vlen;
	if (klen < 10 || klen - 9 >= sizeof(h->last))
		return 0;
	memcpy(h->last, key, klen - 9);
	h->last[klen - 9] = '\0';
	json_array_append_new(h->heads, json_pack("[s, I]", h->last, (json_int_t)
	    store_be_u64((const unsigned char *)key + klen - 8)));
	return 1;
}

/*
 * The scan only collects: fn runs after its cursor is closed, as fn's
 * transactions would otherwise wait for a writer that waits for the
 * cursor's page lock, in the same thread.
 */
int
outbox_heads(int (*fn)(void *arg, const char *webhook_id, uint64_t seq),
             void *arg)
{
	struct heads_scan h = { json_array(), "" };
	size_t i;
	json_t *v;
	int rc;

	if (h.heads == NULL)
		return ENOMEM;
	/* one cursor positioning per endpoint: from each head, the scan
	 * starts again past the rest of its endpoint's keys (id SEP+1) */
	for (rc = 0; rc == 0;) {
		char start[STORE_KEY_MAX];
		size_t before = json_array_size(h.heads);
		int slen = h.last[0] ? snprintf(start, sizeof(start), "%s%c", h.last,
		    KEY_SEP + 1) : 0;

		if (slen < 0 || (size_t)slen >= sizeof(start))
			break;
		rc = store_scan_from(NULL, T_OUTBOX, "", 0, slen ? start : NULL,
		    (size_t)slen, 0, head_one, &h);
		if (json_array_size(h.heads) == before)
			break;
	}
	json_array_foreach(h.heads, i, v) {
		if (rc != 0)
			break;
		rc = fn(arg, json_string_value(json_array_get(v, 0)),
		    (uint64_t)json_integer_value(json_array_get(v, 1)));
		if (rc == 1) {            /* fn says stop */
			rc = 0;
			break;
		}
	}
	json_decref(h.heads);
	return rc;
}

struct next_scan {
	uint64_t seq;
	int found;
};

static int
next_one(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct next_scan *n = arg;

	(void)val;
	(void)vlen;
	if (klen < 8)
		return 0;
	n->seq = store_be_u64((const unsigned char *)key + klen - 8);
	n->found = 1;
	return 1;
}

int
outbox_next(const char *webhook_id, uint64_t after, uint64_t *seq)
{
	unsigned char prefix[STORE_KEY_MAX];
	struct next_scan n = { 0, 0 };
	int plen = delivery_key(prefix, sizeof(prefix), webhook_id, after + 1), rc;

	if (plen < 0 || after == UINT64_MAX)
		return DB_NOTFOUND;
	rc = store_scan_from(NULL, T_OUTBOX, prefix, (size_t)plen - 8, prefix,
	    (size_t)plen, 0, next_one, &n);
	if (rc != 0)
		return rc;
	if (!n.found)
		return DB_NOTFOUND;
	*seq = n.seq;
	return 0;
}

struct claim_job {
	const char *webhook_id;
	uint64_t seq;
	const char *owner;
	int64_t lease_ms;
	struct outbox_claim *c;
	int64_t due_ms;
	int claimed;
};

static int
claim_txn(DB_TXN *txn, void *arg)
{
	struct claim_job *j = arg;
	unsigned char key[STORE_KEY_MAX];
	int64_t now = clock_now_ms();
	int klen = delivery_key(key, sizeof(key), j->webhook_id, j->seq), rc;
	json_t *d;

	j->claimed = 0;
	j->due_ms = 0;
	if (klen < 0)
		return STORE_ROLLBACK;
	if ((rc = get_delivery(txn, key, klen, &d)) == DB_NOTFOUND)
		return store_del(txn, T_OUTBOX, key, (size_t)klen);
	if (rc != 0)
		return rc;
	if (strcmp(json_string_value(json_object_get(d, "state")) ?: "", "pending") != 0) {
		json_decref(d);
		return store_del(txn, T_OUTBOX, key, (size_t)klen);
	}
	j->due_ms = json_integer_value(json_object_get(d, "next_at_ms"));
	if (json_integer_value(json_object_get(d, "lease_until_ms")) > now) {
		if (json_integer_value(json_object_get(d, "lease_until_ms")) > j->due_ms)
			j->due_ms = json_integer_value(json_object_get(d, "lease_until_ms"));
		json_decref(d);
		return STORE_ROLLBACK;
	}
	if (j->due_ms > now) {
		json_decref(d);
		return STORE_ROLLBACK;
	}
	json_object_set_new(d, "lease_owner", json_string(j->owner));
	json_object_set_new(d, "lease_until_ms", json_integer(now + j->lease_ms));
	memset(j->c, 0, sizeof(*j->c));
	snprintf(j->c->webhook_id, sizeof(j->c->webhook_id), "%s", j->webhook_id);
	snprintf(j->c->tenant, sizeof(j->c->tenant), "%s",
	    json_string_value(json_object_get(d, "tenant")) ?: "");
	snprintf(j->c->owner, sizeof(j->c->owner), "%s", j->owner);
	j->c->seq = j->seq;
	j->c->attempt = (unsigned)json_integer_value(json_object_get(d, "attempt_count")) + 1;
	rc = put_delivery(txn, key, klen, d);
	json_decref(d);
	if (rc == 0)
		j->claimed = 1;
	return rc;
}

int
outbox_claim(const char *webhook_id, uint64_t seq, const char *owner,
             int64_t lease_ms, struct outbox_claim *c, int64_t *due_ms)
{
	struct claim_job j = { webhook_id, seq, owner, lease_ms, c, 0, 0 };
	int rc = store_run_lazy(claim_txn, &j);

	*due_ms = j.due_ms;
	if (rc != 0 && rc != STORE_ROLLBACK)
		return rc;
	return j.claimed;
}

struct finish_job {
	const struct outbox_claim *c;
	int status;
	const char *error;
	int64_t duration_ms;
	unsigned scale_ppm;
	outbox_health_fn health;
	void *health_arg;
	const char *drop;
};

/* The wait before the next attempt after `failures` failed ones, scaled
 * and jittered; -1 when there is none (dead). */
static int64_t
next_wait(unsigned failures, unsigned scale_ppm)
{
	int64_t base;

	if (failures >= outbox_attempts)
		return -1;
	base = outbox_schedule_ms[failures] * (int64_t)scale_ppm / 1000000;
	return base + (base > 0 ? (int64_t)randombytes_uniform(
	    (uint32_t)(base / 5 > 0 && base / 5 < UINT32_MAX ? base / 5 : 1)) : 0);
}

static int
finish_txn(DB_TXN *txn, void *arg)
{
	struct finish_job *j = arg;
	const struct outbox_claim *c = j->c;
	unsigned char key[STORE_KEY_MAX];
	char at[CLOCK_TEXT_SIZE], next_text[CLOCK_TEXT_SIZE];
	int64_t now = clock_now_ms(), wait;
	int klen = delivery_key(key, sizeof(key), c->webhook_id, c->seq), rc;
	const char *owner, *state;
	json_t *d, *attempts;
	unsigned failures;

	if (klen < 0)
		return STORE_ROLLBACK;
	if ((rc = get_delivery(txn, key, klen, &d)) != 0)
		return rc == DB_NOTFOUND ? STORE_ROLLBACK : rc;
	owner = json_string_value(json_object_get(d, "lease_owner"));
	if (j->drop == NULL && (owner == NULL || strcmp(owner, c->owner) != 0)) {
		json_decref(d);           /* the lease was lost: not ours to say */
		return STORE_ROLLBACK;
	}
	clock_format(now, at);
	failures = (unsigned)json_integer_value(json_object_get(d, "attempt_count")) + 1;
	if (j->drop != NULL)
		wait = -1, state = "dead";
	else if (j->status >= 200 && j->status <= 299)
		wait = -1, state = "delivered";
	else {
		wait = next_wait(failures, j->scale_ppm);
		state = wait < 0 ? "dead" : "pending";
	}
	if (wait >= 0)
		clock_format(now + wait, next_text);
	attempts = json_object_get(d, "attempts");
	if (json_array_size(attempts) >= MAX_KEPT_ATTEMPTS)
		json_array_remove(attempts, 0);
	json_array_append_new(attempts, json_pack("{s:i, s:s, s:o, s:o, s:I, s:o}",
	    "attempt", (int)failures, "at", at,
	    "status_code", j->status > 0 ? json_integer(j->status) : json_null(),
	    "error", j->drop ? json_string(j->drop) :
	        j->error ? json_string(j->error) : json_null(),
	    "duration_ms", (json_int_t)j->duration_ms,
	    "next_retry_at", wait >= 0 ? json_string(next_text) : json_null()));
	json_object_set_new(d, "attempt_count", json_integer(failures));
	json_object_set_new(d, "state", json_string(state));
	json_object_set_new(d, "next_at_ms", json_integer(wait >= 0 ? now + wait : 0));
	json_object_del(d, "lease_owner");
	json_object_del(d, "lease_until_ms");
	rc = put_delivery(txn, key, klen, d);
	json_decref(d);
	if (rc == 0 && wait < 0)
		rc = store_del(txn, T_OUTBOX, key, (size_t)klen);
	if (rc == DB_NOTFOUND)
		rc = 0;
	if (rc == 0 && j->drop == NULL && j->health != NULL)
		rc = j->health(txn, c, j->status >= 200 && j->status <= 299, now,
		    j->health_arg);
	return rc;
}

int
outbox_finish(const struct outbox_claim *c, int status, const char *error,
              int64_t duration_ms, unsigned scale_ppm,
              outbox_health_fn health, void *arg)
{
	struct finish_job j = { c, status, error, duration_ms, scale_ppm,
	    health, arg, NULL };
	int rc = store_run_lazy(finish_txn, &j);

	return rc == STORE_ROLLBACK ? 0 : rc;
}

int
outbox_drop(const char *webhook_id, uint64_t seq, const char *why)
{
	struct outbox_claim c;
	struct finish_job j = { &c, 0, NULL, 0, 0, NULL, NULL, why };
	int rc;

	memset(&c, 0, sizeof(c));
	snprintf(c.webhook_id, sizeof(c.webhook_id), "%s", webhook_id);
	c.seq = seq;
	rc = store_run_lazy(finish_txn, &j);
	return rc == STORE_ROLLBACK ? 0 : rc;
}
