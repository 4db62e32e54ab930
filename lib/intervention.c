/* intervention.c - aggregate and store hard-block interventions. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "log.h"
#include "clock.h"
#include "encode.h"
#include "ids.h"
#include "intervention.h"
#include "store.h"

static const char *const types[] = {
	"hard_block", "soft_block", "warning", "rate_limited", NULL
};
static const char *const outcomes[] = {
	"blocked", "allowed", "escalated", "approved", "denied", NULL
};
const struct intervention_word intervention_words[] = {
	{ "type", types },
	{ "outcome", outcomes },
	{ NULL, NULL },
};

int
intervention_word_known(const struct intervention_word *w, char *value)
{
	for (char *s = value; *s; s++)
		*s = (char)tolower((unsigned char)*s);
	for (const char *const *word = w->words; *word; word++)
		if (!strcmp(*word, value))
			return 1;
	return 0;
}

void
intervention_word_list(const struct intervention_word *w, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (const char *const *word = w->words; *word && used < len; word++) {
		int n = snprintf(buf + used, len - used, "%s%s",
		    word == w->words ? "" : word[1] ? ", " : " or ", *word);

		if (n < 0)
			break;
		used += (size_t)n;
	}
}

#define SLOTS 1024

/* Slots seen for the first time are written at most this often (after the
 * answer, see intervention_flush()), in one transaction. */
#define FRESH_EVERY_MS 20

/*
 * A slot keeps its key on the heap: the table is scanned whole (lookups,
 * flushes), and a process that serves one request (plain CGI) would
 * otherwise fault in a page per slot, a megabyte, to find one.
 */
struct slot {
	char *key;                  /* aggregation key, NULL when free */
	uint64_t hash;              /* SipHash of key, compared first */
	json_t *item;               /* what to merge: fields and count */
	long pending;               /* occurrences not yet written */
	int stored;                 /* written at least once */
	int64_t first_ms, last_ms, used_ms;
};

/* New slots opened per kill switch since the last periodic flush. */
struct opened {
	char ks_id[65];             /* "" when free */
	unsigned count;
};

static struct slot slots[SLOTS];
static int slots_used;           /* a slot was ever opened */
static struct opened opened[SLOTS];
static int64_t last_flush, last_fresh_flush;
static unsigned char hash_key[crypto_shorthash_KEYBYTES];
static int hash_key_ready;

/* A killed agent hammering check hits the same slot every time: find it
 * by a keyed 64-bit hash before comparing whole keys. */
static uint64_t
slot_hash(const char *key)
{
	unsigned char out[crypto_shorthash_BYTES];
	uint64_t h;

	if (!hash_key_ready) {
		crypto_shorthash_keygen(hash_key);
		hash_key_ready = 1;
	}
	crypto_shorthash(out, (const unsigned char *)key, strlen(key), hash_key);
	memcpy(&h, out, sizeof(h));
	return h;
}

static const char *
or_empty(const char *s)
{
	return s ? s : "";
}

static int
aggregation_key(char *buf, size_t len, const char *tenant, const json_t *item)
{
	return store_key(buf, len, tenant,
	    or_empty(json_string_value(json_object_get(item, "type"))),
	    or_empty(json_string_value(json_object_get(item, "outcome"))),
	    or_empty(json_string_value(json_object_get(item, "kill_switch_id"))),
	    or_empty(json_string_value(json_object_get(item, "agent_id"))),
	    or_empty(json_string_value(json_object_get(item, "run_id"))),
	    or_empty(json_string_value(json_object_get(item, "mission_id"))),
	    or_empty(json_string_value(json_object_get(item, "action_name"))),
	    json_is_true(json_object_get(item, "overflow")) ? "overflow" : NULL,
	    NULL);
}

