/* audit.c - append, verify and export audit events. */
#include <inttypes.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit.h"
#include "clock.h"
#include "encode.h"
#include "event.h"
#include "generation.h"
#include "ids.h"
#include "merkle.h"
#include "store.h"
#include "tlog.h"

#define META_AUDIT_HEAD STORE_AUDIT_HEAD
#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

int
audit_append_noted(DB_TXN *txn, const struct audit_entry *e, json_t *rec,
                   const char *member)
{
	char receipt[TLOG_LEAF_ID_SIZE];
	int rc = audit_append(txn, e, receipt, sizeof(receipt));

	if (rc == 0 && json_object_set_new(rec, member, json_string(receipt)) != 0)
		rc = ENOMEM;
	return rc;
}

int
audit_then_write(DB_TXN *txn, const struct audit_entry *e, json_t *rec,
                 const char *member, audit_write_fn write, const void *arg,
                 json_t **record)
{
	int rc = audit_append_noted(txn, e, rec, member);

	json_decref(e->data);
	if (rc == 0)
		rc = write(txn, rec, arg);
	if (rc != 0) {
		json_decref(rec);
		return rc;
	}
	*record = rec;
	return 0;
}

int
audit_head(DB_TXN *txn, uint64_t *seq, char *hash, size_t hashlen)
{
	json_t *head;
	int rc = store_get_json(txn, T_META, META_AUDIT_HEAD, &head,
	    txn ? DB_RMW : 0);

	if (rc == DB_NOTFOUND) {
		*seq = 0;
		if (hash)
			snprintf(hash, hashlen, "%s", ZERO_HASH);
		return 0;
	}
	if (rc != 0)
		return rc;
	*seq = (uint64_t)json_integer_value(json_object_get(head, "seq"));
	if (hash)
		snprintf(hash, hashlen, "%s",
		    json_string_value(json_object_get(head, "hash")));
	json_decref(head);
	return 0;
}

/*
 * The tenant index's value: what a query filters on, so that a query reads
 * only the events it answers with.  "type SEP target id SEP key id SEP key
 * name SEP operator id SEP at (ms)"; 0 (store "") when a part holds SEP
 * or it is too long: the query then reads the event itself.
 */
#define SUMMARY_PARTS 6

static int
index_summary(const struct audit_entry *e, int64_t at_ms, char *out, size_t len)
{
	char at[24];
	int n;

	snprintf(at, sizeof(at), "%" PRId64, at_ms);
	n = store_key(out, len, e->type, e->target_id ? e->target_id : "",
	    e->who ? e->who->key_id : "",
	    e->who ? e->who->name : "andonctl",
	    e->operator_id ? e->operator_id : "", at, NULL);

	return n < 0 ? 0 : n;
}

