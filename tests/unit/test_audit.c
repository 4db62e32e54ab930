/* test_audit.c - unit tests of lib/audit.c (Check). */
#include "audit.h"
#include "event.h"
#include "jcs.h"
#include "store.h"
#include "tlog.h"
#include "unit.h"

static int
append_then_fail(DB_TXN *txn, void *arg)
{
	int n = 1, rc = append_events(txn, &n);

	(void)arg;
	return rc != 0 ? rc : STORE_ROLLBACK;
}

/* Rewrites stored event seq through fn; with rehash its own hash too. */
static void
rewrite_event(uint64_t seq, const char *reason, int rehash)
{
	unsigned char key[8], digest[crypto_hash_sha256_BYTES];
	char hex[65], *text;
	json_t *event;

	ck_assert_int_eq(audit_get(NULL, seq, &event), 0);
	ck_assert(event_hash_ok(event));
	json_object_set_new(event, "reason", json_string(reason));
	ck_assert(!event_hash_ok(event));
	if (rehash) {
		/* a careful forger recomputes the event's own hash */
		json_object_del(event, "hash");
		text = event_canonical(event);
		crypto_hash_sha256(digest, (unsigned char *)text, strlen(text));
		free(text);
		sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
		json_object_set_new(event, "hash", json_string(hex));
		ck_assert(event_hash_ok(event));
	}
	text = event_canonical(event);
	store_u64_be(key, seq);
	ck_assert_int_eq(store_put(NULL, T_AUDIT, key, 8, text, strlen(text), 0), 0);
	free(text);
	json_decref(event);
}

START_TEST(audit_chain_verifies)
{
	uint64_t events, seq;
	char why[256] = "", head[65];
	json_t *e1, *e2;

	append_n(7);
	ck_assert_msg(audit_verify_all(&events, why, sizeof(why)) == 0, "%s", why);
	ck_assert_uint_eq(events, 7);
	append_n(3);
	ck_assert_msg(audit_verify_all(&events, why, sizeof(why)) == 0, "%s", why);
	ck_assert_uint_eq(events, 10);

	/* the chain: each event names its predecessor's hash */
	ck_assert_int_eq(audit_get(NULL, 1, &e1), 0);
	ck_assert_int_eq(audit_get(NULL, 2, &e2), 0);
	ck_assert_str_eq(json_string_value(json_object_get(e1, "prev_hash")),
	    "0000000000000000000000000000000000000000000000000000000000000000");
	ck_assert_str_eq(json_string_value(json_object_get(e2, "prev_hash")),
	    json_string_value(json_object_get(e1, "hash")));
	ck_assert_int_eq(json_integer_value(json_object_get(e2, "seq")), 2);
	ck_assert_str_eq(json_string_value(json_object_get(e2, "tenant")), "org_a");
	ck_assert_str_eq(json_string_value(json_object_get(e2, "reason")), "unit test");
	json_decref(e1);
	json_decref(e2);
	ck_assert_int_eq(audit_head(NULL, &seq, head, sizeof(head)), 0);
	ck_assert_uint_eq(seq, 10);
	ck_assert_int_eq(audit_get(NULL, 10, &e1), 0);
	ck_assert_str_eq(head, json_string_value(json_object_get(e1, "hash")));
	json_decref(e1);
	ck_assert_int_eq(audit_get(NULL, 11, &e1), DB_NOTFOUND);

	/* events of a rolled-back transaction leave no trace */
	ck_assert_int_eq(store_run(append_then_fail, NULL), 0);
	ck_assert_int_eq(audit_head(NULL, &seq, NULL, 0), 0);
	ck_assert_uint_eq(seq, 10);
	ck_assert_msg(audit_verify_all(&events, why, sizeof(why)) == 0, "%s", why);
}
END_TEST

START_TEST(audit_chain_empty_verifies)
{
	uint64_t events = 99;
	char why[256] = "";

	ck_assert_msg(audit_verify_all(&events, why, sizeof(why)) == 0, "%s", why);
	ck_assert_uint_eq(events, 0);
}
END_TEST

START_TEST(audit_detects_an_altered_event)
{
	uint64_t events;
	char why[256];

	append_n(7);
	rewrite_event(3, "nothing to see", 0);
	ck_assert_int_ne(audit_verify_all(&events, why, sizeof(why)), 0);
	ck_assert(strstr(why, "3") != NULL);
}
END_TEST