int
intervention_merge(DB_TXN *txn, const char *tenant, json_t *item,
                   json_t **stored)
{
	char agg[STORE_KEY_MAX], key[STORE_KEY_MAX], id[ID_SIZE];
	const char *first, *last, *old_first, *old_last;
	json_t *rec = NULL, *known;
	json_int_t count;
	int rc;

	if (aggregation_key(agg, sizeof(agg), tenant, item) < 0)
		return EINVAL;
	count = json_integer_value(json_object_get(item, "count"));
	if (count < 1)
		count = 1;
	first = json_string_value(json_object_get(item, "first_seen"));
	last = json_string_value(json_object_get(item, "timestamp"));
	rc = store_get_json(txn, T_INTV_INDEX, agg, &known, DB_RMW);
	if (rc == 0) {
		snprintf(id, sizeof(id), "%s", json_string_value(known));
		json_decref(known);
		rc = store_key(key, sizeof(key), tenant, id, NULL) < 0 ? EINVAL :
		    store_get_json(txn, T_INTERVENTIONS, key, &rec, DB_RMW);
	}
	if (rc == DB_NOTFOUND) {
		id_random_hex(id, sizeof(id), "int_", 12);
		if (store_key(key, sizeof(key), tenant, id, NULL) < 0)
			return EINVAL;
		rec = json_deep_copy(item);
		json_object_set_new(rec, "id", json_string(id));
		json_object_set_new(rec, "organization_id", json_string(tenant));
		json_object_set_new(rec, "count", json_integer(0));
		json_object_set_new(rec, "first_seen", json_string(first));
		json_object_set_new(rec, "timestamp", json_string(last));
		if ((known = json_string(id)) == NULL)
			rc = ENOMEM;
		else {
			rc = store_put_json(txn, T_INTV_INDEX, agg, known, 0);
			json_decref(known);
		}
	}
	if (rc != 0) {
		json_decref(rec);
		return rc;
	}
	old_first = json_string_value(json_object_get(rec, "first_seen"));
	old_last = json_string_value(json_object_get(rec, "timestamp"));
	if (old_first == NULL || strcmp(first, old_first) < 0)
		json_object_set_new(rec, "first_seen", json_string(first));
	if (old_last == NULL || strcmp(last, old_last) > 0)
		json_object_set_new(rec, "timestamp", json_string(last));
	json_object_set_new(rec, "count", json_integer(
	    json_integer_value(json_object_get(rec, "count")) + count));
	rc = store_put_json(txn, T_INTERVENTIONS, key, rec, 0);
	if (rc == 0 && stored)
		*stored = json_incref(rec);
	json_decref(rec);
	return rc;
}

enum flush_what {
	FLUSH_ALL,           /* every slot with something pending */
	FLUSH_FRESH          /* the slots never written yet */
};

static int
write_slot(DB_TXN *txn, struct slot *s)
{
	char first[CLOCK_TEXT_SIZE], last[CLOCK_TEXT_SIZE];
	const char *tenant;
	json_t *item = json_deep_copy(s->item);
	int rc;

	clock_format(s->first_ms, first);
	clock_format(s->last_ms, last);
	json_object_set_new(item, "count", json_integer(s->pending));
	json_object_set_new(item, "first_seen", json_string(first));
	json_object_set_new(item, "timestamp", json_string(last));
	tenant = json_string_value(json_object_get(s->item, "organization_id"));
	json_object_del(item, "organization_id");
	rc = intervention_merge(txn, tenant, item, NULL);
	json_decref(item);
	return rc;
}

static int
wanted(enum flush_what what, const struct slot *s)
{
	return s->key != NULL && s->pending > 0 &&
	    (what == FLUSH_ALL || !s->stored);
}

static int
flush_txn(DB_TXN *txn, void *arg)
{
	const enum flush_what *what = arg;
	int rc;

	for (int i = 0; i < SLOTS; i++)
		if (wanted(*what, &slots[i]) && (rc = write_slot(txn, &slots[i])) != 0)
			return rc;
	return 0;
}

/* Writes the slots in one transaction; 0 when written. */
static int
flush_slots(enum flush_what what)
{
	int any = 0;

	/* most processes never block a check: nothing to walk */
	if (!slots_used)
		return 0;
	for (int i = 0; i < SLOTS && !any; i++)
		any = wanted(what, &slots[i]);
	if (!any)
		return 0;
	if (store_run(flush_txn, &what) != 0) {
		log_error("interventions could not be written; will retry");
		return -1;
	}
	for (int i = 0; i < SLOTS; i++) {
		struct slot *s = &slots[i];

		if (wanted(what, s)) {
			s->pending = 0;
			s->stored = 1;
			s->first_ms = s->last_ms;
		}
	}
	return 0;
}

void
intervention_flush(int force, unsigned every_ms)
{
	int64_t now = clock_now_ms();

	if (force || now - last_flush >= (int64_t)every_ms) {
		last_flush = last_fresh_flush = now;
		/* a new interval: each kill switch may open new slots again */
		if (flush_slots(FLUSH_ALL) == 0)
			memset(opened, 0, sizeof(opened));
		return;
	}
	if (now - last_fresh_flush >= FRESH_EVERY_MS) {
		last_fresh_flush = now;
		flush_slots(FLUSH_FRESH);
	}
}

/*
 * Counts a new slot for the kill switch; 0 when it has opened
 * INTERVENTION_NEW_PER_SWITCH already in this interval (or the table of
 * switches is full): the occurrence goes to the switch's overflow slot.
 */
static int
may_open(const char *ks_id)
{
	struct opened *free_entry = NULL;

	if (strlen(ks_id) >= sizeof(opened[0].ks_id))
		return 0;
	for (int i = 0; i < SLOTS; i++) {
		if (opened[i].ks_id[0] == '\0') {
			if (free_entry == NULL)
				free_entry = &opened[i];
			continue;
		}
		if (strcmp(opened[i].ks_id, ks_id) != 0)
			continue;
		if (opened[i].count >= INTERVENTION_NEW_PER_SWITCH)
			return 0;
		opened[i].count++;
		return 1;
	}
	if (free_entry == NULL)
		return 0;
	snprintf(free_entry->ks_id, sizeof(free_entry->ks_id), "%s", ks_id);
	free_entry->count = 1;
	return 1;
}

