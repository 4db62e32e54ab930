/* notifier.c - deliver the outbox's webhooks, signed, with libcurl. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "audit.h"
#include "clock.h"
#include "destination.h"
#include "envlock.h"
#include "generation.h"
#include "log.h"
#include "notifier.h"
#include "outbox.h"
#include "store.h"
#include "watchdog.h"
#include "webhook.h"

#define WAKE_POLL_MS 5            /* the change counter is read this often */
#define IDLE_PASS_MS 1000         /* a pass at least this often anyway */
#define LEASE_MARGIN_MS 1000      /* beyond twice the attempt's timeout */
#define RUN_MAX 64                /* one endpoint's deliveries in a row */
#define FAN_OUT_MAX 4096          /* events fanned out between two passes */
#define KEPT_CONNECTIONS 64       /* idle connections kept for reuse */

static volatile sig_atomic_t stopping;

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

void
notifier_sign(const char *msg_id, long long timestamp, const char *body,
              const unsigned char (*keys)[24], int count, char *out,
              size_t outlen)
{
	char ts[24];
	size_t used = 0;

	snprintf(ts, sizeof(ts), "%lld", timestamp);
	out[0] = '\0';
	for (int i = 0; i < count; i++) {
		crypto_auth_hmacsha256_state st;
		unsigned char mac[crypto_auth_hmacsha256_BYTES];
		char b64[sodium_base64_ENCODED_LEN(sizeof(mac), sodium_base64_VARIANT_ORIGINAL)];
		int n;

		crypto_auth_hmacsha256_init(&st, keys[i], 24);
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg_id, strlen(msg_id));
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, strlen(ts));
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, strlen(body));
		crypto_auth_hmacsha256_final(&st, mac);
		sodium_bin2base64(b64, sizeof(b64), mac, sizeof(mac),
		    sodium_base64_VARIANT_ORIGINAL);
		n = snprintf(out + used, outlen - used, "%sv1,%s", i ? " " : "", b64);
		if (n < 0 || (size_t)n >= outlen - used)
			break;
		used += (size_t)n;
	}
}

static size_t
discard(char *ptr, size_t size, size_t nmemb, void *arg)
{
	(void)ptr;
	(void)arg;
	return size * nmemb;
}

struct attempt {
	int status;               /* HTTP status, 0 on a network error */
	int ours;                 /* failed here, not the endpoint's fault */
	char error[256];
	int64_t duration_ms;
};

/* One POST of body to the subscription's URL, pinned to the address the
 * safety check accepted.  curl is the notifier's one handle, reset for
 * each attempt but keeping its idle connections: an endpoint receiving
 * a run of deliveries keeps one connection (each opened to a checked
 * address). */
static void
post(CURL *curl, const struct conf *conf, const json_t *sub,
     const json_t *event, const char *body, struct attempt *a)
{
	unsigned char keys[WEBHOOK_MAX_KEYS][WEBHOOK_SECRET_BYTES];
	char sig[WEBHOOK_MAX_KEYS * 56], header[WEBHOOK_MAX_KEYS * 56 + 32];
	char idh[128], tsh[64];
	const char *url = json_string_value(json_object_get(sub, "url"));
	const char *msg_id = json_string_value(json_object_get(event, "id"));
	struct curl_slist *headers = NULL, *resolve = NULL;
	struct destination d;
	struct problem p;
	long long now = (long long)time(NULL);
	int64_t start = clock_monotonic_ms();
	int count;
	CURLcode cc;
	long code = 0;

	memset(a, 0, sizeof(*a));
	if (destination_resolve(url ? url : "", conf->webhook_allow_http,
	    conf->webhook_allow_private, &d, &p) != 0) {
		snprintf(a->error, sizeof(a->error), "%.255s", p.detail);
		return;
	}
	if ((count = webhook_signing_keys(sub, clock_now_ms(), keys)) < 0) {
		snprintf(a->error, sizeof(a->error), "the signing secret cannot be "
		    "opened (key pepper missing or changed)");
		a->ours = 1;
		return;
	}
	notifier_sign(msg_id, now, body, (const unsigned char (*)[24])keys, count,
	    sig, sizeof(sig));
	sodium_memzero(keys, sizeof(keys));
	snprintf(idh, sizeof(idh), "webhook-id: %s", msg_id);
	snprintf(tsh, sizeof(tsh), "webhook-timestamp: %lld", now);
	snprintf(header, sizeof(header), "webhook-signature: %s", sig);
	curl_easy_reset(curl);
	headers = curl_slist_append(headers, "Content-Type: application/json");
	headers = curl_slist_append(headers, "User-Agent: andon-notifier");
	headers = curl_slist_append(headers, idh);
	headers = curl_slist_append(headers, tsh);
	headers = curl_slist_append(headers, header);
	headers = curl_slist_append(headers, "Expect:");
	resolve = curl_slist_append(resolve, d.resolve);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)conf->webhook_connect_timeout_ms);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)conf->webhook_timeout_ms);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(curl, CURLOPT_MAXCONNECTS, (long)KEPT_CONNECTIONS);
	cc = curl_easy_perform(curl);
	if (cc == CURLE_OK) {
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
		a->status = (int)code;
	} else
		snprintf(a->error, sizeof(a->error), "%s", curl_easy_strerror(cc));
	a->duration_ms = clock_monotonic_ms() - start;
	sodium_memzero(header, sizeof(header));
	sodium_memzero(sig, sizeof(sig));
	curl_slist_free_all(headers);
	curl_slist_free_all(resolve);
}