START_TEST(audit_detects_a_rehashed_event)
{
	uint64_t events;
	char why[256];

	/* the last event: no successor's prev_hash gives it away, the
	 * audit head and the transparency log leaf do */
	append_n(4);
	rewrite_event(4, "rewritten", 1);
	ck_assert_int_ne(audit_verify_all(&events, why, sizeof(why)), 0);
	/* a middle one: its successor no longer chains */
	store_teardown();
	store_setup();
	append_n(4);
	rewrite_event(2, "rewritten", 1);
	ck_assert_int_ne(audit_verify_all(&events, why, sizeof(why)), 0);
}
END_TEST

START_TEST(audit_detects_a_deleted_event)
{
	unsigned char key[8];
	uint64_t events;
	char why[256];

	append_n(5);
	store_u64_be(key, 2);
	ck_assert_int_eq(store_del(NULL, T_AUDIT, key, 8), 0);
	ck_assert_int_ne(audit_verify_all(&events, why, sizeof(why)), 0);
	/* and the last one */
	store_teardown();
	store_setup();
	append_n(5);
	store_u64_be(key, 5);
	ck_assert_int_eq(store_del(NULL, T_AUDIT, key, 8), 0);
	ck_assert_int_ne(audit_verify_all(&events, why, sizeof(why)), 0);
}
END_TEST

START_TEST(audit_detects_a_tampered_log_node)
{
	unsigned char key[9];
	merkle_hash node;
	uint64_t events;
	char why[256];

	append_n(6);
	/* level 1, index 1: the node over leaves 2 and 3 */
	key[0] = 1;
	store_u64_be(key + 1, 1);
	ck_assert_int_eq(tlog_node(NULL, 1, 1, node), 0);
	node[5] ^= 0x40;
	ck_assert_int_eq(store_put(NULL, T_TLOG, key, sizeof(key), node, sizeof(node), 0), 0);
	ck_assert_int_ne(audit_verify_all(&events, why, sizeof(why)), 0);
	ck_assert(strstr(why, "transparency") != NULL);
}
END_TEST

START_TEST(audit_event_hash_checks)
{
	json_t *event;

	append_n(1);
	ck_assert_int_eq(audit_get(NULL, 1, &event), 0);
	ck_assert(event_hash_ok(event));
	/* short, long, missing or non-string hashes are refused (and the
	 * check never reads past a short one) */
	json_object_set_new(event, "hash", json_string("abc"));
	ck_assert(!event_hash_ok(event));
	json_object_set_new(event, "hash", json_string(""));
	ck_assert(!event_hash_ok(event));
	json_object_set_new(event, "hash", json_integer(7));
	ck_assert(!event_hash_ok(event));
	json_object_del(event, "hash");
	ck_assert(!event_hash_ok(event));
	json_decref(event);

	ck_assert_int_eq(audit_get(NULL, 1, &event), 0);
	{
		char longer[80];

		snprintf(longer, sizeof(longer), "%s00",
		    json_string_value(json_object_get(event, "hash")));
		json_object_set_new(event, "hash", json_string(longer));
		ck_assert(!event_hash_ok(event));
	}
	json_decref(event);
}
END_TEST

static int
collect_seq(void *arg, uint64_t seq)
{
	json_array_append_new(arg, json_integer((json_int_t)seq));
	return 0;
}

/* The seqs a query finds, as a compact JSON array. */
static char *
query_seqs(const char *tenant, const char *type, const char *target, int newest_first,
           uint64_t after)
{
	struct audit_filter f = { tenant, type, target, NULL, INT64_MIN, INT64_MAX,
	    after, newest_first };
	json_t *seqs = json_array();
	char *text;

	ck_assert_int_eq(audit_query(&f, collect_seq, seqs), 0);
	text = json_dumps(seqs, JSON_COMPACT);
	json_decref(seqs);
	return text;
}

