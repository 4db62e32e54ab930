/* server.c - the accept loop and the request pipeline. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <sodium.h>

#include "log.h"
#include "apikey.h"
#include "checkpointer.h"
#include "clock.h"
#include "envlock.h"
#include "idempotency.h"
#include "ids.h"
#include "listing.h"
#include "pepper.h"
#include "prefork.h"
#include "ratelimit.h"
#include "replication.h"
#include "scope.h"
#include "server.h"
#include "store.h"
#include "watchdog.h"

#define TICK_MS 1000
#define MAX_ATTEMPTS 50
/* A full disk waits for an operator: retried every 10 seconds (503, not
 * 507: clients and SDKs retry a 503 after Retry-After; lib/problem.c). */
#define STORAGE_FULL_RETRY_AFTER "10"


extern char **environ;

static struct conf conf;
static volatile sig_atomic_t stopping;
static int64_t last_tick;

const char *
ctx_param(const struct ctx *c, int i)
{
	return i >= 0 && i < REQUEST_MAX_PARAMS ? c->req->params[i] : NULL;
}

const char *
ctx_str(const struct ctx *c, const char *name)
{
	return json_string_value(json_object_get(c->body, name));
}

int
ctx_answer(struct ctx *c, int rc, int status, json_t *out,
           const struct problem *p)
{
	if (rc == -1) {
		json_decref(out);
		response_problem(c->resp, p);
		return 0;
	}
	if (rc != 0) {
		json_decref(out);
		return rc;
	}
	response_json(c->resp, status, out);
	return 0;
}

int
ctx_page(struct ctx *c, int rc, json_t *items, const struct problem *p,
         long def, const char *key, const char *name)
{
	struct problem bad;
	long skip, limit;

	if (rc == 0 && listing_params(c->req->query, def, &skip, &limit, &bad) != 0) {
		rc = -1;
		p = &bad;
	}
	if (rc == 0)
		items = listing_page(items, key, 1, skip, limit, name);
	return ctx_answer(c, rc, 200, items, p);
}

int
ctx_replication(const struct ctx *c, struct replication_state *st)
{
	return replication_state(store_env(), c->conf, st);
}

static void
on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

static void
problem_answer(struct response *resp, struct problem *p)
{
	response_problem(resp, p);
}

static int
authenticate(struct ctx *c, struct problem *p)
{
	const struct route *rt = c->route;

	if (rt->flags & ROUTE_PUBLIC)
		return 0;
	if (c->req->credential_conflict) {
		problem_set(p, 400, "conflicting_credentials",
		    "the request carries two different credentials (X-API-Key, "
		    "Authorization: Bearer, X-Tork-API-Key); send exactly one");
		problem_answer(c->resp, p);
		return -1;
	}
	if (apikey_authenticate(c->conf, c->req->api_key, &c->who, p) != 0) {
		response_problem(c->resp, p);
		if (p->status == 503)
			response_header(c->resp, "Retry-After", "1");
		else
			response_header(c->resp, "WWW-Authenticate",
			    "Bearer realm=\"andon\", error=\"invalid_token\"");
		return -1;
	}
	if (c->req->tenant_header && c->req->tenant_header[0] &&
	    strcmp(c->req->tenant_header, c->who.tenant) != 0) {
		problem_set(p, 403, "tenant_mismatch",
		    "X-Tenant-ID does not match the tenant of the API key");
		problem_answer(c->resp, p);
		return -1;
	}
	if ((rt->flags & ROUTE_TENANT_HEADER) &&
	    (c->req->tenant_header == NULL || c->req->tenant_header[0] == '\0')) {
		problem_set(p, 400, "missing_tenant",
		    "the X-Tenant-ID header is required on this route");
		problem_answer(c->resp, p);
		return -1;
	}
	if (rt->scope && (c->who.scopes & rt->scope) != rt->scope) {
		unsigned missing = rt->scope & ~c->who.scopes;

		problem_set(p, 403, "insufficient_scope",
		    "the API key lacks the scope %s this call needs",
		    scope_name(missing & -missing));
		problem_answer(c->resp, p);
		return -1;
	}
	return 0;
}

