/* problem.c - fill problem details; the HTTP reason phrases. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "problem.h"

void
problem_set(struct problem *p, int status, const char *code,
            const char *fmt, ...)
{
	va_list ap;

	p->status = status;
	p->code = code;
	p->field[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(p->detail, sizeof(p->detail), fmt, ap);
	va_end(ap);
}

void
problem_field(struct problem *p, const char *field)
{
	snprintf(p->field, sizeof(p->field), "%s", field);
}

const char *
http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 307: return "Temporary Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	/* also a full disk (storage_full, with Retry-After), not 507
	 * Insufficient Storage: WebDAV's word, which clients do not retry;
	 * the disk is the service's, not the request's, and frees up */
	case 503: return "Service Unavailable";
	default:  return status < 400 ? "OK" : "Error";
	}
}