int
audit_append(DB_TXN *txn, const struct audit_entry *e, char *receipt_id,
             size_t receipt_len)
{
	char prev[65], hash[65], id[ID_SIZE], now[CLOCK_TEXT_SIZE];
	char rcpt[TLOG_LEAF_ID_SIZE], tkey[STORE_KEY_MAX];
	unsigned char seqkey[8];
	merkle_hash leaf;
	uint64_t seq;
	int64_t now_ms;
	json_t *event, *head;
	char *canon;
	int rc, klen;

	if ((rc = audit_head(txn, &seq, prev, sizeof(prev))) != 0)
		return rc;
	seq++;
	id_random_hex(id, sizeof(id), "evt_", 12);
	now_ms = clock_now_ms();
	clock_format(now_ms, now);
	tlog_leaf_id(seq - 1, rcpt);
	event = json_pack("{s:s, s:s, s:I, s:s, s:s, s:{s:o, s:o, s:o}, s:{s:o, s:o},"
	    " s:o, s:O, s:s, s:s, s:s}",
	    "canon", EVENT_CANON_JCS, "id", id, "seq", (json_int_t)seq, "type", e->type,
	    "tenant", e->tenant,
	    "actor",
	        "key_id", json_str_or_null(e->who ? e->who->key_id : NULL),
	        "key_name", json_str_or_null(e->who ? e->who->name : "andonctl"),
	        "operator_id", json_str_or_null(e->operator_id),
	    "target", "type", json_str_or_null(e->target_type),
	        "id", json_str_or_null(e->target_id),
	    "reason", json_str_or_null(e->reason),
	    "data", e->data ? e->data : json_null(),
	    "at", now, "prev_hash", prev, "receipt_id", rcpt);
	if (event == NULL)
		return ENOMEM;
	if (event_hash(event, hash) != 0) {
		json_decref(event);
		return ENOMEM;
	}
	json_object_set_new(event, "hash", json_string(hash));
	if ((canon = event_canonical(event)) == NULL) {
		json_decref(event);
		return ENOMEM;
	}
	merkle_leaf_hash(canon, strlen(canon), leaf);
	store_u64_be(seqkey, seq);
	rc = store_put(txn, T_AUDIT, seqkey, sizeof(seqkey), canon, strlen(canon),
	    DB_NOOVERWRITE);
	free(canon);
	if (rc == 0) {
		klen = store_key(tkey, sizeof(tkey) - 9, e->tenant, "", NULL);
		if (klen < 0)
			rc = EINVAL;
		else {
			char summary[STORE_KEY_MAX];
			int slen = index_summary(e, now_ms, summary, sizeof(summary));

			memcpy(tkey + klen, seqkey, 8);
			rc = store_put(txn, T_AUDIT_TENANT, tkey, (size_t)klen + 8,
			    summary, slen > 0 ? (size_t)slen : 0, 0);
		}
	}
	if (rc == 0)
		rc = store_put(txn, T_AUDIT_IDS, id, strlen(id), seqkey,
		    sizeof(seqkey), DB_NOOVERWRITE);
	if (rc == 0)
		rc = tlog_append(txn, seq - 1, leaf);
	if (rc == 0) {
		head = json_pack("{s:I, s:s}", "seq", (json_int_t)seq, "hash", hash);
		rc = store_put_json(txn, T_META, META_AUDIT_HEAD, head, 0);
		json_decref(head);
	}
	if (rc == 0) {
		/* wakes the SIEM sinks and the webhook fan-out; they read after
		 * the commit (generation.h) */
		generation_bump(GEN_AUDIT);
		if (receipt_id)
			snprintf(receipt_id, receipt_len, "%s", rcpt);
	}
	json_decref(event);
	return rc;
}

int
audit_get(DB_TXN *txn, uint64_t seq, json_t **event)
{
	unsigned char key[8];
	json_error_t err;
	void *val;
	size_t len;
	int rc;

	store_u64_be(key, seq);
	if ((rc = store_get(txn, T_AUDIT, key, sizeof(key), &val, &len, 0)) != 0)
		return rc;
	*event = json_loadb(val, len, 0, &err);
	free(val);
	return *event ? 0 : DB_NOTFOUND;
}

struct verify_state {
	uint64_t expected;
	char prev[65];
	char *why;
	size_t whylen;
	int failed;
};

static int
verify_one(void *arg, const void *key, size_t klen, const void *val,
           size_t vlen)
{
	struct verify_state *st = arg;
	merkle_hash leaf, stored;
	json_error_t err;
	uint64_t seq;
	json_t *event;
	const char *prev;
	int ok;

	if (klen != 8)
		return 0;
	seq = store_be_u64(key);
	event = json_loadb(val, vlen, 0, &err);
	st->expected++;
	ok = event != NULL && seq == st->expected;
	if (!ok)
		snprintf(st->why, st->whylen, "event %" PRIu64 " is missing or unreadable",
		    st->expected);
	prev = event ? json_string_value(json_object_get(event, "prev_hash")) : NULL;
	if (ok && (prev == NULL || strcmp(prev, st->prev) != 0)) {
		ok = 0;
		snprintf(st->why, st->whylen, "event %" PRIu64 " does not chain to its predecessor", seq);
	}
	if (ok && !event_hash_ok(event)) {
		ok = 0;
		snprintf(st->why, st->whylen, "event %" PRIu64 " has been altered", seq);
	}
	if (ok) {
		merkle_leaf_hash(val, vlen, leaf);
		if (tlog_node(NULL, 0, seq - 1, stored) != 0 ||
		    memcmp(leaf, stored, sizeof(leaf)) != 0) {
			ok = 0;
			snprintf(st->why, st->whylen,
			    "transparency log leaf %" PRIu64 " does not match event %" PRIu64,
			    seq - 1, seq);
		}
	}
	if (ok)
		snprintf(st->prev, sizeof(st->prev), "%s",
		    json_string_value(json_object_get(event, "hash")));
	json_decref(event);
	if (!ok) {
		st->failed = 1;
		return 1;
	}
	return 0;
}

