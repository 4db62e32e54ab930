/* gate.c - find the highest active emergency shutdown for a caller. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "gate.h"
#include "generation.h"
#include "store.h"

/* Lock conflicts with a concurrent activation or resolution are retried
 * this many times before the gate counts as unreadable. */
#define GATE_ATTEMPTS 5

/* An active-shutdown record the gate cannot read. */
#define GATE_CORRUPT EBADMSG

/*
 * What the gate needs of one active-shutdown record.
 */
struct shutdown_summary {
	int severity;
	int key_scope;            /* scope "key": covers only key_id */
	char key_id[64];
	char id[64];
	char reason[2100];
};

/*
 * The whole table as this process last read it, with the GEN_SHUTDOWNS
 * counter read before that scan (generation.h).  While the counter has not
 * moved, no process activated or resolved anything, and the gate answers
 * from the snapshot without reading the table; when it moved, the table is
 * read again (waiting for the writer's commit).  A table with more records
 * than the snapshot holds is read on every request.
 */
#define SNAPSHOT_MAX 64

struct snapshot_entry {
	char scope_key[STORE_KEY_MAX];   /* the T_ESD_ACTIVE key */
	size_t klen;
	int unreadable;                  /* the record did not parse */
	struct shutdown_summary sum;
};

static struct {
	uint64_t generation;             /* GENERATION_UNKNOWN: not usable */
	int count;
	struct snapshot_entry entries[SNAPSHOT_MAX];
} snapshot;

struct gate_scan {
	const char *tenant;
	size_t tenant_len;
	const char *key_id;
	struct gate_state *g;
	int overflow;                    /* more records than the snapshot holds */
};

/* 1 when the T_ESD_ACTIVE key "tenant SEP id" covers the scan's tenant. */
static int
covers_tenant(const struct gate_scan *s, const char *key, size_t klen)
{
	if (klen > 2 && key[0] == '*' && key[1] == KEY_SEP)
		return 1;
	return klen > s->tenant_len && key[s->tenant_len] == KEY_SEP &&
	    memcmp(key, s->tenant, s->tenant_len) == 0;
}

/* Parses a record into out; -1 when it is not a readable shutdown. */
static int
parse_shutdown(const void *val, size_t vlen, struct shutdown_summary *out)
{
	json_error_t err;
	json_t *esd;
	const char *scope, *key_id, *id, *reason;
	json_int_t severity;
	int rc = -1;

	if ((esd = json_loadb(val, vlen, 0, &err)) == NULL)
		return -1;
	scope = json_string_value(json_object_get(esd, "scope"));
	key_id = json_string_value(json_object_get(esd, "key_id"));
	id = json_string_value(json_object_get(esd, "id"));
	reason = json_string_value(json_object_get(esd, "reason"));
	severity = json_integer_value(json_object_get(esd, "severity"));
	if (scope != NULL && id != NULL && severity >= 1 && severity <= 5 &&
	    strlen(id) < sizeof(out->id) &&
	    (key_id == NULL || strlen(key_id) < sizeof(out->key_id))) {
		out->severity = (int)severity;
		out->key_scope = !strcmp(scope, "key");
		snprintf(out->key_id, sizeof(out->key_id), "%s", key_id ? key_id : "");
		snprintf(out->id, sizeof(out->id), "%s", id);
		snprintf(out->reason, sizeof(out->reason), "%s", reason ? reason : "");
		rc = 0;
	}
	json_decref(esd);
	return rc;
}

/*
 * Applies one record to the caller's gate state: 0, or GATE_CORRUPT when a
 * record that covers the caller cannot be read (a shutdown of unknown
 * severity: fail closed, as when the table cannot be read).
 */
static int
apply(struct gate_scan *s, const char *key, size_t klen,
      const struct shutdown_summary *esd)
{
	if (!covers_tenant(s, key, klen))
		return 0;
	if (esd == NULL)
		return GATE_CORRUPT;
	/* scope "key": only the named key is covered */
	if (esd->key_scope &&
	    (s->key_id == NULL || strcmp(esd->key_id, s->key_id) != 0))
		return 0;
	if (esd->severity > s->g->severity) {
		s->g->severity = esd->severity;
		snprintf(s->g->shutdown_id, sizeof(s->g->shutdown_id), "%s", esd->id);
		snprintf(s->g->reason, sizeof(s->g->reason), "%s", esd->reason);
	}
	return 0;
}

/* Scan callback: keeps the record in the snapshot, then applies it. */
static int
consider(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct gate_scan *s = arg;
	struct shutdown_summary parsed;
	const struct shutdown_summary *esd = NULL;
	struct snapshot_entry *e;

	/* parsed only when the counter moved: then the snapshot answers */
	if (parse_shutdown(val, vlen, &parsed) == 0)
		esd = &parsed;

	if (snapshot.count < SNAPSHOT_MAX && klen < sizeof(e->scope_key)) {
		e = &snapshot.entries[snapshot.count++];
		memcpy(e->scope_key, key, klen);
		e->klen = klen;
		e->unreadable = esd == NULL;
		if (esd != NULL)
			e->sum = *esd;
	} else {
		s->overflow = 1;
	}
	return apply(s, key, klen, esd);
}

/* The gate from the snapshot, as consider() would have found it. */
static int
from_snapshot(struct gate_scan *s)
{
	for (int i = 0; i < snapshot.count; i++) {
		const struct snapshot_entry *e = &snapshot.entries[i];
		int rc = apply(s, e->scope_key, e->klen, e->unreadable ? NULL : &e->sum);

		if (rc != 0)
			return rc;
	}
	return 0;
}

/*
 * One scan of the whole table: it holds only the active shutdowns of every
 * tenant (a handful at worst, usually none), so reading it all is cheaper
 * than two prefix scans, and the whole of it can be kept as the snapshot.
 */
int
gate_evaluate(const char *tenant, const char *key_id, struct gate_state *g)
{
	struct gate_scan s = { tenant, strlen(tenant), key_id, g, 0 };
	uint64_t gen = generation_read(GEN_SHUTDOWNS);
	int rc = 0;

	memset(g, 0, sizeof(*g));
	if (gen != GENERATION_UNKNOWN && snapshot.generation == gen) {
		if ((rc = from_snapshot(&s)) != 0)
			memset(g, 0, sizeof(*g));
		return rc;
	}
	for (int attempt = 0; attempt < GATE_ATTEMPTS; attempt++) {
		memset(g, 0, sizeof(*g));
		snapshot.generation = GENERATION_UNKNOWN;
		snapshot.count = 0;
		s.overflow = 0;
		rc = store_scan(NULL, T_ESD_ACTIVE, "", 0, 0, consider, &s);
		if (rc != DB_LOCK_DEADLOCK && rc != DB_LOCK_NOTGRANTED)
			break;
		nanosleep(&(struct timespec){ 0, 200000L * (attempt + 1) }, NULL);
	}
	/* only a whole, cleanly read table may answer later requests */
	if (rc == 0 && !s.overflow)
		snapshot.generation = gen;
	if (rc != 0)
		memset(g, 0, sizeof(*g));
	return rc;
}
