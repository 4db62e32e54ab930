/* killswitch.c - kill-switch records, their keys, reads and writes. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "audit.h"
#include "clock.h"
#include "encode.h"
#include "ids.h"
#include "killswitch.h"
#include "store.h"

const char *const killswitch_target_types[] = { "agent", "run", "mission", NULL };

/* The key of a target's active switch in T_KS_ACTIVE (and of its alias in
 * T_KS_ALIASES): its length, or -1 when too long. */
static int
active_key(char *buf, size_t len, const char *tenant, const char *type,
           const char *target)
{
	return store_key(buf, len, tenant, type, target, NULL);
}

/* The other id of the registry agent an agent target names, into other
 * ("" when the target names none of the tenant's agents): 0 or a DB error. */
static int
target_other(DB_TXN *txn, const char *tenant, const char *type,
             const char *target, char *other, size_t len)
{
	int rc = DB_NOTFOUND;

	if (!strcmp(type, "agent"))
		rc = agent_other_ref(txn, tenant, target, other, len);
	if (rc == DB_NOTFOUND)
		other[0] = '\0';
	return rc == DB_NOTFOUND ? 0 : rc;
}

/* The active summary for a target: 0, DB_NOTFOUND or a DB error. */
static int
find_active_summary(DB_TXN *txn, const char *tenant, const char *type,
                    const char *target, json_t **summary, uint32_t flags)
{
	char key[STORE_KEY_MAX];

	if (active_key(key, sizeof(key), tenant, type, target) < 0)
		return DB_NOTFOUND;
	return store_get_json(txn, T_KS_ACTIVE, key, summary, flags);
}

/* The active record for a target: 0, DB_NOTFOUND or a DB error. */
static int
find_active(DB_TXN *txn, const char *tenant, const char *type,
            const char *target, json_t **record, uint32_t flags)
{
	char rkey[STORE_KEY_MAX];
	json_t *summary;
	int rc;

	if ((rc = find_active_summary(txn, tenant, type, target, &summary, flags)) != 0)
		return rc;
	rc = store_key(rkey, sizeof(rkey), tenant,
	    json_string_value(json_object_get(summary, "id")), NULL);
	json_decref(summary);
	if (rc < 0)
		return DB_NOTFOUND;
	return store_get_json(txn, T_KILLSWITCH, rkey, record, flags);
}

/* Writes a new switch: the record, the active summary (and its alias under
 * the agent's other id), the history entry. */
/* Where a switch's record and its active summary go: the tenant, and for
 * a registry agent the summary's alias under its other id. */
struct switch_keys {
	const char *tenant;
	const char *type, *named;   /* the summary's key (a revive) */
	const char *alias;          /* "" or NULL: none */
};

static int
write_switch(DB_TXN *txn, const json_t *rec, const void *arg)
{
	const struct switch_keys *k = arg;
	const char *tenant = k->tenant, *other = k->alias;
	const char *id = json_string_value(json_object_get(rec, "id"));
	const char *type = json_string_value(json_object_get(rec, "target_type"));
	const char *target = json_string_value(json_object_get(rec, "target_id"));
	char key[STORE_KEY_MAX];
	json_t *summary;
	int rc;

	if (store_key(key, sizeof(key), tenant, id, NULL) < 0)
		return EINVAL;
	if ((rc = store_put_json(txn, T_KILLSWITCH, key, rec, DB_NOOVERWRITE)) != 0)
		return rc;
	if (active_key(key, sizeof(key), tenant, type, target) < 0)
		return EINVAL;
	summary = json_pack("{s:s, s:O, s:O, s:O}", "id", id,
	    "reason", json_object_get(rec, "reason"),
	    "killed_at", json_object_get(rec, "killed_at"),
	    "killed_by", json_object_get(rec, "killed_by"));
	if (summary == NULL)
		return ENOMEM;
	rc = store_put_json(txn, T_KS_ACTIVE, key, summary, DB_NOOVERWRITE);
	if (rc == 0 && other[0])
		rc = active_key(key, sizeof(key), tenant, type, other) < 0
		    ? EINVAL : store_put_json(txn, T_KS_ALIASES, key, summary, 0);
	json_decref(summary);
	if (rc != 0)
		return rc;
	if (store_key(key, sizeof(key), tenant, type, target, id, NULL) < 0)
		return EINVAL;
	return store_put(txn, T_KS_HISTORY, key, strlen(key), "", 0, 0);
}

