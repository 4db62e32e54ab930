/*
 * request.h - one HTTP request as the web server hands it over, by FastCGI
 * or by plain CGI: method, path, query, the headers Andon reads, and the
 * body, read only up to the max_body limit.
 */
#ifndef ANDON_REQUEST_H
#define ANDON_REQUEST_H

#include <stddef.h>
#include "problem.h"

#define REQUEST_PATH_MAX 2048
#define REQUEST_MAX_PARAMS 4

struct request_io {
	void *ctx;
	/* reads up to len bytes; returns bytes read, 0 at the end, -1 on error */
	long (*read)(void *ctx, char *buf, size_t len);
	char **envp;
};

struct request {
	const char *method;
	char path[REQUEST_PATH_MAX];       /* decoded path, no query */
	const char *query;                 /* raw query string, "" when none */
	const char *api_key;               /* X-API-Key, Bearer or X-Tork-API-Key
	                                      credential, or NULL */
	int credential_conflict;           /* two different credentials: 400 */
	const char *tenant_header;         /* X-Tenant-ID or NULL */
	const char *request_id_header;     /* X-Request-Id or NULL */
	const char *idempotency_key;       /* Idempotency-Key or NULL */
	const char *content_type;
	const char *accept;
	const char *remote_addr;
	long content_length;               /* -1 when absent */
	char *body;                        /* NUL-terminated, may be NULL */
	size_t body_len;
	const char *params[REQUEST_MAX_PARAMS];  /* {name} path segments */
	char param_buf[REQUEST_PATH_MAX];
	char credential_buf[512];
	struct request_io io;
};

/* Fills method, path, query and headers from the parameters.  Returns -1
 * with a problem (400) when the path cannot be decoded.
 *
 * The credential is read from X-API-Key, Authorization: Bearer and
 * X-Tork-API-Key.  Exactly one may be sent: the same value in several of
 * them (or a header repeated with the same value) is one credential; two
 * different values set credential_conflict.  A header spelled with
 * underscores or dots (X_API_KEY, X.API.Key) never counts: Apache drops
 * it before the application sees it; lighttpd passes it under the same
 * name as the real one, so its shipped conf names the credential headers
 * that were absent in ANDON_ABSENT_HEADERS and a value under an absent
 * header's name is ignored. */
int request_parse(struct request *r, const struct request_io *io,
                  struct problem *p);
/* Reads the body when there is one; 413 when it exceeds max_body. */
int request_read_body(struct request *r, size_t max_body, struct problem *p);
void request_free(struct request *r);

/* Reads and drops what is left of a declared body of at most max bytes
 * (the body was refused unread: a 413).  A plain-CGI process that exits
 * with its body unread leaves the web server writing into a closed pipe,
 * and the client's connection may be reset before the answer reaches it
 * (t0400 saw curl get nothing for a 413 under Apache's mod_cgid). */
#define REQUEST_DISCARD_MAX (1024 * 1024)
void request_discard_body(struct request *r, size_t max);

/* Query string: the first value of name, percent-decoded into buf.
 * Returns 1 when present, 0 when absent, -1 when malformed or too long. */
int query_get(const char *query, const char *name, char *buf, size_t len);
/* Reads an integer parameter in [min, max], default def when absent. */
int query_long(const char *query, const char *name, long def, long min,
               long max, long *out, struct problem *p);

/* Percent-decodes src (len bytes) into dst; '+' is a space when plus_space.
 * Refuses NUL bytes and malformed escapes: returns -1. */
int url_decode(const char *src, size_t len, char *dst, size_t dstlen,
               int plus_space);

#endif