struct pass {
	const struct conf *conf;
	CURL *curl;
	char owner[40];
	int64_t next_due;         /* earliest due time seen, 0 none */
	unsigned sent;
};

/* One attempt at the delivery of seq to webhook_id when it is due and not
 * leased: 1 when it was delivered, else 0. */
/*
 * The endpoint's health after an attempt, in the attempt's transaction
 * (outbox_finish): when this failure disabled it, the webhook.disabled
 * event, whose actor is the notifier (no API key).
 */
static int
note_health(DB_TXN *txn, const struct outbox_claim *c, int ok, int64_t now_ms,
            void *arg)
{
	const int64_t *disable_after_ms = arg;
	char reason[WEBHOOK_REASON_SIZE];
	json_t *data;
	int rc;

	rc = webhook_note_attempt(txn, c->tenant, c->webhook_id, ok, now_ms,
	    *disable_after_ms, reason, &data);
	if (rc == 0 && data != NULL) {
		struct audit_entry e = { c->tenant, "webhook.disabled", NULL,
		    "notifier", "webhook", c->webhook_id, reason, data };

		rc = audit_append(txn, &e, NULL, 0);
	}
	json_decref(data);
	return rc;
}

static int
deliver_one(struct pass *ps, const char *webhook_id, uint64_t seq)
{
	struct outbox_claim c;
	struct attempt a;
	int64_t due;
	json_t *sub = NULL, *event = NULL, *payload;
	char *body;
	int rc, delivered = 0;

	/* the database work and the attempt (at most webhook_timeout_ms) */
	watchdog_arm(ps->conf->watchdog_seconds +
	    (ps->conf->webhook_timeout_ms + 999) / 1000);
	rc = outbox_claim(webhook_id, seq, ps->owner,
	    2 * (int64_t)ps->conf->webhook_timeout_ms + LEASE_MARGIN_MS, &c, &due);
	if (rc < 0 || rc > 1)
		return 0;
	if (rc == 0) {
		if (due > 0 && (ps->next_due == 0 || due < ps->next_due))
			ps->next_due = due;
		return 0;
	}
	if (webhook_get(NULL, c.tenant, webhook_id, &sub, 0) != 0) {
		outbox_drop(webhook_id, seq, "the subscription was deleted");
		return 0;
	}
	if (audit_get(NULL, seq, &event) != 0) {
		json_decref(sub);
		outbox_drop(webhook_id, seq, "the audit event cannot be read");
		return 0;
	}
	payload = json_pack("{s:O, s:O, s:O}", "type", json_object_get(event, "type"),
	    "timestamp", json_object_get(event, "at"), "data", event);
	body = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
	json_decref(payload);
	if (body == NULL) {
		json_decref(sub);
		json_decref(event);
		return 0;
	}
	if (!json_is_true(json_object_get(sub, "enabled")))
		/* queued before it was disabled: dead, retryable by hand */
		outbox_drop(webhook_id, seq, "the subscription is disabled");
	else {
		int64_t disable_after_ms =
		    (int64_t)ps->conf->webhook_disable_after_seconds * 1000;

		post(ps->curl, ps->conf, sub, event, body, &a);
		/* a failure of ours (no pepper...) is not the endpoint's */
		delivered = outbox_finish(&c, a.status, a.status ? NULL : a.error,
		    a.duration_ms, ps->conf->webhook_retry_scale_ppm,
		    a.ours ? NULL : note_health, &disable_after_ms) == 0 &&
		    a.status >= 200 && a.status <= 299;
	}
	ps->sent++;
	free(body);
	json_decref(sub);
	json_decref(event);
	return delivered;
}