static int
pass_gate(struct ctx *c, struct problem *p)
{
	char retry[16];
	json_t *body;

	if (c->route->flags & ROUTE_PUBLIC)
		return 0;
	if (gate_evaluate(c->who.tenant, c->who.key_id, &c->gate) != 0) {
		memset(&c->gate, 0, sizeof(c->gate));
		/* exempt handlers that answer from the gate (introspection)
		 * must treat this as a halt */
		c->gate.unavailable = 1;
		if (c->route->flags & ROUTE_GATE_EXEMPT)
			return 0;
		/* fail closed: an unreadable gate is not an open one */
		problem_set(p, 503, "gate_unavailable",
		    "the emergency gate could not be read; do not act, retry");
		response_problem(c->resp, p);
		response_header(c->resp, "Retry-After", "1");
		return -1;
	}
	/* exempt routes (stops, resolution, investigation) are never halted,
	 * but still carry the severity-3 warning */
	if (c->gate.severity >= 4 && !(c->route->flags & ROUTE_GATE_EXEMPT)) {
		problem_set(p, 503, "emergency_shutdown",
		    "emergency shutdown %s (severity %d) is active: %s",
		    c->gate.shutdown_id, c->gate.severity, c->gate.reason);
		response_problem(c->resp, p);
		body = c->resp->json;
		json_object_set_new(body, "shutdown_id", json_string(c->gate.shutdown_id));
		json_object_set_new(body, "severity", json_integer(c->gate.severity));
		json_object_set_new(body, "reason", json_string(c->gate.reason));
		snprintf(retry, sizeof(retry), "%d", 60);
		response_header(c->resp, "Retry-After", retry);
		return -1;
	}
	if (c->gate.severity > 0 && c->gate.severity <= 2) {
		/* logged once per shutdown and process, not on every call */
		static char logged[sizeof(c->gate.shutdown_id)];

		if (strcmp(logged, c->gate.shutdown_id) != 0) {
			snprintf(logged, sizeof(logged), "%s", c->gate.shutdown_id);
			log_notice("emergency shutdown %s (severity %d) active for tenant %s",
			    c->gate.shutdown_id, c->gate.severity, c->who.tenant);
		}
	}
	return 0;
}

struct bucket {
	const char *whose;       /* "key" or "tenant", for the 429 */
	const char *id;          /* key id or tenant id */
	const char *name;
	unsigned per_minute, burst;
};

/*
 * A state-changing administrative call (a route flagged ROUTE_RATE_LIMITED,
 * or a body naming a FIELD_RATE_LIMITED field, such as a PATCH of an
 * agent's status) needs a token in two buckets: the key's and its
 * tenant's, so that keys minted by a key do not multiply the limit.
 */
static int
admin_buckets(const struct ctx *c, struct bucket b[2])
{
	b[0] = (struct bucket){ "key", c->who.key_id, "admin",
	    c->conf->rate_limit_per_minute, c->conf->rate_limit_burst };
	b[1] = (struct bucket){ "tenant", c->who.tenant, "tenant-admin",
	    c->conf->tenant_rate_limit_per_minute, c->conf->tenant_rate_limit_burst };
	return 2;
}

static int
spend_admin(struct ctx *c)
{
	struct bucket b[2];
	int n = admin_buckets(c, b), rc = 0;

	for (int i = 0; i < n && rc == 0; i++)
		rc = ratelimit_spend(c->txn, b[i].id, b[i].name, b[i].per_minute,
		    b[i].burst);
	return rc;
}

static int
check_rate(struct ctx *c, struct problem *p)
{
	struct bucket b[2];
	int n = 0, retry_after = 0;
	char text[16];

	c->admin_call = (c->route->flags & ROUTE_RATE_LIMITED) ||
	    (c->route->body != NULL &&
	    body_names_flagged(c->body, c->route->body, FIELD_RATE_LIMITED));
	if (c->admin_call) {
		n = admin_buckets(c, b);
	} else if (c->route->flags & ROUTE_CHECK) {
		b[0] = (struct bucket){ "key", c->who.key_id, "check",
		    c->conf->check_rate_limit_per_minute,
		    c->conf->check_rate_limit_per_minute };
		n = 1;
	}
	for (int i = 0; i < n; i++) {
		if (ratelimit_check(b[i].id, b[i].name, b[i].per_minute, b[i].burst,
		    &retry_after))
			continue;
		problem_set(p, 429, "rate_limited",
		    "rate limit of %u calls a minute exceeded for this %s",
		    b[i].per_minute, b[i].whose);
		response_problem(c->resp, p);
		snprintf(text, sizeof(text), "%d", retry_after);
		response_header(c->resp, "Retry-After", text);
		return -1;
	}
	return 0;
}