int
killswitch_kill(DB_TXN *txn, const struct principal *who, const char *type,
                const char *target, const char *reason, json_t **record,
                struct problem *p)
{
	char id[37], now[CLOCK_TEXT_SIZE];
	char other[KILLSWITCH_TARGET_SIZE];
	const char *first, *second;
	json_t *rec;
	int rc;

	*record = NULL;
	if ((rc = target_other(txn, who->tenant, type, target, other,
	    sizeof(other))) != 0)
		return rc;
	/* a switch under either id of the agent is this target's; both are
	 * locked in one order, so kills by the two ids do not deadlock */
	first = other[0] && strcmp(other, target) < 0 ? other : target;
	second = !other[0] ? NULL : first == target ? other : target;
	rc = find_active_summary(txn, who->tenant, type, first, &rec, DB_RMW);
	if (rc == DB_NOTFOUND && second != NULL)
		rc = find_active_summary(txn, who->tenant, type, second, &rec,
		    DB_RMW);
	if (rc == 0) {
		json_decref(rec);
		problem_set(p, 409, "already_killed", "%s %s is already killed",
		    type, target);
		return -1;
	}
	if (rc != DB_NOTFOUND)
		return rc;
	id_uuid4(id);
	clock_format(clock_now_ms(), now);
	rec = json_pack("{s:s, s:s, s:s, s:o, s:b, s:s, s:s, s:n, s:n, s:s}",
	    "id", id, "target_type", type, "target_id", target,
	    "reason", json_str_or_null(reason), "is_active", 1,
	    "killed_by", who->key_id, "killed_at", now,
	    "revived_by", "revived_at", "organization_id", who->tenant);
	if (rec == NULL)
		return ENOMEM;
	{
		struct audit_entry e = { who->tenant, "killswitch.activated",
		    who, NULL, type, target, reason,
		    json_pack("{s:s}", "kill_switch_id", id) };
		struct switch_keys k = { .tenant = who->tenant, .alias = other };

		return audit_then_write(txn, &e, rec, "receipt_id", write_switch,
		    &k, record);
	}
}

/* Writes a revived record back and drops its active summary (under named)
 * and its alias (under alias, when the target is a registry agent). */
static int
write_revived(DB_TXN *txn, const json_t *rec, const void *arg)
{
	const struct switch_keys *k = arg;
	const char *tenant = k->tenant, *type = k->type, *named = k->named;
	const char *alias = k->alias;
	char key[STORE_KEY_MAX];
	int rc;

	if (store_key(key, sizeof(key), tenant,
	    json_string_value(json_object_get(rec, "id")), NULL) < 0)
		return EINVAL;
	if ((rc = store_put_json(txn, T_KILLSWITCH, key, rec, 0)) != 0)
		return rc;
	if (active_key(key, sizeof(key), tenant, type, named) < 0)
		return EINVAL;
	if ((rc = store_del(txn, T_KS_ACTIVE, key, strlen(key))) != 0)
		return rc;
	if (alias == NULL)
		return 0;
	rc = active_key(key, sizeof(key), tenant, type, alias) < 0
	    ? EINVAL : store_del(txn, T_KS_ALIASES, key, strlen(key));
	return rc == DB_NOTFOUND ? 0 : rc;     /* a switch older than the aliases */
}