/*
 * From an endpoint's head on, its deliveries in seq order while each is
 * delivered (up to RUN_MAX, then the other endpoints have their turn): a
 * burst costs one outbox scan per RUN_MAX deliveries, not one each.  A
 * failed attempt ends the run, as the ones behind it wait for it.
 */
static int
deliver_head(void *arg, const char *webhook_id, uint64_t seq)
{
	struct pass *ps = arg;

	for (int n = 0; n < RUN_MAX; n++) {
		if (stopping)
			return 1;
		if (!deliver_one(ps, webhook_id, seq) ||
		    outbox_next(webhook_id, seq, &seq) != 0)
			break;
	}
	return 0;
}

static void
sleep_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int
notifier_run(const struct conf *conf, int once, char *err, size_t errlen)
{
	struct sigaction sa;
	struct pass ps;
	uint64_t seen = GENERATION_UNKNOWN, seen_audit = GENERATION_UNKNOWN;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "libcurl failed to initialise");
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	memset(&ps, 0, sizeof(ps));
	ps.conf = conf;
	if ((ps.curl = curl_easy_init()) == NULL) {
		snprintf(err, errlen, "libcurl failed to initialise");
		curl_global_cleanup();
		return -1;
	}
	snprintf(ps.owner, sizeof(ps.owner), "%ld-", (long)getpid());
	{
		unsigned char r[8];

		randombytes_buf(r, sizeof(r));
		sodium_bin2hex(ps.owner + strlen(ps.owner),
		    sizeof(ps.owner) - strlen(ps.owner), r, sizeof(r));
	}
	while (!stopping) {
		int64_t last_pass, now;
		int rc;

		/* stuck in the database (a process died holding one of its
		 * mutexes): the watchdog asks for a forced recovery and ends
		 * the process, which andonctl notify starts again */
		watchdog_arm(conf->watchdog_seconds);
		/* a stuck process asked for a forced recovery: leave the
		 * environment so it can run, and join the recovered one */
		if (envlock_recovery_requested()) {
			log_notice("notifier: a forced recovery was asked for: reopening");
			store_close();
			if (store_open(conf->data_dir, conf->db_cache_mb, err, errlen) != 0) {
				curl_easy_cleanup(ps.curl);
				curl_global_cleanup();
				return -1;
			}
		}
		seen = generation_read(GEN_OUTBOX);
		seen_audit = generation_read(GEN_AUDIT);
		ps.next_due = 0;
		ps.sent = 0;
		/* the deliveries of the events committed since the last pass */
		if ((rc = outbox_catch_up(FAN_OUT_MAX)) == 0)
			rc = outbox_heads(deliver_head, &ps);
		if (rc != 0 && !stopping) {
			if (rc == DB_RUNRECOVERY && store_reopen() != 0) {
				snprintf(err, errlen, "the database needs recovery and could "
				    "not be reopened");
				curl_easy_cleanup(ps.curl);
				curl_global_cleanup();
				return -1;
			}
			log_error("notifier: outbox pass failed: %s", db_strerror(rc));
		}
		watchdog_arm(conf->watchdog_seconds);
		store_maintain(conf->checkpoint_kbytes, conf->checkpoint_minutes);
		watchdog_disarm();
		if (once)
			break;
		if (ps.sent > 0)
			continue;         /* more may be due behind what was sent */
		last_pass = clock_now_ms();
		/* wait for a new row, the next due retry or an idle pass */
		while (!stopping) {
			uint64_t g = generation_read(GEN_OUTBOX);
			uint64_t ga = generation_read(GEN_AUDIT);

			now = clock_now_ms();
			if (g == GENERATION_UNKNOWN || g != seen ||
			    ga == GENERATION_UNKNOWN || ga != seen_audit ||
			    (ps.next_due > 0 && now >= ps.next_due) ||
			    now - last_pass >= IDLE_PASS_MS)
				break;
			sleep_ms(WAKE_POLL_MS);
		}
	}
	curl_easy_cleanup(ps.curl);
	curl_global_cleanup();
	return 0;
}
