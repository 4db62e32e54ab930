/*
 * router.h - a family's routes as a table: method, path pattern with
 * {name} segments, the scope it needs, what the pipeline must do around it
 * (transaction, rate limit, emergency gate) and the body it accepts.
 */
#ifndef ANDON_ROUTER_H
#define ANDON_ROUTER_H

#include <stddef.h>
#include "validate.h"

struct ctx;

enum route_flags {
	ROUTE_WRITE = 1 << 0,        /* runs in a transaction; Idempotency-Key */
	ROUTE_RATE_LIMITED = 1 << 1, /* spends the key's and the tenant's admin
	                                token buckets (also a body naming a
	                                FIELD_RATE_LIMITED field) */
	ROUTE_GATE_EXEMPT = 1 << 2,  /* reachable during any shutdown */
	ROUTE_PUBLIC = 1 << 3,       /* no credentials needed */
	ROUTE_TENANT_HEADER = 1 << 4,/* X-Tenant-ID required */
	ROUTE_CHECK = 1 << 5,        /* the kill-switch check (own limit) */
	ROUTE_SHOWS_SECRET = 1 << 6, /* its answer shows a secret once: the
	                                Idempotency-Key copy withholds it
	                                (idempotency.h) */
	ROUTE_STOP = 1 << 7,         /* a kill: with replication on and no
	                                master, kept on the site rather than
	                                refused (localstop.h) */
};

struct route {
	const char *method;
	const char *pattern;          /* "/api/v1/kill-switch/kill" */
	int (*handler)(struct ctx *c);
	unsigned scope;               /* enum scope bits, 0 = any key */
	unsigned flags;
	const struct body_spec *body; /* NULL: a body is refused (400) */
};

enum route_match { ROUTE_FOUND, ROUTE_NO_PATH, ROUTE_NO_METHOD };

/* Finds the route for method and path; fills params (pointers into
 * parambuf) with the {name} segments in order.  HEAD finds the GET route. */
enum route_match router_find(const struct route *routes, size_t count,
                             const char *method, const char *path,
                             const struct route **found, const char **params,
                             size_t maxparams, char *parambuf, size_t buflen);

/* The methods path accepts, for the Allow header of an OPTIONS or 405
 * answer: "GET, HEAD, POST, OPTIONS"; "" when no route matches it. */
void router_allow(const struct route *routes, size_t count, const char *path,
                  char *allow, size_t allowlen);

#endif
