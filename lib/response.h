/*
 * response.h - the response being built: status, extra headers and a body
 * that is either a JSON value or raw text (NDJSON exports, replays).
 */
#ifndef ANDON_RESPONSE_H
#define ANDON_RESPONSE_H

#include <stddef.h>
#include <jansson.h>
#include "problem.h"

/* Writes len bytes of a streamed body; 0, or -1 when the client is gone. */
typedef int (*response_write_fn)(void *sink, const char *buf, size_t len);

struct response {
	int status;
	char headers[2048];     /* "Name: value\r\n" lines */
	size_t headers_len;
	json_t *json;           /* owned; serialised when raw is NULL */
	char *raw;              /* owned, malloc'd */
	size_t raw_len;
	const char *content_type;
	/* A body written while it is produced (NDJSON exports): sent after
	 * the head, which then has no Content-Length; stream() writes through
	 * write(sink, ...) and returns 0, or -1 when it stopped early. */
	int (*stream)(void *arg, response_write_fn write, void *sink);
	void *stream_arg;
	void (*stream_free)(void *arg);
};

void response_init(struct response *r);
void response_reset(struct response *r);
/* Takes ownership of body (a json_t reference). */
void response_json(struct response *r, int status, json_t *body);
void response_raw(struct response *r, int status, const char *content_type,
                  char *body, size_t len);
/* Takes ownership of arg (freed by free_arg, which may be NULL). */
void response_stream(struct response *r, int status, const char *content_type,
                     int (*stream)(void *arg, response_write_fn write, void *sink),
                     void *arg, void (*free_arg)(void *arg));
void response_problem(struct response *r, const struct problem *p);
/* Shortcut: fills a problem and answers it. */
void response_error(struct response *r, int status, const char *code,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Adds a header; silently refuses CR/LF in either part. */
void response_header(struct response *r, const char *name, const char *value);
/* Serialises status line, headers and body into a malloc'd buffer.
 * With head_only the body is left out but Content-Length kept.  A
 * streamed response gives its head only. */
char *response_serialise(struct response *r, const char *request_id,
                         int head_only, size_t *len);

#endif
