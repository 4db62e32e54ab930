/* gate.c - find the highest active emergency shutdown for a caller. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <db.h>

#include "gate.h"
#include "generation.h"
#include "shutdown.h"

/* Lock conflicts with a concurrent activation or resolution are retried
 * this many times before the gate counts as unreadable. */
#define GATE_ATTEMPTS 5

/* An active-shutdown record the gate cannot read. */
#define GATE_CORRUPT EBADMSG

/*
 * The whole table as this process last read it, with the GEN_SHUTDOWNS
 * counter read before that scan (generation.h).  While the counter has not
 * moved, no process activated or resolved anything, and the gate answers
 * from the snapshot without reading the table; when it moved, the table is
 * read again (waiting for the writer's commit).  A table with more records
 * than the snapshot holds is read on every request.
 */
#define SNAPSHOT_MAX 64

static struct {
	uint64_t generation;             /* GENERATION_UNKNOWN: not usable */
	int count;
	struct shutdown_summary entries[SNAPSHOT_MAX];
} snapshot;

struct gate_scan {
	const char *tenant;
	const char *key_id;
	struct gate_state *g;
	int overflow;                    /* more records than the snapshot holds */
};

/*
 * Applies one active shutdown to the caller's gate state: 0, or
 * GATE_CORRUPT when one that covers the caller cannot be read (a shutdown
 * of unknown severity: fail closed, as when the table cannot be read).
 */
static int
apply(struct gate_scan *s, const struct shutdown_summary *esd)
{
	if (!shutdown_covers(esd, s->tenant))
		return 0;
	if (!esd->readable)
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

/* Scan callback: keeps the summary in the snapshot, then applies it
 * (read only when the counter moved: then the snapshot answers). */
static int
consider(void *arg, const struct shutdown_summary *esd)
{
	struct gate_scan *s = arg;

	if (snapshot.count < SNAPSHOT_MAX)
		snapshot.entries[snapshot.count++] = *esd;
	else
		s->overflow = 1;
	return apply(s, esd);
}

/* The gate from the snapshot, as consider() would have found it. */
static int
from_snapshot(struct gate_scan *s)
{
	for (int i = 0; i < snapshot.count; i++) {
		int rc = apply(s, &snapshot.entries[i]);

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
	struct gate_scan s = { tenant, key_id, g, 0 };
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
		rc = shutdown_scan_summaries(consider, &s);
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