START_TEST(audit_queries_walk_the_tenant_index)
{
	char key[64], id[64], *text;
	json_t *event, *found;
	int klen;

	append_n(6);   /* org_b: 1 3 5, org_a: 2 4 6; targets t-0 .. t-5 */
	text = query_seqs("org_a", NULL, NULL, 0, 0);
	ck_assert_str_eq(text, "[2,4,6]");
	free(text);
	text = query_seqs("org_a", NULL, NULL, 1, 0);
	ck_assert_str_eq(text, "[6,4,2]");
	free(text);
	text = query_seqs("org_a", NULL, NULL, 1, 2);
	ck_assert_str_eq(text, "[6,4]");
	free(text);
	text = query_seqs("org_b", "killswitch.*", "t-2", 0, 0);
	ck_assert_str_eq(text, "[3]");
	free(text);
	text = query_seqs("org_b", "killswitch", NULL, 0, 0);
	ck_assert_str_eq(text, "[]");
	free(text);
	text = query_seqs("org_c", NULL, NULL, 0, 0);
	ck_assert_str_eq(text, "[]");
	free(text);

	/* by id, in its own tenant only */
	ck_assert_int_eq(audit_get(NULL, 4, &event), 0);
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(event, "id")));
	json_decref(event);
	ck_assert_int_eq(audit_find("org_a", id, &found), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(found, "seq")), 4);
	json_decref(found);
	ck_assert_int_eq(audit_find("org_b", id, &found), DB_NOTFOUND);
	ck_assert_int_eq(audit_find("org_a", "evt_nothing", &found), DB_NOTFOUND);
	/* events indexed before the summaries and the id index: the first
	 * ones of the tenant's index, read and matched whole */
	klen = store_key(key, sizeof(key) - 9, "org_a", "", NULL);
	for (uint64_t seq = 2; seq <= 4; seq += 2) {
		store_u64_be((unsigned char *)key + klen, seq);
		ck_assert_int_eq(store_put(NULL, T_AUDIT_TENANT, key, (size_t)klen + 8,
		    "", 0, 0), 0);
	}
	ck_assert_int_eq(store_del(NULL, T_AUDIT_IDS, id, strlen(id)), 0);
	ck_assert_int_eq(audit_find("org_a", id, &found), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(found, "seq")), 4);
	json_decref(found);
	ck_assert_int_eq(audit_find("org_b", id, &found), DB_NOTFOUND);
	text = query_seqs("org_a", "killswitch.activated", "t-3", 1, 0);
	ck_assert_str_eq(text, "[4]");
	free(text);
	text = query_seqs("org_a", NULL, NULL, 1, 0);
	ck_assert_str_eq(text, "[6,4,2]");
	free(text);
}
END_TEST

START_TEST(audit_events_hash_their_jcs_form)
{
	json_t *event, *legacy;
	char *text, *jcs;
	uint64_t events;
	char why[256];

	append_n(1);
	ck_assert_int_eq(audit_get(NULL, 1, &event), 0);
	/* new events are marked, stored and hashed in RFC 8785 form */
	ck_assert_str_eq(json_string_value(json_object_get(event, "canon")), "jcs");
	json_object_set_new(event, "reason", json_string("Drained \u20ac3k \u2014 \u00fcber limit"));
	text = event_canonical(event);
	jcs = jcs_dump(event, NULL);
	ck_assert_str_eq(text, jcs);
	ck_assert_ptr_nonnull(strstr(text, "\u20ac3k"));
	free(text);
	free(jcs);
	/* an event without the marker (written before it) keeps the old rule */
	legacy = json_deep_copy(event);
	json_object_del(legacy, "canon");
	text = event_canonical(legacy);
	ck_assert_ptr_nonnull(strstr(text, "\\u20AC3k"));
	free(text);
	/* an unknown marker is not guessed at */
	json_object_set_new(legacy, "canon", json_string("v9"));
	ck_assert_ptr_null(event_canonical(legacy));
	ck_assert(!event_hash_ok(legacy));
	json_decref(legacy);
	json_decref(event);
	ck_assert_msg(audit_verify_all(&events, why, sizeof(why)) == 0, "%s", why);
}
END_TEST

UNIT_MAIN("audit", UNIT_STORE | UNIT_SLOW, audit_chain_verifies,
    audit_chain_empty_verifies, audit_detects_an_altered_event,
    audit_detects_a_rehashed_event, audit_detects_a_deleted_event,
    audit_detects_a_tampered_log_node, audit_event_hash_checks,
    audit_events_hash_their_jcs_form, audit_queries_walk_the_tenant_index)
