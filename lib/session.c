/* session.c - agent sessions, their tokens and RFC 7662 introspection. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "agent.h"
#include "audit.h"
#include "clock.h"
#include "encode.h"
#include "ids.h"
#include "killswitch.h"
#include "session.h"
#include "store.h"

#define TOKEN_PREFIX "ast_"
#define TOKEN_BYTES 32
#define TOKEN_TEXT_SIZE 64

/* "ast_" and 43 base64url characters: 256 random bits. */
static void
token_new(char out[TOKEN_TEXT_SIZE])
{
	unsigned char raw[TOKEN_BYTES];

	randombytes_buf(raw, sizeof(raw));
	memcpy(out, TOKEN_PREFIX, strlen(TOKEN_PREFIX));
	sodium_bin2base64(out + strlen(TOKEN_PREFIX),
	    TOKEN_TEXT_SIZE - strlen(TOKEN_PREFIX), raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
}

static int64_t
expiry_ms(const json_t *session)
{
	return (int64_t)json_integer_value(json_object_get(session, "exp")) * 1000;
}

/* The session as the API shows it: no token hash, expiry applied. */
static json_t *
session_public(const json_t *session, int64_t now)
{
	json_t *out = json_deep_copy(session);
	const char *status = json_string_value(json_object_get(session, "status"));

	json_object_del(out, "token_hash");
	json_object_del(out, "agent");
	if (status && !strcmp(status, "active") && expiry_ms(session) <= now)
		json_object_set_new(out, "status", json_string("expired"));
	return out;
}

static int
audit_session(DB_TXN *txn, const struct principal *who, const char *type,
              const json_t *session, const char *reason)
{
	json_t *data = json_pack("{s:O}", "agent_id",
	    json_object_get(session, "agent_id"));
	struct audit_entry e = { who->tenant, type, who, NULL, "session",
	    json_string_value(json_object_get(session, "id")), reason, data };
	int rc = audit_append(txn, &e, NULL, 0);

	json_decref(data);
	return rc;
}

int
session_open(DB_TXN *txn, const struct principal *who, const json_t *agent,
             long ttl_seconds, const json_t *scopes, json_t **out,
             struct problem *p)
{
	const char *uuid = agent_uuid(agent), *status = agent_status(agent);
	char sid[ID_SIZE], token[TOKEN_TEXT_SIZE], hash[65], now[CLOCK_TEXT_SIZE];
	char expires[CLOCK_TEXT_SIZE], key[STORE_KEY_MAX], tkey[STORE_KEY_MAX];
	char ref[STORE_KEY_MAX], live[24];
	int64_t now_ms = clock_now_ms(), exp_ms;
	json_t *rec;
	int rc;

	*out = NULL;
	if (strcmp(status, "active") != 0) {
		problem_set(p, 409, !strcmp(status, "revoked") ? "agent_revoked"
		    : "agent_suspended", "agent %s is %s and cannot open sessions",
		    agent_ident(agent), status);
		return -1;
	}
	/* a kill switch stops it as a suspension does, by either of its ids */
	if ((rc = killswitch_agent_switched(txn, who->tenant, uuid,
	    agent_ident(agent))) == 0) {
		problem_set(p, 409, "kill_switch_active",
		    "agent %s is stopped by an active kill switch and cannot open"
		    " sessions; revive it first", agent_ident(agent));
		return -1;
	}
	if (rc != DB_NOTFOUND)
		return rc;
	if (scopes != NULL && !agent_holds_scopes(agent, scopes)) {
		problem_set(p, 400, "scopes_not_held",
		    "a session can only carry scopes its agent holds");
		problem_field(p, "scopes");
		return -1;
	}
	id_random_hex(sid, sizeof(sid), "ses_", 12);
	token_new(token);
	encode_sha256_hex(token, hash);
	exp_ms = (now_ms / 1000 + ttl_seconds) * 1000;
	clock_format(now_ms, now);
	clock_format(exp_ms, expires);
	rec = json_pack("{s:s, s:O, s:s, s:s, s:O, s:s, s:s, s:I, s:I, s:s}",
	    "id", sid, "agent_id", json_object_get(agent, "agent_id"),
	    "agent", uuid, "status", "active",
	    "scopes", scopes ? scopes : json_object_get(agent, "scopes"),
	    "created_at", now, "expires_at", expires,
	    "iat", (json_int_t)(now_ms / 1000), "exp", (json_int_t)(exp_ms / 1000),
	    "token_hash", hash);
	if (rec == NULL)
		return ENOMEM;
	rc = EINVAL;
	if (store_key(key, sizeof(key), who->tenant, uuid, sid, NULL) < 0 ||
	    store_key(tkey, sizeof(tkey), who->tenant, hash, NULL) < 0 ||
	    store_key(ref, sizeof(ref), uuid, sid, NULL) < 0)
		goto out;
	snprintf(live, sizeof(live), "%lld", (long long)exp_ms);
	if ((rc = store_put_json(txn, T_SESSIONS, key, rec, DB_NOOVERWRITE)) != 0 ||
	    (rc = store_put(txn, T_SESSION_LIVE, key, strlen(key), live,
	    strlen(live), 0)) != 0 ||
	    (rc = store_put(txn, T_SESSION_TOKENS, tkey, strlen(tkey), ref,
	    strlen(ref), DB_NOOVERWRITE)) != 0 ||
	    (rc = audit_session(txn, who, "session.created", rec, NULL)) != 0)
		goto out;
	*out = session_public(rec, now_ms);
	json_object_set_new(*out, "token", json_string(token));
	json_object_set_new(*out, "token_type", json_string("Bearer"));
	json_object_set_new(*out, "expires_in", json_integer(ttl_seconds));
out:
	sodium_memzero(token, sizeof(token));
	json_decref(rec);
	return rc;
}

struct session_scan {
	int64_t now;
	json_t *items;
	long count;
};

static int
collect_session(void *arg, const void *key, size_t klen, const void *val,
                size_t vlen)
{
	struct session_scan *s = arg;
	json_error_t err;
	json_t *rec = json_loadb(val, vlen, 0, &err);

	(void)key;
	(void)klen;
	if (rec != NULL) {
		json_array_append_new(s->items, session_public(rec, s->now));
		json_decref(rec);
	}
	return 0;
}

/* The key prefix of an agent's sessions: tenant SEP uuid SEP. */
static int
session_prefix(char *buf, size_t len, const char *tenant, const char *uuid)
{
	return store_key(buf, len, tenant, uuid, "", NULL);
}

int
session_list(const char *tenant, const char *uuid, json_t **items)
{
	struct session_scan s = { clock_now_ms(), json_array(), 0 };
	char prefix[STORE_KEY_MAX];
	int len = session_prefix(prefix, sizeof(prefix), tenant, uuid), rc;

	rc = len < 0 ? EINVAL : store_scan(NULL, T_SESSIONS, prefix, (size_t)len,
	    0, collect_session, &s);
	if (rc != 0) {
		json_decref(s.items);
		return rc;
	}
	*items = s.items;
	return 0;
}

/* A live entry's value is its expiry in ms, as decimal text. */
static int64_t
live_expiry(const void *val, size_t vlen)
{
	char text[24];

	if (vlen == 0 || vlen >= sizeof(text))
		return 0;
	memcpy(text, val, vlen);
	text[vlen] = '\0';
	return strtoll(text, NULL, 10);
}

static int
count_live(void *arg, const void *key, size_t klen, const void *val,
           size_t vlen)
{
	struct session_scan *s = arg;

	(void)key;
	(void)klen;
	if (live_expiry(val, vlen) > s->now)
		s->count++;
	return 0;
}

int
session_count_active(DB_TXN *txn, const char *tenant, const char *uuid,
                     long *count)
{
	struct session_scan s = { clock_now_ms(), NULL, 0 };
	char prefix[STORE_KEY_MAX];
	int len = session_prefix(prefix, sizeof(prefix), tenant, uuid), rc;

	*count = 0;
	if (len < 0)
		return EINVAL;
	rc = store_scan(txn, T_SESSION_LIVE, prefix, (size_t)len, 0, count_live, &s);
	*count = s.count;
	return rc;
}

/* Ends one stored session: status, time, reason; drops its live entry and
 * its token, so the token can never be introspected active again. */
static int
terminate(DB_TXN *txn, const char *tenant, const char *key, json_t *rec,
          const char *at, const char *reason)
{
	const char *hash = json_string_value(json_object_get(rec, "token_hash"));
	char tkey[STORE_KEY_MAX];
	int rc;

	json_object_set_new(rec, "status", json_string("terminated"));
	json_object_set_new(rec, "terminated_at", json_string(at));
	json_object_set_new(rec, "terminated_reason",
	    reason ? json_string(reason) : json_null());
	if ((rc = store_put_json(txn, T_SESSIONS, key, rec, 0)) != 0)
		return rc;
	rc = store_del(txn, T_SESSION_LIVE, key, strlen(key));
	if (rc != 0 && rc != DB_NOTFOUND)
		return rc;
	if (hash && store_key(tkey, sizeof(tkey), tenant, hash, NULL) >= 0) {
		rc = store_del(txn, T_SESSION_TOKENS, tkey, strlen(tkey));
		if (rc != 0 && rc != DB_NOTFOUND)
			return rc;
	}
	return 0;
}

struct live_keys {
	int64_t now;
	json_t *keys;       /* live entries' keys, as strings */
	long unexpired;
};

static int
collect_live(void *arg, const void *key, size_t klen, const void *val,
             size_t vlen)
{
	struct live_keys *l = arg;

	if (live_expiry(val, vlen) > l->now)
		l->unexpired++;
	json_array_append_new(l->keys, json_stringn(key, klen));
	return 0;
}

int
session_terminate_all(DB_TXN *txn, const char *tenant, const char *uuid,
                      const char *at, const char *reason, int dry_run,
                      long *count)
{
	struct live_keys l = { clock_now_ms(), json_array(), 0 };
	char prefix[STORE_KEY_MAX];
	int len = session_prefix(prefix, sizeof(prefix), tenant, uuid), rc;
	size_t i;
	json_t *k;

	*count = 0;
	if (len < 0) {
		json_decref(l.keys);
		return EINVAL;
	}
	/* read first, then write: no cursor is open while entries go */
	rc = store_scan(txn, T_SESSION_LIVE, prefix, (size_t)len, 0, collect_live, &l);
	json_array_foreach(l.keys, i, k) {
		json_t *rec;

		if (rc != 0 || dry_run)
			break;
		rc = store_get_json(txn, T_SESSIONS, json_string_value(k), &rec, DB_RMW);
		if (rc == DB_NOTFOUND) {
			rc = store_del(txn, T_SESSION_LIVE, json_string_value(k),
			    json_string_length(k));
			continue;
		}
		if (rc == 0) {
			rc = terminate(txn, tenant, json_string_value(k), rec, at, reason);
			json_decref(rec);
		}
	}
	json_decref(l.keys);
	if (rc == 0)
		*count = l.unexpired;
	return rc;
}

int
session_end(DB_TXN *txn, const struct principal *who, const json_t *agent,
            const char *session_id, json_t **out, struct problem *p)
{
	char key[STORE_KEY_MAX], now[CLOCK_TEXT_SIZE];
	int64_t now_ms = clock_now_ms();
	const char *status;
	json_t *rec;
	int rc;

	*out = NULL;
	if (store_key(key, sizeof(key), who->tenant, agent_uuid(agent),
	    session_id, NULL) < 0 ||
	    (rc = store_get_json(txn, T_SESSIONS, key, &rec, DB_RMW)) == DB_NOTFOUND) {
		problem_set(p, 404, "not_found", "agent %s has no session %.64s",
		    agent_ident(agent), session_id);
		return -1;
	}
	if (rc != 0)
		return rc;
	status = json_string_value(json_object_get(rec, "status"));
	if (status == NULL || strcmp(status, "active") != 0) {
		json_decref(rec);
		problem_set(p, 409, "already_terminated",
		    "session %.64s is already terminated", session_id);
		return -1;
	}
	clock_format(now_ms, now);
	rc = terminate(txn, who->tenant, key, rec, now, "deleted");
	if (rc == 0)
		rc = audit_session(txn, who, "session.terminated", rec, NULL);
	if (rc == 0)
		*out = session_public(rec, now_ms);
	json_decref(rec);
	return rc;
}

/* 1 when every space-separated name of wanted is in held. */
static int
holds_all(const json_t *held, const char *wanted)
{
	const char *s = wanted;

	while (s && *s) {
		size_t n = strcspn(s, " ");
		int found = 0;
		size_t i;
		json_t *v;

		json_array_foreach(held, i, v)
			if (json_string_length(v) == n &&
			    !memcmp(json_string_value(v), s, n))
				found = 1;
		if (n > 0 && !found)
			return 0;
		s += n;
		s += strspn(s, " ");
	}
	return 1;
}

/*
 * Whether anything stops a session's agent: a suspension or a revocation
 * (the agent-stop index, written in the same transaction as the status
 * change) or an active kill switch on either of its identifiers.  Index
 * lookups only, no record is parsed: this is introspection's hot path.
 * A read error counts as stopped (fail closed).
 */
static int
session_agent_stopped(const char *tenant, const json_t *session)
{
	const char *uuid = json_string_value(json_object_get(session, "agent"));
	const char *agent_id = json_string_value(json_object_get(session, "agent_id"));
	char key[STORE_KEY_MAX];

	if (uuid == NULL || agent_id == NULL)
		return 1;
	/* a stop is indexed under both identifiers at once: one suffices */
	if (store_key(key, sizeof(key), tenant, uuid, NULL) < 0 ||
	    store_exists(NULL, T_AGENT_STOPS, key, strlen(key)) != DB_NOTFOUND)
		return 1;
	return killswitch_agent_switched(NULL, tenant, uuid, agent_id) != DB_NOTFOUND;
}

static json_t *
space_joined(const json_t *list)
{
	size_t i, len = 0;
	json_t *v, *out;
	char *text;

	json_array_foreach(list, i, v)
		len += json_string_length(v) + 1;
	if ((text = calloc(1, len + 1)) == NULL)
		return NULL;
	json_array_foreach(list, i, v) {
		if (i > 0)
			strcat(text, " ");
		strcat(text, json_string_value(v));
	}
	out = json_string(text);
	free(text);
	return out;
}

int
session_introspect(const char *tenant, const char *token, const char *scope,
                   int shutdown_severity, json_t **answer)
{
	char hash[65], tkey[STORE_KEY_MAX], skey[STORE_KEY_MAX], ref[STORE_KEY_MAX];
	json_t *session = NULL;
	const char *status;
	void *val = NULL;
	size_t vlen;
	int rc, active = 0;

	*answer = NULL;
	encode_sha256_hex(token, hash);
	if (store_key(tkey, sizeof(tkey), tenant, hash, NULL) < 0)
		goto answer;
	rc = store_get(NULL, T_SESSION_TOKENS, tkey, strlen(tkey), &val, &vlen, 0);
	if (rc == DB_NOTFOUND)
		goto answer;
	if (rc != 0)
		return rc;
	if (vlen >= sizeof(ref))
		goto answer;
	memcpy(ref, val, vlen);
	ref[vlen] = '\0';
	/* ref is "agent uuid SEP session id": the session's key after the tenant */
	if ((size_t)snprintf(skey, sizeof(skey), "%s" KEY_SEP_STR "%s", tenant, ref)
	    >= sizeof(skey))
		goto answer;
	free(val);
	val = NULL;
	/* parsed once per process while the record's bytes stay the same */
	if ((rc = store_get_json_shared(T_SESSIONS, skey, &session)) != 0) {
		if (rc != DB_NOTFOUND)
			goto fail;
		goto answer;
	}
	status = json_string_value(json_object_get(session, "status"));
	if (status == NULL || strcmp(status, "active") != 0 ||
	    expiry_ms(session) <= clock_now_ms() || shutdown_severity >= 4 ||
	    !holds_all(json_object_get(session, "scopes"), scope))
		goto answer;
	if (session_agent_stopped(tenant, session))
		goto answer;
	active = 1;
answer:
	if (!active)
		*answer = json_pack("{s:b}", "active", 0);
	else
		*answer = json_pack("{s:b, s:o, s:O, s:O, s:O, s:O, s:O, s:s, s:O}",
		    "active", 1,
		    "scope", space_joined(json_object_get(session, "scopes")),
		    "agent_id", json_object_get(session, "agent_id"),
		    "sub", json_object_get(session, "agent_id"),
		    "client_id", json_object_get(session, "agent"),
		    "exp", json_object_get(session, "exp"),
		    "iat", json_object_get(session, "iat"),
		    "token_type", "Bearer",
		    "jti", json_object_get(session, "id"));
	rc = *answer ? 0 : ENOMEM;
fail:
	free(val);
	json_decref(session);
	return rc;
}
