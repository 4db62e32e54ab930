/* audit.c - append, verify and export audit events. */
#include <inttypes.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <sodium.h>

#include "audit.h"
#include "clock.h"
#include "ids.h"
#include "merkle.h"
#include "outbox.h"
#include "store.h"
#include "tlog.h"

#define META_AUDIT_HEAD "audit_head"
#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

static json_t *pending;          /* events of the open transaction */
static int sink_syslog;
static char sink_jsonl[4096];

void
audit_sinks_configure(const struct conf *conf)
{
	sink_syslog = conf->audit_syslog;
	snprintf(sink_jsonl, sizeof(sink_jsonl), "%s", conf->audit_jsonl);
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

static void
sha256_hex(const char *text, char out[65])
{
	unsigned char digest[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(digest, (const unsigned char *)text, strlen(text));
	sodium_bin2hex(out, 65, digest, sizeof(digest));
}

/* hash over the event without its "hash" member */
static int
event_hash(const json_t *event, char out[65])
{
	json_t *copy = json_copy((json_t *)event);
	char *canon;

	if (copy == NULL)
		return -1;
	json_object_del(copy, "hash");
	canon = tlog_canonical(copy);
	json_decref(copy);
	if (canon == NULL)
		return -1;
	sha256_hex(canon, out);
	free(canon);
	return 0;
}

int
audit_event_hash_ok(const json_t *event)
{
	const char *stored = json_string_value(json_object_get(event, "hash"));
	char computed[65];

	/* length first: sodium_memcmp reads all 64 bytes of both */
	return stored && strlen(stored) == 64 && event_hash(event, computed) == 0 &&
	    sodium_memcmp(stored, computed, 64) == 0;
}

static json_t *
nullable(const char *s)
{
	return s ? json_string(s) : json_null();
}

int
audit_append(DB_TXN *txn, const struct audit_entry *e, char *receipt_id,
             size_t receipt_len)
{
	char prev[65], hash[65], id[ID_SIZE], now[CLOCK_TEXT_SIZE];
	char rcpt[TLOG_RECEIPT_ID_SIZE], tkey[STORE_KEY_MAX];
	unsigned char seqkey[8];
	merkle_hash leaf;
	uint64_t seq;
	json_t *event, *head;
	char *canon;
	int rc, klen;

	if ((rc = audit_head(txn, &seq, prev, sizeof(prev))) != 0)
		return rc;
	seq++;
	id_random_hex(id, sizeof(id), "evt_", 12);
	clock_format(clock_now_ms(), now);
	tlog_receipt_id(seq - 1, rcpt);
	event = json_pack("{s:s, s:I, s:s, s:s, s:{s:o, s:o, s:o}, s:{s:o, s:o},"
	    " s:o, s:O, s:s, s:s, s:s}",
	    "id", id, "seq", (json_int_t)seq, "type", e->type,
	    "tenant", e->tenant,
	    "actor",
	        "key_id", nullable(e->who ? e->who->key_id : NULL),
	        "key_name", nullable(e->who ? e->who->name : "andonctl"),
	        "operator_id", nullable(e->operator_id),
	    "target", "type", nullable(e->target_type), "id", nullable(e->target_id),
	    "reason", nullable(e->reason),
	    "data", e->data ? e->data : json_null(),
	    "at", now, "prev_hash", prev, "receipt_id", rcpt);
	if (event == NULL)
		return ENOMEM;
	if (event_hash(event, hash) != 0) {
		json_decref(event);
		return ENOMEM;
	}
	json_object_set_new(event, "hash", json_string(hash));
	if ((canon = tlog_canonical(event)) == NULL) {
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
			memcpy(tkey + klen, seqkey, 8);
			rc = store_put(txn, T_AUDIT_TENANT, tkey, (size_t)klen + 8, "", 0, 0);
		}
	}
	if (rc == 0)
		rc = tlog_append(txn, seq - 1, leaf);
	if (rc == 0)
		rc = outbox_add(txn, event);  /* its webhook deliveries, same txn */
	if (rc == 0) {
		head = json_pack("{s:I, s:s}", "seq", (json_int_t)seq, "hash", hash);
		rc = store_put_json(txn, T_META, META_AUDIT_HEAD, head, 0);
		json_decref(head);
	}
	if (rc == 0) {
		if (pending == NULL)
			pending = json_array();
		json_array_append(pending, event);
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

void
audit_flush_pending(void)
{
	size_t i;
	json_t *event;

	if (pending == NULL)
		return;
	json_array_foreach(pending, i, event) {
		char *line = json_dumps(event, JSON_COMPACT);

		if (line == NULL)
			continue;
		if (sink_syslog)
			syslog(LOG_LOCAL0 | LOG_NOTICE, "%s", line);
		if (sink_jsonl[0]) {
			FILE *f = fopen(sink_jsonl, "a");

			if (f != NULL) {
				fprintf(f, "%s\n", line);
				fclose(f);
			}
		}
		free(line);
	}
	json_array_clear(pending);
}

void
audit_discard_pending(void)
{
	if (pending)
		json_array_clear(pending);
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
	if (ok && !audit_event_hash_ok(event)) {
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
