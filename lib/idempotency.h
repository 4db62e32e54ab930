/*
 * idempotency.h - Idempotency-Key on state-changing POSTs.
 *
 * The first 2xx response for (API key, Idempotency-Key) is stored in the
 * same transaction as the change it reports, with a fingerprint of method,
 * path and body.  Within 24 hours a retry with the same fingerprint gets
 * that response again; another fingerprint gets 422
 * idempotency_key_reused.  The lookup runs inside the write transaction
 * with a write lock, so two concurrent retries are serialised.
 *
 * A secret is shown in exactly one response and never stored: on a route
 * whose answer shows one (ROUTE_SHOWS_SECRET: an API key, a session
 * token) the stored copy has every member that holds one ("key",
 * "token", "secret") set to null, so a replay answers the same status and
 * record with the secret null and "Secret-Withheld: <members>": the
 * creation happened, and a client that lost the first answer revokes what
 * it created and creates another.
 */
#ifndef ANDON_IDEMPOTENCY_H
#define ANDON_IDEMPOTENCY_H

#include <db.h>
#include "request.h"
#include "response.h"

#define IDEMPOTENCY_TTL_MS (24LL * 3600 * 1000)

enum idem_result { IDEM_NEW, IDEM_REPLAYED, IDEM_MISMATCH };

/* 1 when the header is acceptable (1..255 printable ASCII characters, space included). */
int idem_key_valid(const char *key);
void idem_fingerprint(const struct request *r, char out[65]);
int idem_lookup(DB_TXN *txn, const char *key_id, const char *idem_key,
                const char *fingerprint, struct response *resp,
                enum idem_result *result);
/* withhold: the route shows a secret (ROUTE_SHOWS_SECRET). */
int idem_store(DB_TXN *txn, const char *key_id, const char *idem_key,
               const char *fingerprint, const struct response *resp,
               int withhold);

#endif