static struct slot *
lookup_slot(const char *key, uint64_t hash)
{
	for (int i = 0; i < SLOTS; i++)
		if (slots[i].hash == hash && slots[i].key != NULL &&
		    !strcmp(slots[i].key, key))
			return &slots[i];
	return NULL;
}

static struct slot *
new_slot(const char *key, uint64_t hash)
{
	struct slot *victim = NULL;

	for (int i = 0; i < SLOTS && victim == NULL; i++)
		if (slots[i].key == NULL)
			victim = &slots[i];
	if (victim == NULL) {
		/* evict the least recently used slot that has nothing pending */
		for (int i = 0; i < SLOTS; i++)
			if (slots[i].pending == 0 &&
			    (victim == NULL || slots[i].used_ms < victim->used_ms))
				victim = &slots[i];
	}
	if (victim == NULL) {
		/* every slot pending (many kill switches hammered at once):
		 * write them now, in this check, rather than drop any */
		if (flush_slots(FLUSH_ALL) != 0)
			return NULL;
		victim = &slots[0];
	}
	json_decref(victim->item);
	free(victim->key);
	memset(victim, 0, sizeof(*victim));
	if ((victim->key = strdup(key)) == NULL)
		return NULL;
	slots_used = 1;
	victim->hash = hash;
	return victim;
}

/* The slot key of a blocked check: the same fields, in the same order, as
 * aggregation_key(); the overflow slot has only the kill switch. */
static int
blocked_key(char *buf, size_t len, const struct blocked_check *b,
            const char *ks_id, int overflow)
{
	if (overflow)
		return store_key(buf, len, b->tenant, "hard_block", "blocked",
		    ks_id, "", "", "", "", "overflow", NULL);
	return store_key(buf, len, b->tenant, "hard_block", "blocked",
	    ks_id, or_empty(b->agent_id), or_empty(b->run_id),
	    or_empty(b->mission_id), or_empty(b->action), NULL);
}

void
intervention_blocked(const struct blocked_check *b)
{
	const json_t *ks = b->kill_switch;
	const char *ks_id = or_empty(json_string_value(json_object_get(ks, "id")));
	char key[STORE_KEY_MAX];
	struct slot *s;
	int64_t now = clock_now_ms();
	int overflow = 0;
	uint64_t hash;

	if (blocked_key(key, sizeof(key), b, ks_id, 0) < 0)
		return;
	hash = slot_hash(key);
	if ((s = lookup_slot(key, hash)) == NULL && !may_open(ks_id)) {
		overflow = 1;
		if (blocked_key(key, sizeof(key), b, ks_id, 1) < 0)
			return;
		hash = slot_hash(key);
		s = lookup_slot(key, hash);
	}
	if (s == NULL) {
		if ((s = new_slot(key, hash)) == NULL)
			return;
		s->item = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s}",
		    "type", "hard_block", "outcome", "blocked",
		    "action_name", json_str_or_null(overflow ? NULL : b->action),
		    "agent_id", json_str_or_null(overflow ? NULL : b->agent_id),
		    "run_id", json_str_or_null(overflow ? NULL : b->run_id),
		    "mission_id", json_str_or_null(overflow ? NULL : b->mission_id),
		    "reason", json_incref(json_object_get(ks, "reason")),
		    "killed_by", json_incref(json_object_get(ks, "killed_by")),
		    "kill_switch_id", json_incref(json_object_get(ks, "id")),
		    "organization_id", b->tenant);
		if (s->item != NULL && overflow)
			json_object_set_new(s->item, "overflow", json_true());
		if (s->item == NULL) {
			free(s->key);
			s->key = NULL;
			return;
		}
	}
	if (s->pending == 0)
		s->first_ms = now;
	s->pending++;
	s->last_ms = now;
	s->used_ms = now;
}

static int
field_is(const json_t *rec, const char *name, int has, const char *want)
{
	const char *v = json_string_value(json_object_get(rec, name));

	return !has || (v && !strcmp(v, want));
}

/* A listing's step: the intervention when it passes the filter. */
static int
filtered(void *arg, const void *key, size_t klen, json_t *rec, json_t **item)
{
	const struct intervention_filter *f = arg;
	const char *ts = json_string_value(json_object_get(rec, "timestamp"));

	(void)key;
	(void)klen;
	if (field_is(rec, "type", f->has_type, f->type) &&
	    field_is(rec, "outcome", f->has_outcome, f->outcome) &&
	    field_is(rec, "action_name", f->has_action, f->action) &&
	    field_is(rec, "agent_id", f->has_agent, f->agent) &&
	    field_is(rec, "run_id", f->has_run, f->run) &&
	    (!f->start[0] || (ts && strcmp(ts, f->start) >= 0)) &&
	    (!f->end[0] || (ts && strcmp(ts, f->end) <= 0)))
		*item = json_incref(rec);
	return 0;
}

int
intervention_list(const char *tenant, const struct intervention_filter *f,
                  json_t **items)
{
	return store_list_tenant(T_INTERVENTIONS, tenant, filtered, (void *)f,
	    items);
}