/*
 * With replication on, a write that reaches a replica goes to the master:
 * 307 to the master's base URL with the same path and query (curl -L and
 * the SDKs send the same method, body and Idempotency-Key there), or 503
 * no_master while no site is (an election runs).  Answered before the key
 * is checked or the body read: a replica stores nothing of it.  1 when
 * answered.  A halt never blocks a stop: with no master, a kill
 * (ROUTE_STOP) is not answered here but goes on, without a transaction,
 * to its handler, which keeps it on this site (localstop.h).
 */
static int
redirect_to_master(struct ctx *c)
{
	const char *url;
	char *location;
	size_t len;

	switch (replication_master(store_env(), c->conf, &url)) {
	case 1:
		return 0;
	case 0:
		len = strlen(url) + 3 * strlen(c->req->path) + strlen(c->req->query) + 2;
		if ((location = malloc(len)) != NULL &&
		    replication_location(location, len, url, c->req->path,
		    c->req->query) == 0) {
			response_error(c->resp, 307, "not_master",
			    "this site is a replica; the master is %s", url);
			response_header(c->resp, "Location", location);
			free(location);
			return 1;
		}
		free(location);
		break;
	default:
		if (c->route->flags & ROUTE_STOP) {
			c->local_stop = 1;
			return 0;
		}
		break;
	}
	response_error(c->resp, 503, "no_master", "no site of the replication "
	    "group is the master now (an election runs); retry");
	response_header(c->resp, "Retry-After", "1");
	return 1;
}

/* A route without a body description takes no body: one sent anyway is
 * refused rather than ignored. */
static int
read_body(struct ctx *c, struct problem *p)
{
	if (c->route->body == NULL) {
		if (c->req->content_length < 0 &&
		    request_read_body(c->req, c->conf->max_body, p) != 0) {
			response_problem(c->resp, p);
			return -1;
		}
		if (c->req->content_length > 0 || c->req->body_len > 0) {
			problem_set(p, 400, "body_not_allowed",
			    "%s %s takes no request body", c->route->method,
			    c->route->pattern);
			response_problem(c->resp, p);
			return -1;
		}
		c->body = json_object();
		return 0;
	}
	if (request_read_body(c->req, c->conf->max_body, p) != 0 ||
	    (c->body = parse_json_body(c->req->body, c->req->body_len, p)) == NULL ||
	    validate_body(c->body, c->route->body, p) != 0) {
		response_problem(c->resp, p);
		return -1;
	}
	return 0;
}

/*
 * Runs the handler, in a write transaction for writes (store.h: writers
 * queue on one lock taken first), retrying the whole of it on deadlock,
 * lock timeout or a recovered environment, at once: the next attempt
 * waits in the lock manager, not in a sleep.  A write request answers
 * only once what it wrote, or read (a replay, a refusal), is on disk.
 */
