/*
 * localstop.h - kills taken while no master can be elected (replication,
 * issue 18: "a halt never blocks a stop").
 *
 * With replication on, a kill that reaches a site while no site of the
 * group is the master cannot be committed anywhere: nothing can be
 * replicated.  Rather than refuse it, the site keeps it in a store of its
 * own that is not replicated: DATA/stops/, one JSON file per kill, written
 * aside, flushed and renamed into place (the directory flushed too) before
 * the 202 answer.  The site's checks consult it, so the stop takes effect
 * on that site at once; and as soon as a master is elected, the site's
 * replication process hands each kill to it (replication.h), which kills
 * the target in the replicated database with the kill's Idempotency-Key
 * stored for the API key that made it (a retry sent to the master then
 * replays the kill rather than refusing it), and the file is removed.
 *
 * A record: {id "lks_<32 hex>", organization_id, key_id, target_type,
 * target_id, reason (or null), idempotency_key (or null), fingerprint (of
 * the request, idempotency.h, or null), killed_at, status "pending"}.
 *
 * Returns follow lib/README: 0, DB_NOTFOUND, or an error (errno).
 */
#ifndef ANDON_LOCALSTOP_H
#define ANDON_LOCALSTOP_H

#include <jansson.h>

#include "principal.h"

/* Keeps a kill of type/target by who; *record is what was kept. */
int localstop_add(const char *data_dir, const struct principal *who,
                  const char *type, const char *target, const char *reason,
                  const char *idem_key, const char *fingerprint,
                  json_t **record);

/* Keeps record (a kept kill another site handed over, replication.h)
 * under its id; EINVAL when it is not one. */
int localstop_keep(const char *data_dir, const json_t *record);

/* The kept kill of the tenant's type/target, into *record: 0 or
 * DB_NOTFOUND (none kept, or no DATA/stops/ at all). */
int localstop_find(const char *data_dir, const char *tenant, const char *type,
                   const char *target, json_t **record);

/* The kept kill made by key_id with Idempotency-Key idem_key (a retry of
 * it answers the same): 0 or DB_NOTFOUND. */
int localstop_find_replay(const char *data_dir, const char *key_id,
                          const char *idem_key, json_t **record);

/* Every kept kill, oldest first, into *records (an array). */
int localstop_list(const char *data_dir, json_t **records);

/* Forgets the kept kill id (the master has it). */
int localstop_remove(const char *data_dir, const char *id);

/*
 * On the master: commits a kept kill (a record of localstop_list(), sent
 * by the site that kept it) in the replicated database, as the key that
 * made it.  0 when the master has it now or had it already (the same
 * Idempotency-Key stored, or the target already killed): the site may
 * forget it; otherwise an error, and it is handed over again later.
 */
int localstop_apply(const json_t *record);

#endif