int
killswitch_revive(DB_TXN *txn, const struct principal *who, const char *type,
                  const char *target, json_t **record, struct problem *p)
{
	char now[CLOCK_TEXT_SIZE];
	char other[KILLSWITCH_TARGET_SIZE];
	const char *named = target, *alias;
	json_t *rec;
	int rc;

	*record = NULL;
	if ((rc = target_other(txn, who->tenant, type, target, other,
	    sizeof(other))) != 0)
		return rc;
	alias = other[0] ? other : NULL;
	rc = find_active(txn, who->tenant, type, target, &rec, DB_RMW);
	if (rc == DB_NOTFOUND && alias != NULL) {
		/* killed by the agent's other id */
		rc = find_active(txn, who->tenant, type, other, &rec, DB_RMW);
		named = other;
		alias = target;
	}
	if (rc == DB_NOTFOUND) {
		problem_set(p, 404, "not_killed",
		    "there is no active kill switch for %s %s", type, target);
		return -1;
	}
	if (rc != 0)
		return rc;
	clock_format(clock_now_ms(), now);
	json_object_set_new(rec, "is_active", json_false());
	json_object_set_new(rec, "revived_by", json_string(who->key_id));
	json_object_set_new(rec, "revived_at", json_string(now));
	{
		struct audit_entry e = { who->tenant, "killswitch.revived",
		    who, NULL, type, target, NULL,
		    json_pack("{s:O}", "kill_switch_id", json_object_get(rec, "id")) };
		struct switch_keys k = { who->tenant, type, named, alias };

		return audit_then_write(txn, &e, rec, "revive_receipt_id",
		    write_revived, &k, record);
	}
}

/* The stop of a suspended or revoked registry agent shaped as the check
 * reads a switch. */
static int
stop_as_switch(const char *tenant, const char *ref, json_t **summary)
{
	json_t *stop;
	int rc = agent_stop_find(NULL, tenant, ref, &stop);

	*summary = NULL;
	if (rc != 0)
		return rc;
	*summary = json_pack("{s:n, s:s, s:s, s:O, s:O, s:n, s:s, s:O}",
	    "id", "target_type", "agent", "target_id", ref,
	    "reason", json_object_get(stop, "reason"),
	    "killed_at", json_object_get(stop, "at"), "killed_by",
	    "source", "agent_status", "agent_status", json_object_get(stop, "status"));
	json_decref(stop);
	return *summary ? 0 : ENOMEM;
}

/*
 * The check's read of a target's active summary: parsed once per process
 * while its stored bytes stay the same, since a killed agent may check many
 * times a second.  For an agent, then the summary its registry agent's
 * switch has under its other id (only for a target shaped like a registry
 * id), then a suspension or revocation: both kinds of stop are one answer.
 */
int
killswitch_check(const char *tenant, const char *type, const char *target,
                 json_t **summary)
{
	char key[STORE_KEY_MAX];
	int agent = !strcmp(type, "agent"), rc;

	*summary = NULL;
	if (active_key(key, sizeof(key), tenant, type, target) < 0)
		return DB_NOTFOUND;
	rc = store_get_json_shared(T_KS_ACTIVE, key, summary);
	if (rc == DB_NOTFOUND && agent && agent_ref_shaped(target))
		/* a registry agent killed by its other id */
		rc = store_get_json_shared(T_KS_ALIASES, key, summary);
	if (rc == DB_NOTFOUND && agent)
		rc = stop_as_switch(tenant, target, summary);
	return rc;
}

int
killswitch_agent_switched(DB_TXN *txn, const char *tenant, const char *uuid,
                          const char *agent_id)
{
	const char *refs[2] = { uuid, agent_id };
	char key[STORE_KEY_MAX];
	int rc = DB_NOTFOUND;

	for (int i = 0; i < 2 && rc == DB_NOTFOUND; i++)
		rc = refs[i] == NULL ||
		    active_key(key, sizeof(key), tenant, "agent", refs[i]) < 0
		    ? EINVAL : store_exists(txn, T_KS_ACTIVE, key, strlen(key));
	return rc;
}

