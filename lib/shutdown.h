/*
 * shutdown.h - emergency shutdowns (API.md sections 4 and 7, seed 003):
 * activate, the active ones, one, resolve.  The only file that reads or
 * writes their records: lib/gate.c asks shutdown_scan_summaries() for
 * the active ones.
 *
 * Stored: T_SHUTDOWNS holds every shutdown under "tenant SEP id" (the
 * activating tenant); T_ESD_ACTIVE holds one summary per active shutdown
 * under "tenant SEP id", or "* SEP id" for scope "all", which is what the
 * gate reads.  Activation and resolution change both in one transaction,
 * so the very next request of every process sees them.
 *
 * Visibility: a tenant sees its own shutdowns and every active "all"
 * shutdown (it is halted by them and must be able to read why), the latter
 * through a view: what halts it and why, nothing of the tenant that
 * activated it.  Only the activating tenant resolves a shutdown, and an
 * "all" shutdown needs platform:admin to resolve as it did to activate.
 *
 * Returns follow lib/README: 0, -1 with the problem set, or an error.
 */
#ifndef ANDON_SHUTDOWN_H
#define ANDON_SHUTDOWN_H

#include <stdint.h>
#include <db.h>
#include <jansson.h>

#include "principal.h"
#include "problem.h"

/* "org", "key", "all", NULL */
extern const char *const shutdown_scopes[];

/* Activates a shutdown (severity 1-5, scope NULL for "org", key_id only
 * with scope "key": NULL for the caller's key).  400 invalid_field, 403
 * insufficient_scope for scope "all" without platform:admin.  Audits
 * shutdown.activated; *record is the stored record. */
int shutdown_activate(DB_TXN *txn, const struct principal *who, int severity,
                      const char *reason, const char *scope,
                      const char *key_id, json_t **record, struct problem *p);

/* The active shutdowns the tenant sees (its own, every "all" one), each as
 * the tenant may see it. */
int shutdown_list_active(const char *tenant, json_t **items);

/* One shutdown as the tenant may see it: 404 not_found. */
int shutdown_get(const char *tenant, const char *id, json_t **record,
                 struct problem *p);

/* Resolves the tenant's shutdown: 404 not_found (also another tenant's),
 * 403 insufficient_scope for an "all" one without platform:admin, 409
 * already_resolved.  Audits shutdown.resolved. */
int shutdown_resolve(DB_TXN *txn, const struct principal *who, const char *id,
                     const char *reason, json_t **record, struct problem *p);

/* Active shutdowns, every tenant (metrics). */
int shutdown_count_active(uint64_t *count);

/*
 * What the gate needs of one active shutdown, as its summary in
 * T_ESD_ACTIVE holds it.  No allocation: filled on the caller's stack.
 */
struct shutdown_summary {
	char owner[64];           /* the activating tenant, "*" for scope all */
	int readable;             /* 0: the summary did not parse (fail closed) */
	int severity;             /* 1-5 */
	int key_scope;            /* scope "key": covers only key_id */
	char key_id[64];
	char id[64];
	char reason[2100];
};

/* Gets each active shutdown of every tenant; returns 0 to go on, 1 to
 * stop, or an error the scan passes back (store_scan's convention). */
typedef int (*shutdown_summary_fn)(void *arg, const struct shutdown_summary *s);
/* One read of the active table (a handful of records at worst): 0, fn's
 * return, or a DB error (DB_LOCK_DEADLOCK, DB_LOCK_NOTGRANTED: retry). */
int shutdown_scan_summaries(shutdown_summary_fn fn, void *arg);
/* 1 when the summary's shutdown covers tenant (its own, or scope all):
 * the caller then checks key_scope. */
int shutdown_covers(const struct shutdown_summary *s, const char *tenant);

#endif