static void
run_handler(struct ctx *c)
{
	const char *idem = c->req->idempotency_key;
	int write = (c->route->flags & ROUTE_WRITE) && !c->local_stop;
	char fingerprint[65];
	int rc = 0;

	if (write && idem)
		idem_fingerprint(c->req, fingerprint);
	for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
		enum idem_result seen = IDEM_NEW;

		response_reset(c->resp);
		c->txn = NULL;
		c->no_effect = 0;
		if (write && (rc = store_begin_write(&c->txn)) != 0)
			goto retry;
		if (write && idem) {
			rc = idem_lookup(c->txn, c->who.key_id, idem, fingerprint,
			    c->resp, &seen);
			if (rc != 0)
				goto retry;
			if (seen != IDEM_NEW) {
				store_abort(c->txn);
				c->txn = NULL;
				if ((rc = store_sync()) != 0)
					break;
				if (seen == IDEM_MISMATCH)
					response_error(c->resp, 422, "idempotency_key_reused",
					    "Idempotency-Key was already used with another request");
				return;
			}
		}
		rc = c->route->handler(c);
		if (rc == 0 && write) {
			/* refused, or a dry run: nothing is kept, nothing spent */
			if (c->resp->status >= 400 || c->no_effect) {
				store_abort(c->txn);
				c->txn = NULL;
				if ((rc = store_sync()) != 0)
					break;
				return;
			}
			if (idem)
				rc = idem_store(c->txn, c->who.key_id, idem, fingerprint,
				    c->resp, (c->route->flags & ROUTE_SHOWS_SECRET) != 0);
			if (rc == 0 && c->admin_call)
				rc = spend_admin(c);
			if (rc == 0) {
				rc = store_commit(c->txn);
				c->txn = NULL;
			}
		}
		if (rc == 0)
			return;
retry:
		if (c->txn != NULL) {
			store_abort(c->txn);
			c->txn = NULL;
		}
		if (!store_retryable(rc))
			break;
		if (rc == DB_LOCK_NOTGRANTED && store_failchk() == DB_RUNRECOVERY)
			rc = DB_RUNRECOVERY;
		if (rc == DB_RUNRECOVERY)
			store_reopen();
	}
	log_error("%s %s failed: %s", c->req->method, c->req->path,
	    rc > 0 ? strerror(rc) : db_strerror(rc));
	if (rc == ENOSPC || rc == EDQUOT) {
		/* the log or a page could not be written: what the request
		 * did may live in memory, never answered 2xx; a retry with the
		 * same Idempotency-Key after space is freed tells which */
		response_error(c->resp, 503, "storage_full", "the data directory "
		    "is full: the request was not acknowledged; retry it once "
		    "space is freed");
		response_header(c->resp, "Retry-After", STORAGE_FULL_RETRY_AFTER);
		return;
	}
	/* replication: not sent to the group, or not acknowledged by a
	 * quorum (replication.h); retried with its Idempotency-Key, it is
	 * either replayed or done */
	if (rc == DB_REP_UNAVAIL || rc == DB_REP_LEASE_EXPIRED) {
		response_error(c->resp, 503, "not_replicated", "the write was not "
		    "acknowledged by a quorum of sites; retry it");
		response_header(c->resp, "Retry-After", "1");
		return;
	}
	response_error(c->resp, rc == DB_LOCK_DEADLOCK || rc == DB_LOCK_NOTGRANTED
	    ? 503 : 500, "internal", "the request could not be completed; retry it");
	if (c->resp->status == 503)
		response_header(c->resp, "Retry-After", "1");
}

static void
add_warning(struct ctx *c)
{
	char header[256];

	if (c->gate.severity != 3)
		return;
	/* a write may have just changed the gate (resolved this very
	 * shutdown): the warning tells the state after it, not before */
	if ((c->route->flags & ROUTE_WRITE) && c->resp->status < 300) {
		struct gate_state after;

		if (gate_evaluate(c->who.tenant, c->who.key_id, &after) == 0)
			c->gate = after;
		if (c->gate.severity != 3)
			return;
	}
	snprintf(header, sizeof(header), "%s; severity=3", c->gate.shutdown_id);
	response_header(c->resp, "X-Emergency-Warning", header);
	if (json_is_object(c->resp->json))
		json_object_set_new(c->resp->json, "emergency_warning",
		    json_pack("{s:s, s:i, s:s}", "shutdown_id", c->gate.shutdown_id,
		    "severity", 3, "reason", c->gate.reason));
}

/* Where a streamed body goes: the connection, the watchdog re-armed at
 * every write (an export lasts as long as it has events to send). */
struct sink {
	int (*write_out)(void *ctx, const char *buf, size_t len);
	void *out;
};

static int
sink_write(void *ctx, const char *buf, size_t len)
{
	struct sink *s = ctx;

	watchdog_arm(conf.watchdog_seconds);
	return s->write_out(s->out, buf, len);
}

