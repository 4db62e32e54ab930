/*
 * server.h - what every executable shares: the accept loop (FastCGI, or
 * one request as plain CGI), and the request pipeline every route passes:
 *
 *   route (404/405/OPTIONS) -> authenticate (401) -> X-Tenant-ID (400/403)
 *   -> scope (403) -> emergency gate (503, or a warning) -> rate limit
 *   (429) -> body limit, JSON and field table (413/400) -> Idempotency-Key
 *   (replay/422) -> handler, in a retried transaction for writes -> commit
 *   -> audit sinks -> response with X-Request-Id.
 *
 * A family is its route table plus optional hooks; cgi-bin/<family>.c
 * holds nothing else.
 */
#ifndef ANDON_SERVER_H
#define ANDON_SERVER_H

#include <db.h>
#include <jansson.h>

#include "apikey.h"
#include "conf.h"
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
/* A JSON string, or null for NULL. */
json_t *json_str_or_null(const char *s);

#endif