/* Recomputes every complete subtree from the level below. */
static int
verify_tree(uint64_t size, char *why, size_t whylen)
{
	for (unsigned level = 1; level < 64 && (size >> level) > 0; level++) {
		for (uint64_t i = 0; i < (size >> level); i++) {
			merkle_hash left, right, want, got;

			if (tlog_node(NULL, level - 1, 2 * i, left) != 0 ||
			    tlog_node(NULL, level - 1, 2 * i + 1, right) != 0 ||
			    tlog_node(NULL, level, i, got) != 0) {
				snprintf(why, whylen, "transparency log node %u/%" PRIu64 " is missing", level, i);
				return -1;
			}
			merkle_node_hash(left, right, want);
			if (memcmp(want, got, sizeof(want)) != 0) {
				snprintf(why, whylen, "transparency log node %u/%" PRIu64 " is wrong", level, i);
				return -1;
			}
		}
	}
	return 0;
}

int
audit_verify_all(uint64_t *events, char *why, size_t whylen)
{
	struct verify_state st;
	char head_hash[65];
	uint64_t seq;
	int rc;

	memset(&st, 0, sizeof(st));
	snprintf(st.prev, sizeof(st.prev), "%s", ZERO_HASH);
	st.why = why;
	st.whylen = whylen;
	if ((rc = audit_head(NULL, &seq, head_hash, sizeof(head_hash))) != 0) {
		snprintf(why, whylen, "cannot read the audit head: %s", db_strerror(rc));
		return -1;
	}
	if ((rc = store_scan(NULL, T_AUDIT, "", 0, 0, verify_one, &st)) != 0 && !st.failed) {
		snprintf(why, whylen, "cannot read the audit trail: %s", db_strerror(rc));
		return -1;
	}
	*events = st.expected;
	if (st.failed)
		return -1;
	if (st.expected != seq || strcmp(st.prev, head_hash) != 0) {
		snprintf(why, whylen, "the audit head (%" PRIu64 ") does not match the trail (%" PRIu64 ")",
		    seq, st.expected);
		return -1;
	}
	return verify_tree(seq, why, whylen);
}

/*
 * Queries: a walk of the tenant's index (T_AUDIT_TENANT), a batch of keys
 * at a time, so no cursor stays open while the caller writes to a client
 * (an export to a slow reader must not hold a page lock a kill needs).
 */
#define QUERY_BATCH 512

struct query_state {
	const struct audit_filter *f;
	size_t plen;
	uint64_t seqs[QUERY_BATCH];
	size_t count;           /* matches in this batch */
	unsigned looked;        /* keys read in this batch */
	uint64_t last;          /* the last seq read */
	int stopped;            /* the batch ended before the range did */
};

/* The parts of an event the filters read. */
struct event_facts {
	const char *part[SUMMARY_PARTS];
	size_t len[SUMMARY_PARTS];
	int64_t at_ms;
};

enum { P_TYPE, P_TARGET, P_KEY_ID, P_KEY_NAME, P_OPERATOR, P_AT };

