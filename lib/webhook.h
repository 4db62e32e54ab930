/*
 * webhook.h - webhook subscriptions: a tenant's destination URL, the audit
 * event types it wants and the secrets deliveries are signed with.
 *
 * Stored: T_WEBHOOKS under tenant SEP webhook id.  The signing secret is
 * 24 random bytes shown once as "whsec_" + base64 (the Standard Webhooks
 * form).  Signing needs the secret itself, so the record keeps it
 * encrypted (libsodium secretbox) under a key derived from the
 * installation pepper (pepper.h), which lives outside the data directory:
 * neither the data directory nor a backup carries a usable secret.  After
 * a rotation the previous secret keeps signing beside the new one until
 * its expiry (webhook_rotation_overlap_seconds).
 *
 * Events: an entry is a known audit event type ("killswitch.activated"),
 * a prefix wildcard ("killswitch.*") or "*".  webhook.test events go only
 * to the subscription they test.
 */
#ifndef ANDON_WEBHOOK_H
#define ANDON_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>
#include <db.h>
#include <jansson.h>

#include "problem.h"

#define WEBHOOK_SECRET_BYTES 24
#define WEBHOOK_SECRET_TEXT 64      /* "whsec_" + base64 + NUL */
#define WEBHOOK_MAX_KEYS 4

/* 0 when every entry of events is a known type, a prefix of known types
 * with ".*", or "*"; -1 with a 400 problem naming field events. */
int webhook_events_valid(const json_t *events, struct problem *p);

/* 1 when the subscription (enabled) wants the event. */
int webhook_wants(const json_t *sub, const json_t *event);

/* A new subscription; secret receives the whsec_ text.  -1 (ENOSYS) when
 * no pepper is loaded to encrypt the secret with. */
int webhook_create(DB_TXN *txn, const char *tenant, const char *url,
                   const json_t *events, const char *description,
                   json_t **rec, char secret[WEBHOOK_SECRET_TEXT]);

/* The whole stored record (with its sealed secrets); DB_NOTFOUND. */
int webhook_get(DB_TXN *txn, const char *tenant, const char *id,
                json_t **rec, uint32_t flags);
int webhook_put(DB_TXN *txn, const json_t *rec);
/* Whichever tenant's it is (the admin CLI: walks every subscription). */
int webhook_find(const char *id, json_t **rec);
int webhook_delete(DB_TXN *txn, const char *tenant, const char *id);

/* The record as the API shows it: never a secret. */
json_t *webhook_public(const json_t *rec);

/* The tenant's subscriptions (public form), unsorted. */
int webhook_list(const char *tenant, json_t **items);

/* A new secret signs from now on; the current one keeps signing for
 * overlap_ms more; expired ones are dropped.  ENOSYS without pepper. */
int webhook_rotate(json_t *rec, int64_t overlap_ms,
                   char secret[WEBHOOK_SECRET_TEXT]);

/* The raw signing keys not expired at now_ms, newest first; the count,
 * or -1 when none can be opened (no pepper, or another pepper). */
int webhook_signing_keys(const json_t *rec, int64_t now_ms,
                         unsigned char keys[WEBHOOK_MAX_KEYS][WEBHOOK_SECRET_BYTES]);

/*
 * An endpoint's health, after an attempt at one of its deliveries, in the
 * attempt's transaction: a success clears failing_since; a failure sets it
 * when unset, and when every attempt has failed for disable_after_ms (0:
 * never) disables the subscription (enabled false, disabled_at,
 * disabled_reason).  Then *disabled is the data of the webhook.disabled
 * event the caller appends (url, failing_since, disable_after_seconds;
 * decref it) and reason its reason; else NULL.  Nothing is written while
 * the state stays the same.  (The event is the caller's, notifier.c, so
 * that this file, which outbox.c uses, does not use audit.c, which uses
 * outbox.c.)
 */
#define WEBHOOK_REASON_SIZE 160
int webhook_note_attempt(DB_TXN *txn, const char *tenant, const char *id,
                         int ok, int64_t now_ms, int64_t disable_after_ms,
                         char reason[WEBHOOK_REASON_SIZE], json_t **disabled);

/* Forgets the failing state and why the notifier disabled it (when it is
 * enabled by hand). */
void webhook_clear_failing(json_t *rec);

/* Calls fn for each of the tenant's subscriptions that wants event. */
int webhook_each_wanting(DB_TXN *txn, const json_t *event,
                         int (*fn)(DB_TXN *txn, const json_t *sub,
                                   const json_t *event, void *arg),
                         void *arg);

#endif