static void
handle(const struct family *f, const struct request_io *io,
       int (*write_out)(void *ctx, const char *buf, size_t len), void *out)
{
	struct request req;
	struct response resp;
	struct problem p;
	struct ctx c;
	char rid[ID_REQUEST_SIZE], allow[128], *text;
	size_t len = 0;
	int head_only;
	enum route_match m;

	response_init(&resp);
	memset(&c, 0, sizeof(c));
	c.conf = &conf;
	c.req = &req;
	c.resp = &resp;
	if (request_parse(&req, io, &p) != 0) {
		response_problem(&resp, &p);
		goto send;
	}
	m = router_find(f->routes, f->route_count, req.method, req.path,
	    &c.route, req.params, REQUEST_MAX_PARAMS, req.param_buf,
	    sizeof(req.param_buf));
	if (m == ROUTE_NO_PATH) {
		response_error(&resp, 404, "not_found", "no such resource");
		goto send;
	}
	if (m == ROUTE_NO_METHOD || !strcmp(req.method, "OPTIONS"))
		router_allow(f->routes, f->route_count, req.path, allow,
		    sizeof(allow));
	if (!strcmp(req.method, "OPTIONS")) {
		resp.status = 204;
		response_header(&resp, "Allow", allow);
		goto send;
	}
	if (m == ROUTE_NO_METHOD) {
		response_error(&resp, 405, "method_not_allowed",
		    "%s is not allowed here; allowed: %s", req.method, allow);
		response_header(&resp, "Allow", allow);
		goto send;
	}
	if (req.idempotency_key && (c.route->flags & ROUTE_WRITE) &&
	    !idem_key_valid(req.idempotency_key)) {
		response_error(&resp, 400, "invalid_idempotency_key",
		    "Idempotency-Key must be 1 to 255 printable characters");
		goto send;
	}
	if ((c.route->flags & ROUTE_WRITE) && conf.replication &&
	    redirect_to_master(&c))
		goto send;
	if (authenticate(&c, &p) != 0 || pass_gate(&c, &p) != 0 ||
	    read_body(&c, &p) != 0 || check_rate(&c, &p) != 0)
		goto send;
	run_handler(&c);
	add_warning(&c);
send:
	request_discard_body(&req, REQUEST_DISCARD_MAX);
	id_request(req.request_id_header, rid);
	head_only = !strcmp(req.method ? req.method : "", "HEAD");
	if ((text = response_serialise(&resp, rid, head_only, &len)) != NULL &&
	    write_out(out, text, len) == 0 && resp.stream && !head_only) {
		struct sink sink = { write_out, out };

		resp.stream(resp.stream_arg, sink_write, &sink);
	}
	free(text);
	json_decref(c.body);
	response_reset(&resp);
	request_free(&req);
}

/* FastCGI and CGI input/output */

static long
fcgi_read(void *ctx, char *buf, size_t len)
{
	return FCGX_GetStr(buf, (int)(len > 1 << 30 ? 1 << 30 : len), ctx);
}

static int
fcgi_write(void *ctx, const char *buf, size_t len)
{
	return FCGX_PutStr(buf, (int)len, ctx) == (int)len ? 0 : -1;
}

static long
cgi_read(void *ctx, char *buf, size_t len)
{
	(void)ctx;
	return (long)fread(buf, 1, len, stdin);
}

static int
cgi_write(void *ctx, const char *buf, size_t len)
{
	(void)ctx;
	if (fwrite(buf, 1, len, stdout) != len)
		return -1;
	return fflush(stdout) == 0 ? 0 : -1;
}

/*
 * After every answer and when idle: the family's tick each time (it writes
 * what it deferred, see intervention.h), the maintenance (failchk, and the
 * checkpoint when no checkpointer runs, checkpointer.h) about once a
 * second, busy or not.
 */
static void
tick(const struct family *f, int force)
{
	int64_t now = clock_now_ms();
	int due = force || now - last_tick >= TICK_MS;

	if (!due && f->tick == NULL)
		return;
	if (due) {
		last_tick = now;
		/* another process is stuck: leave, so it can recover alone */
		if (envlock_recovery_requested()) {
			log_notice("a forced recovery was asked for: exiting");
			_exit(0);
		}
	}
	watchdog_arm(conf.watchdog_seconds);
	if (f->tick)
		f->tick(&conf);
	if (due)
		store_maintain(conf.checkpoint_kbytes, conf.checkpoint_minutes);
	watchdog_disarm();
}