/* The tenant's switch id into *item (passed over when gone). */
static int
record_item(const char *tenant, const char *id, json_t **item)
{
	char rkey[STORE_KEY_MAX];
	int rc;

	if (store_key(rkey, sizeof(rkey), tenant, id, NULL) < 0)
		return 0;
	rc = store_get_json(NULL, T_KILLSWITCH, rkey, item, 0);
	return rc == DB_NOTFOUND ? 0 : rc;
}

/* A listing's step: an active switch's summary (T_KS_ACTIVE) names its
 * record. */
static int
active_item(void *arg, const void *key, size_t klen, json_t *summary,
            json_t **item)
{
	const char *id = json_string_value(json_object_get(summary, "id"));

	(void)key;
	(void)klen;
	return id == NULL ? 0 : record_item(arg, id, item);
}

int
killswitch_list_active(const char *tenant, json_t **items)
{
	return store_list_tenant(T_KS_ACTIVE, tenant, active_item, (void *)tenant,
	    items);
}

struct history_scan {
	json_t *items;
	const char *tenant;
	int rc;
};

/* The keys of T_KS_HISTORY end with the id of a record in T_KILLSWITCH
 * (their values are empty). */
static int
history_record(void *arg, const void *key, size_t klen, const void *val,
               size_t vlen)
{
	struct history_scan *h = arg;
	const char *last = memrchr(key, KEY_SEP, klen);
	char id[64];
	json_t *rec = NULL;
	size_t n;

	(void)val;
	(void)vlen;
	if (last == NULL || (n = (size_t)((const char *)key + klen - last - 1)) >= sizeof(id))
		return 0;
	memcpy(id, last + 1, n);
	id[n] = '\0';
	if ((h->rc = record_item(h->tenant, id, &rec)) != 0)
		return -1;
	if (rec != NULL && json_array_append_new(h->items, rec) != 0) {
		h->rc = ENOMEM;
		return -1;
	}
	return 0;
}

/* The records the history keys under prefix name, into h->items. */
static int
collect(struct history_scan *h, const char *prefix, int len)
{
	int rc;

	if (len < 0)
		return EINVAL;
	rc = store_scan(NULL, T_KS_HISTORY, prefix, (size_t)len, 0, history_record, h);
	return h->rc ? h->rc : rc;
}

int
killswitch_history(const char *tenant, const char *type, const char *target,
                   json_t **items, struct problem *p)
{
	struct history_scan col = { json_array(), tenant, 0 };
	char prefix[STORE_KEY_MAX], other[KILLSWITCH_TARGET_SIZE];
	int len, rc;

	*items = NULL;
	if (target != NULL)
		len = store_key(prefix, sizeof(prefix), tenant, type, target, "", NULL);
	else if (type != NULL)
		len = store_key(prefix, sizeof(prefix), tenant, type, "", NULL);
	else
		len = store_key(prefix, sizeof(prefix), tenant, "", NULL);
	if (len < 0) {
		json_decref(col.items);
		problem_set(p, 400, "invalid_query", "target_id is not valid");
		return -1;
	}
	rc = collect(&col, prefix, len);
	/* a registry agent is one target: the switches its other id named */
	if (rc == 0 && target != NULL)
		rc = target_other(NULL, tenant, type, target, other, sizeof(other));
	if (rc == 0 && target != NULL && other[0] != '\0' &&
	    (len = store_key(prefix, sizeof(prefix), tenant, type, other, "",
	    NULL)) >= 0)
		rc = collect(&col, prefix, len);
	if (rc != 0) {
		json_decref(col.items);
		return rc;
	}
	*items = col.items;
	return 0;
}

int
killswitch_count_active(uint64_t *count)
{
	return store_count(T_KS_ACTIVE, count);
}