static int
split_summary(const char *val, size_t vlen, struct event_facts *ef)
{
	const char *p = val, *end = val + vlen;
	char at[24];

	for (int i = 0; i < SUMMARY_PARTS; i++) {
		const char *sep = memchr(p, KEY_SEP, (size_t)(end - p));

		if ((sep == NULL) != (i == SUMMARY_PARTS - 1))
			return -1;
		ef->part[i] = p;
		ef->len[i] = (size_t)((sep ? sep : end) - p);
		p = sep ? sep + 1 : end;
	}
	if (ef->len[P_AT] == 0 || ef->len[P_AT] >= sizeof(at))
		return -1;
	memcpy(at, ef->part[P_AT], ef->len[P_AT]);
	at[ef->len[P_AT]] = '\0';
	ef->at_ms = strtoll(at, NULL, 10);
	return 0;
}

static void
fact(struct event_facts *ef, int i, const json_t *v)
{
	ef->part[i] = json_is_string(v) ? json_string_value(v) : "";
	ef->len[i] = strlen(ef->part[i]);
}

/* An event indexed before the summary was kept: read it. */
static int
facts_of_event(uint64_t seq, json_t **keep, struct event_facts *ef)
{
	const json_t *actor;
	int rc;

	if ((rc = audit_get(NULL, seq, keep)) != 0)
		return rc;
	actor = json_object_get(*keep, "actor");
	fact(ef, P_TYPE, json_object_get(*keep, "type"));
	fact(ef, P_TARGET, json_object_get(json_object_get(*keep, "target"), "id"));
	fact(ef, P_KEY_ID, json_object_get(actor, "key_id"));
	fact(ef, P_KEY_NAME, json_object_get(actor, "key_name"));
	fact(ef, P_OPERATOR, json_object_get(actor, "operator_id"));
	if (clock_parse(json_string_value(json_object_get(*keep, "at")) ?
	    json_string_value(json_object_get(*keep, "at")) : "", &ef->at_ms) != 0)
		ef->at_ms = 0;
	return 0;
}

static int
part_is(const struct event_facts *ef, int i, const char *want)
{
	return strlen(want) == ef->len[i] && memcmp(ef->part[i], want, ef->len[i]) == 0;
}

static int
facts_match(const struct audit_filter *f, const struct event_facts *ef)
{
	if (f->type != NULL) {
		size_t tl = strlen(f->type);

		if (tl >= 2 && !strcmp(f->type + tl - 2, ".*")) {
			/* "killswitch.*": the prefix with its dot */
			if (ef->len[P_TYPE] < tl - 1 ||
			    memcmp(ef->part[P_TYPE], f->type, tl - 1) != 0)
				return 0;
		} else if (!part_is(ef, P_TYPE, f->type)) {
			return 0;
		}
	}
	if (f->target_id && !part_is(ef, P_TARGET, f->target_id))
		return 0;
	if (f->actor && !part_is(ef, P_KEY_ID, f->actor) &&
	    !part_is(ef, P_KEY_NAME, f->actor) && !part_is(ef, P_OPERATOR, f->actor))
		return 0;
	return ef->at_ms >= f->since_ms && ef->at_ms <= f->until_ms;
}

static int
query_one(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct query_state *st = arg;
	struct event_facts ef;
	json_t *event = NULL;
	uint64_t seq;
	int rc, match;

	if (klen != st->plen + 8)
		return 0;
	seq = store_be_u64((const unsigned char *)key + st->plen);
	if (seq <= st->f->after_seq)
		return st->f->newest_first ? 1 : 0;
	st->last = seq;
	if (vlen == 0 || split_summary(val, vlen, &ef) != 0) {
		if ((rc = facts_of_event(seq, &event, &ef)) != 0)
			return rc == DB_NOTFOUND ? 0 : rc;
	}
	match = facts_match(st->f, &ef);
	json_decref(event);
	if (match)
		st->seqs[st->count++] = seq;
	/* a batch holds QUERY_BATCH matches or reads 8 times as many keys */
	if (st->count == QUERY_BATCH || ++st->looked == 8 * QUERY_BATCH) {
		st->stopped = 1;
		return 1;
	}
	return 0;
}

