/*
 * server.h - what every executable shares: the accept loop (FastCGI, or
 * one request as plain CGI), and the request pipeline every route passes:
 *
 *   route (404/405/OPTIONS) -> authenticate (two credentials 400, 401)
 *   -> X-Tenant-ID (400/403) -> scope (403) -> emergency gate (503, or a
 *   warning) -> body limit, JSON and field table, or no body on a route
 *   without one (413/400) -> rate limit (429) -> Idempotency-Key
 *   (replay/422) -> handler, in a retried transaction for writes -> commit
 *   -> audit sinks -> response with X-Request-Id.
 *
 * The rate limit follows the body because what a call does decides it: a
 * body naming a FIELD_RATE_LIMITED field (an agent's status) spends the
 * admin buckets like a ROUTE_RATE_LIMITED route.
 *
 * A family is its route table plus optional hooks; cgi-bin/<family>.c
 * holds nothing else.
 */
#ifndef ANDON_SERVER_H
#define ANDON_SERVER_H

#include <db.h>
#include <jansson.h>

#include "principal.h"
#include "conf.h"
#include "encode.h"
#include "gate.h"
#include "request.h"
#include "response.h"
#include "router.h"

struct ctx {
	const struct conf *conf;
	const struct route *route;
	struct request *req;
	struct response *resp;
	struct principal who;     /* the caller (empty on public routes) */
	DB_TXN *txn;              /* write routes only */
	json_t *body;             /* the validated body, or an empty object */
	struct gate_state gate;
	int no_effect;            /* set by a handler that changed nothing (a
	                             dry run): the transaction is aborted, no
	                             rate-limit token is spent and no
	                             Idempotency-Key answer is stored */
	int admin_call;           /* a state-changing administrative call:
	                             spends a token of the key's and of the
	                             tenant's admin bucket when it succeeds */
	int local_stop;           /* a ROUTE_STOP call while no site is the
	                             master: no transaction, the handler keeps
	                             the kill on this site (localstop.h) */
};

struct family {
	const char *name;                      /* "killswitch" */
	const struct route *routes;
	size_t route_count;
	int (*init)(const struct conf *conf);  /* after the store opens */
	void (*tick)(const struct conf *conf); /* after every answer, and
	                                          about once a second idle */
	void (*finish)(void);                  /* before exit */
};

int server_main(int argc, char **argv, const struct family *family);

/* Path parameter i ({name} segments, in order). */
const char *ctx_param(const struct ctx *c, int i);
/* String member of the body, or NULL. */
const char *ctx_str(const struct ctx *c, const char *name);
/*
 * Answers a library call's result (lib/README, "Returns"): 0 answers out
 * (stolen) with status, -1 the problem p; any other rc is passed back, out
 * released, for the pipeline to retry or answer 500/503.  Returns what the
 * handler returns.
 */
int ctx_answer(struct ctx *c, int rc, int status, json_t *out,
               const struct problem *p);
/*
 * The same for a noun's listing (items, stolen, unsorted): on 0, a page of
 * it by ?skip=&limit= (limit def when absent; 400 when bad), sorted newest
 * first by the string member key, answered 200 as {name: page, "count":
 * total} (listing.h).
 */
int ctx_page(struct ctx *c, int rc, json_t *items, const struct problem *p,
             long def, const char *key, const char *name);

/* With conf replication on, this site's replication state
 * (replication.h): 0, or -1 when off or the environment cannot say. */
struct replication_state;
int ctx_replication(const struct ctx *c, struct replication_state *st);

#endif
