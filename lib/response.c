/* response.c - build and serialise responses, RFC 9457 problems. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonout.h"
#include "response.h"

void
response_init(struct response *r)
{
	memset(r, 0, sizeof(*r));
	r->status = 200;
}

/* Drops whatever body r had. */
static void
drop_body(struct response *r)
{
	json_decref(r->json);
	free(r->raw);
	if (r->stream_free)
		r->stream_free(r->stream_arg);
	r->json = NULL;
	r->raw = NULL;
	r->stream = NULL;
	r->stream_arg = NULL;
	r->stream_free = NULL;
}

void
response_reset(struct response *r)
{
	drop_body(r);
	response_init(r);
}

void
response_json(struct response *r, int status, json_t *body)
{
	drop_body(r);
	r->status = status;
	r->json = body;
	r->content_type = "application/json";
}

void
response_raw(struct response *r, int status, const char *content_type,
             char *body, size_t len)
{
	drop_body(r);
	r->status = status;
	r->raw = body;
	r->raw_len = len;
	r->content_type = content_type;
}

void
response_stream(struct response *r, int status, const char *content_type,
                int (*stream)(void *arg, response_write_fn write, void *sink),
                void *arg, void (*free_arg)(void *arg))
{
	drop_body(r);
	r->status = status;
	r->content_type = content_type;
	r->stream = stream;
	r->stream_arg = arg;
	r->stream_free = free_arg;
}

void
response_problem(struct response *r, const struct problem *p)
{
	json_t *body = json_pack("{s:s, s:s, s:i, s:s, s:s}",
	    "type", "about:blank",
	    "title", http_reason(p->status),
	    "status", p->status,
	    "detail", p->detail,
	    "code", p->code ? p->code : "error");

	if (body != NULL && p->field[0] != '\0')
		json_object_set_new(body, "field", json_string(p->field));
	response_json(r, p->status, body);
	r->content_type = "application/problem+json";
}

void
response_error(struct response *r, int status, const char *code,
               const char *fmt, ...)
{
	struct problem p;
	va_list ap;

	p.status = status;
	p.code = code;
	p.field[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(p.detail, sizeof(p.detail), fmt, ap);
	va_end(ap);
	response_problem(r, &p);
}

void
response_header(struct response *r, const char *name, const char *value)
{
	int n;

	if (strpbrk(name, "\r\n") || strpbrk(value, "\r\n"))
		return;
	n = snprintf(r->headers + r->headers_len,
	    sizeof(r->headers) - r->headers_len, "%s: %s\r\n", name, value);
	if (n > 0 && r->headers_len + (size_t)n < sizeof(r->headers))
		r->headers_len += (size_t)n;
	else
		r->headers[r->headers_len] = '\0';
}

/* Appends the string s to the head being built in buf (cap bytes, *used
 * taken); what does not fit is left out and *used stays within cap. */
static void
put(char *buf, size_t cap, size_t *used, const char *s)
{
	size_t n = strlen(s);

	if (n > cap - *used)
		n = cap - *used;
	memcpy(buf + *used, s, n);
	*used += n;
}

/* Appends v in decimal. */
static void
put_number(char *buf, size_t cap, size_t *used, size_t v)
{
	char digits[24], *p = digits + sizeof(digits);

	*--p = '\0';
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0 && p > digits);
	put(buf, cap, used, p);
}

char *
response_serialise(struct response *r, const char *request_id, int head_only,
                   size_t *len)
{
	char head[4096], dumped[8192], *body = NULL, *big = NULL, *out;
	size_t blen = 0, hlen = 0;

	if (r->raw != NULL) {
		body = r->raw;
		blen = r->raw_len;
	} else if (r->json != NULL) {
		/* most answers fit the stack buffer; bigger ones are written
		 * again into one of their size */
		blen = jsonout_compact(r->json, dumped, sizeof(dumped));
		if (blen > sizeof(dumped) && (big = malloc(blen)) != NULL &&
		    jsonout_compact(r->json, big, blen) != blen) {
			free(big);
			big = NULL;
		}
		if (blen == 0 || (blen > sizeof(dumped) && big == NULL)) {
			/* nested too deep for jsonout: jansson's own dumper */
			big = json_dumps(r->json, JSON_COMPACT);
			blen = big ? strlen(big) : 0;
		}
		body = big ? big : dumped;
	}
	put(head, sizeof(head), &hlen, "Status: ");
	put_number(head, sizeof(head), &hlen, (size_t)r->status);
	put(head, sizeof(head), &hlen, " ");
	put(head, sizeof(head), &hlen, http_reason(r->status));
	if (r->stream == NULL) {
		put(head, sizeof(head), &hlen, "\r\nContent-Length: ");
		put_number(head, sizeof(head), &hlen, blen);
	}
	put(head, sizeof(head), &hlen, "\r\nX-Request-Id: ");
	put(head, sizeof(head), &hlen, request_id);
	put(head, sizeof(head), &hlen, "\r\nCache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n");
	if (body != NULL || r->stream != NULL || r->content_type != NULL) {
		put(head, sizeof(head), &hlen, "Content-Type: ");
		put(head, sizeof(head), &hlen,
		    r->content_type ? r->content_type : "application/json");
		put(head, sizeof(head), &hlen, "\r\n");
	}
	put(head, sizeof(head), &hlen, r->headers);
	put(head, sizeof(head), &hlen, "\r\n");
	if (head_only)
		blen = 0;
	if ((out = malloc(hlen + blen + 1)) != NULL) {
		memcpy(out, head, hlen);
		if (blen)
			memcpy(out + hlen, body, blen);
		out[hlen + blen] = '\0';
		*len = hlen + blen;
	}
	free(big);
	return out;
}