int
audit_query(const struct audit_filter *f, audit_match_fn fn, void *arg)
{
	struct query_state *st;
	char prefix[STORE_KEY_MAX];
	unsigned char start[STORE_KEY_MAX];
	int plen, rc = 0, first = 1;

	if ((plen = store_key(prefix, sizeof(prefix) - 9, f->tenant, "", NULL)) < 0)
		return EINVAL;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return ENOMEM;
	st->f = f;
	st->plen = (size_t)plen;
	memcpy(start, prefix, (size_t)plen);
	st->last = f->after_seq;
	do {
		const unsigned char *from = start;

		if (f->newest_first && first)
			from = NULL;            /* from the tenant's last event */
		else if (f->newest_first && st->last <= 1)
			break;
		else
			store_u64_be(start + plen, f->newest_first ? st->last - 1 : st->last + 1);
		first = 0;
		st->count = 0;
		st->looked = 0;
		st->stopped = 0;
		rc = store_scan_from(NULL, T_AUDIT_TENANT, prefix, (size_t)plen,
		    from, (size_t)plen + 8, f->newest_first, query_one, st);
		for (size_t i = 0; rc == 0 && i < st->count; i++) {
			int stop = fn(arg, st->seqs[i]);

			if (stop != 0) {
				rc = stop == 1 ? 0 : stop;
				st->stopped = 0;
				break;
			}
		}
	} while (rc == 0 && st->stopped);
	free(st);
	return rc;
}

int
audit_get_text(uint64_t seq, char **buf, size_t *cap, size_t *len)
{
	unsigned char key[8];
	void *b = *buf;
	int rc;

	store_u64_be(key, seq);
	rc = store_get_buf(NULL, T_AUDIT, key, sizeof(key), &b, cap, len);
	*buf = b;
	return rc;
}

/* An event written before the id index: look through the tenant's
 * events written before the index summaries, which are the first ones of
 * its index (the walk ends at the first summary). */
struct find_state {
	const char *id;
	size_t plen;
	uint64_t seq;
};

static int
find_legacy(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct find_state *st = arg;
	json_t *event;
	uint64_t seq;
	int found;

	(void)val;
	if (vlen != 0)
		return 1;
	if (klen != st->plen + 8)
		return 0;
	seq = store_be_u64((const unsigned char *)key + st->plen);
	if (audit_get(NULL, seq, &event) != 0)
		return 0;
	found = json_is_string(json_object_get(event, "id")) &&
	    !strcmp(json_string_value(json_object_get(event, "id")), st->id);
	json_decref(event);
	if (found)
		st->seq = seq;
	return found;
}

int
audit_find(const char *tenant, const char *id, json_t **event)
{
	struct find_state st = { id, 0, 0 };
	char prefix[STORE_KEY_MAX];
	const char *owner;
	void *val;
	size_t len;
	int plen, rc;

	rc = store_get(NULL, T_AUDIT_IDS, id, strlen(id), &val, &len, 0);
	if (rc == 0) {
		if (len == 8)
			st.seq = store_be_u64(val);
		free(val);
	} else if (rc != DB_NOTFOUND) {
		return rc;
	}
	if (st.seq == 0) {
		if ((plen = store_key(prefix, sizeof(prefix), tenant, "", NULL)) < 0)
			return DB_NOTFOUND;
		st.plen = (size_t)plen;
		if ((rc = store_scan(NULL, T_AUDIT_TENANT, prefix, st.plen, 0,
		    find_legacy, &st)) != 0)
			return rc;
		if (st.seq == 0)
			return DB_NOTFOUND;
	}
	if ((rc = audit_get(NULL, st.seq, event)) != 0)
		return rc;
	owner = json_string_value(json_object_get(*event, "tenant"));
	if (owner == NULL || strcmp(owner, tenant) != 0) {
		json_decref(*event);
		*event = NULL;
		return DB_NOTFOUND;
	}
	return 0;
}