static int
start(const struct family *f, int argc, char **argv)
{
	char err[512];
	struct sigaction sa;

	(void)argc;
	(void)argv;
	log_set_program(f->name);
	conf_defaults(&conf);
	if (sodium_init() < 0) {
		fprintf(stderr, "%s: libsodium failed to initialise\n", f->name);
		return -1;
	}
	if (conf_load(&conf, conf_default_path(), err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", f->name, err);
		log_error("%s", err);
		return -1;
	}
	/* without it keys still work, checked by their Argon2 hash within a
	 * budget (apikey.c), so a missing pepper is said, not fatal */
	if (pepper_load(conf.key_pepper_file, err, sizeof(err)) != 0)
		log_error("%s; API keys are checked by their Argon2 hash", err);
	/* with replication on, join the site's replication process */
	store_replicate(&conf, REPLICATION_SUBORDINATE);
	/* checkpoints are a standby process's job, not a request's.  Forked
	 * before the watchdog's thread exists: a child forked from a threaded
	 * process may find a lock (the allocator's) held for good */
	if (!FCGX_IsCGI() && checkpointer_fork(&conf) == 0)
		store_checkpoints_elsewhere();
	if ((FCGX_IsCGI() ? watchdog_start_alarm() : watchdog_start()) != 0) {
		fprintf(stderr, "%s: the watchdog could not start\n", f->name);
		return -1;
	}
	watchdog_arm(conf.watchdog_seconds * WATCHDOG_OPEN_FACTOR);
	/* plain CGI: open only what the one request reads (store.h) */
	if (FCGX_IsCGI())
		store_one_request();
	if (store_open(conf.data_dir, conf.db_cache_mb, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", f->name, err);
		log_error("%s", err);
		return -1;
	}
	if (f->init && f->init(&conf) != 0) {
		fprintf(stderr, "%s: initialisation failed\n", f->name);
		return -1;
	}
	watchdog_disarm();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static void
stop(const struct family *f)
{
	if (f->finish)
		f->finish();
	tick(f, 1);
	store_close();
}

static int
serve_cgi(const struct family *f)
{
	struct request_io io = { NULL, cgi_read, environ };

	watchdog_arm(conf.watchdog_seconds);
	handle(f, &io, cgi_write, NULL);
	watchdog_disarm();
	stop(f);
	return 0;
}

/*
 * Makes accept() on the FastCGI listening socket (descriptor 0) give up
 * after ms, so an idle process still runs its tick without a poll() before
 * every request.  Linux honours SO_RCVTIMEO on accept(); the accepted
 * connections do not inherit it.  Returns 0 when it could not be set: the
 * loop then polls.
 */
static int
accept_times_out(int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	return setsockopt(0, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0;
}

int
server_main(int argc, char **argv, const struct family *f)
{
	FCGX_Request fr;
	int timed;

	/* --listen: this process supervises workers on its own socket */
	switch (prefork_run(argc, argv)) {
	case 0:
	case 1:
		break;
	case 2:
		return 0;
	default:
		return 2;
	}
	if (start(f, argc, argv) != 0) {
		if (FCGX_IsCGI()) {
			/* still answer the CGI request, without leaking why */
			static const char msg[] =
			    "Status: 500 Internal Server Error\r\n"
			    "Content-Type: application/problem+json\r\n\r\n"
			    "{\"type\":\"about:blank\",\"title\":\"Internal Server Error\","
			    "\"status\":500,\"detail\":\"the service is misconfigured\","
			    "\"code\":\"internal\"}";
			fwrite(msg, 1, sizeof(msg) - 1, stdout);
		}
		return 1;
	}
	if (FCGX_IsCGI())
		return serve_cgi(f);
	FCGX_Init();
	/* SIGTERM must interrupt a waiting accept() so that we stop */
	FCGX_InitRequest(&fr, 0, FCGI_FAIL_ACCEPT_ON_INTR);
	timed = accept_times_out(TICK_MS);
	last_tick = clock_now_ms();
	while (!stopping) {
		struct request_io io;
		int rc;

		if (!timed) {
			struct pollfd pfd = { 0, POLLIN, 0 };
			int ready = poll(&pfd, 1, TICK_MS);

			if (ready == 0 || (ready < 0 && errno == EINTR)) {
				tick(f, ready == 0);
				continue;
			}
		}
		rc = FCGX_Accept_r(&fr);
		if (rc == -EAGAIN || rc == -EWOULDBLOCK || rc == -EINTR) {
			/* idle for TICK_MS, or a signal */
			tick(f, rc != -EINTR);
			continue;
		}
		if (rc < 0)
			break;
		io.ctx = fr.in;
		io.read = fcgi_read;
		io.envp = fr.envp;
		watchdog_arm(conf.watchdog_seconds);
		handle(f, &io, fcgi_write, fr.out);
		FCGX_Finish_r(&fr);
		watchdog_disarm();
		tick(f, 0);
	}
	stop(f);
	return 0;
}
