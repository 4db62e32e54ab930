/* request.c - read a request from FastCGI/CGI parameters and body. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "request.h"

/*
 * The parameters Andon reads.  They are picked out of the environment in
 * one pass: FCGX_GetParam() would scan all of it once per name.
 */
enum param_index {
	P_METHOD, P_URI, P_SCRIPT_NAME, P_PATH_INFO, P_QUERY_STRING,
	P_API_KEY, P_AUTHORIZATION, P_TORK_API_KEY, P_TENANT_ID, P_REQUEST_ID,
	P_IDEMPOTENCY_KEY, P_CONTENT_TYPE, P_ACCEPT, P_REMOTE_ADDR,
	P_CONTENT_LENGTH, P_ABSENT_HEADERS, P_COUNT
};

#define PARAM(name) { name, sizeof(name) - 1 }
static const struct {
	const char *name;
	size_t len;
} param_names[P_COUNT] = {
	[P_METHOD] = PARAM("REQUEST_METHOD"),
	[P_URI] = PARAM("REQUEST_URI"),
	[P_SCRIPT_NAME] = PARAM("SCRIPT_NAME"),
	[P_PATH_INFO] = PARAM("PATH_INFO"),
	[P_QUERY_STRING] = PARAM("QUERY_STRING"),
	[P_API_KEY] = PARAM("HTTP_X_API_KEY"),
	[P_AUTHORIZATION] = PARAM("HTTP_AUTHORIZATION"),
	[P_TORK_API_KEY] = PARAM("HTTP_X_TORK_API_KEY"),
	[P_TENANT_ID] = PARAM("HTTP_X_TENANT_ID"),
	[P_REQUEST_ID] = PARAM("HTTP_X_REQUEST_ID"),
	[P_IDEMPOTENCY_KEY] = PARAM("HTTP_IDEMPOTENCY_KEY"),
	[P_CONTENT_TYPE] = PARAM("CONTENT_TYPE"),
	[P_ACCEPT] = PARAM("HTTP_ACCEPT"),
	[P_REMOTE_ADDR] = PARAM("REMOTE_ADDR"),
	[P_CONTENT_LENGTH] = PARAM("CONTENT_LENGTH"),
	/* set by conf/lighttpd.conf: the credential headers not sent */
	[P_ABSENT_HEADERS] = PARAM("ANDON_ABSENT_HEADERS"),
};
#undef PARAM

/* Fills value[i] with the value of param_names[i] (the first one when a
 * name repeats), or NULL; sets bit i of *repeated when name i repeats. */
static void
find_params(char **envp, const char *value[P_COUNT], unsigned *repeated)
{
	*repeated = 0;
	for (int i = 0; i < P_COUNT; i++)
		value[i] = NULL;
	for (; envp != NULL && *envp != NULL; envp++) {
		const char *entry = *envp, *eq = strchr(entry, '=');
		size_t len;

		if (eq == NULL)
			continue;
		len = (size_t)(eq - entry);
		for (int i = 0; i < P_COUNT; i++) {
			if (param_names[i].len != len ||
			    memcmp(entry, param_names[i].name, len) != 0)
				continue;
			if (value[i] == NULL)
				value[i] = eq + 1;
			else
				*repeated |= 1u << i;
			break;
		}
	}
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
url_decode(const char *src, size_t len, char *dst, size_t dstlen,
           int plus_space)
{
	size_t out = 0;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)src[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= len)
				return -1;
			hi = hexval((unsigned char)src[i + 1]);
			lo = hexval((unsigned char)src[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		} else if (c == '+' && plus_space) {
			c = ' ';
		}
		if (c == 0 || out + 1 >= dstlen)
			return -1;
		dst[out++] = (char)c;
	}
	dst[out] = '\0';
	return (int)out;
}

/*
 * Credentials.  Every value of every credential header is a candidate:
 * servers join a repeated header with ", ", and lighttpd passes a header
 * spelled "X_API_KEY" or "X.API.Key" as a second HTTP_X_API_KEY.  The
 * first candidate is kept; a different one is a conflict.
 */
static const struct {
	enum param_index param;
	const char *header;     /* as ANDON_ABSENT_HEADERS names it */
	int bearer;             /* Authorization: only "Bearer <key>" counts */
} credential_params[] = {
	{ P_API_KEY, "X-API-Key", 0 },
	{ P_AUTHORIZATION, "Authorization", 1 },
	{ P_TORK_API_KEY, "X-Tork-API-Key", 0 },
};

struct credential {
	const char *s;
	size_t len;
};

static void
credential_add(struct request *r, struct credential *kept, const char *s,
               size_t len)
{
	while (len > 0 && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len == 0)
		return;
	if (kept->s == NULL) {
		kept->s = s;
		kept->len = len;
	} else if (kept->len != len || memcmp(kept->s, s, len) != 0) {
		r->credential_conflict = 1;
	}
}

/* The candidates in one header value, a comma-separated list. */
static void
credential_values(struct request *r, struct credential *kept, const char *v,
                  int bearer)
{
	while (*v != '\0') {
		size_t len = strcspn(v, ",");
		const char *s = v;

		v += len;
		if (*v == ',')
			v++;
		if (!bearer) {
			credential_add(r, kept, s, len);
			continue;
		}
		/* other schemes (Basic, Digest and its comma-separated
		 * parameters) are not a key */
		while (len > 0 && (*s == ' ' || *s == '\t'))
			s++, len--;
		if (len > 7 && strncasecmp(s, "Bearer", 6) == 0 &&
		    (s[6] == ' ' || s[6] == '\t'))
			credential_add(r, kept, s + 7, len - 7);
	}
}

/* 1 when name is in the space- or comma-separated list. */
static int
listed(const char *list, const char *name)
{
	size_t n = strlen(name);

	while (list != NULL && *list != '\0') {
		size_t len;

		list += strspn(list, " ,");
		len = strcspn(list, " ,");
		if (len == n && strncasecmp(list, name, n) == 0)
			return 1;
		list += len;
	}
	return 0;
}

static void
find_credential(struct request *r, char **envp, const char *value[P_COUNT],
                unsigned repeated)
{
	struct credential kept = { NULL, 0 };

	for (size_t i = 0; i < sizeof(credential_params) /
	    sizeof(credential_params[0]); i++) {
		enum param_index pi = credential_params[i].param;
		int bearer = credential_params[i].bearer;
		size_t nlen = param_names[pi].len;

		if (value[pi] == NULL ||
		    listed(value[P_ABSENT_HEADERS], credential_params[i].header))
			continue;
		if (!(repeated & (1u << pi))) {
			credential_values(r, &kept, value[pi], bearer);
			continue;
		}
		for (char **e = envp; *e != NULL; e++)
			if (strncmp(*e, param_names[pi].name, nlen) == 0 &&
			    (*e)[nlen] == '=')
				credential_values(r, &kept, *e + nlen + 1, bearer);
	}
	if (kept.s == NULL)
		return;
	if (kept.s[kept.len] == '\0') {
		r->api_key = kept.s;
		return;
	}
	/* too long to be a key: the copy is cut, and refused as a key */
	if (kept.len >= sizeof(r->credential_buf))
		kept.len = sizeof(r->credential_buf) - 1;
	memcpy(r->credential_buf, kept.s, kept.len);
	r->credential_buf[kept.len] = '\0';
	r->api_key = r->credential_buf;
}

int
request_parse(struct request *r, const struct request_io *io,
              struct problem *p)
{
	const char *value[P_COUNT], *uri, *q, *cl;
	unsigned repeated;
	size_t plen;

	memset(r, 0, sizeof(*r));
	r->io = *io;
	find_params(io->envp, value, &repeated);
	r->method = value[P_METHOD];
	if (r->method == NULL)
		r->method = "GET";
	uri = value[P_URI];
	if (uri == NULL || *uri == '\0') {
		/* plain CGI without REQUEST_URI: rebuild it */
		const char *script = value[P_SCRIPT_NAME];
		const char *info = value[P_PATH_INFO];

		snprintf(r->param_buf, sizeof(r->param_buf), "%s%s",
		    script ? script : "", info ? info : "");
		uri = r->param_buf;
		r->query = value[P_QUERY_STRING];
		q = NULL;
		plen = strlen(uri);
	} else {
		q = strchr(uri, '?');
		plen = q ? (size_t)(q - uri) : strlen(uri);
		r->query = q ? q + 1 : "";
	}
	if (r->query == NULL)
		r->query = "";
	if (url_decode(uri, plen, r->path, sizeof(r->path), 0) < 0 ||
	    r->path[0] != '/') {
		problem_set(p, 400, "bad_path", "the request path is malformed");
		return -1;
	}
	r->param_buf[0] = '\0';
	/* X-Tork-API-Key: the header of the vendor whose emergency-shutdown
	 * page (seed 003) this API follows, so its curl examples work */
	find_credential(r, io->envp, value, repeated);
	r->tenant_header = value[P_TENANT_ID];
	r->request_id_header = value[P_REQUEST_ID];
	r->idempotency_key = value[P_IDEMPOTENCY_KEY];
	r->content_type = value[P_CONTENT_TYPE];
	r->accept = value[P_ACCEPT];
	r->remote_addr = value[P_REMOTE_ADDR];
	r->content_length = -1;
	if ((cl = value[P_CONTENT_LENGTH]) != NULL && *cl) {
		char *end;

		errno = 0;
		r->content_length = strtol(cl, &end, 10);
		if (errno || *end || r->content_length < 0)
			r->content_length = LONG_MAX;
	}
	return 0;
}

int
request_read_body(struct request *r, size_t max_body, struct problem *p)
{
	size_t cap, len = 0;
	long n;

	if (r->content_length == 0)
		return 0;
	if (r->content_length > 0 && (size_t)r->content_length > max_body) {
		problem_set(p, 413, "body_too_large",
		    "the request body exceeds the limit of %zu bytes", max_body);
		return -1;
	}
	cap = r->content_length > 0 ? (size_t)r->content_length : 4096;
	if ((r->body = malloc(cap + 1)) == NULL) {
		problem_set(p, 500, "internal", "out of memory");
		return -1;
	}
	for (;;) {
		if (len == cap) {
			char *bigger;

			if (r->content_length >= 0)
				break;
			if (cap > max_body) {
				problem_set(p, 413, "body_too_large",
				    "the request body exceeds the limit of %zu bytes", max_body);
				return -1;
			}
			cap *= 2;
			if ((bigger = realloc(r->body, cap + 1)) == NULL) {
				problem_set(p, 500, "internal", "out of memory");
				return -1;
			}
			r->body = bigger;
		}
		n = r->io.read(r->io.ctx, r->body + len, cap - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (len > max_body) {
		problem_set(p, 413, "body_too_large",
		    "the request body exceeds the limit of %zu bytes", max_body);
		return -1;
	}
	r->body[len] = '\0';
	r->body_len = len;
	return 0;
}

void
request_free(struct request *r)
{
	free(r->body);
	r->body = NULL;
}

int
query_get(const char *query, const char *name, char *buf, size_t len)
{
	size_t nlen = strlen(name);
	const char *p = query;

	while (p && *p) {
		const char *end = strchr(p, '&');
		size_t seglen = end ? (size_t)(end - p) : strlen(p);

		if (seglen >= nlen && strncmp(p, name, nlen) == 0 &&
		    (seglen == nlen || p[nlen] == '=')) {
			const char *v = seglen == nlen ? p + nlen : p + nlen + 1;
			size_t vlen = seglen == nlen ? 0 : seglen - nlen - 1;

			return url_decode(v, vlen, buf, len, 1) < 0 ? -1 : 1;
		}
		p = end ? end + 1 : NULL;
	}
	return 0;
}

int
query_long(const char *query, const char *name, long def, long min, long max,
           long *out, struct problem *p)
{
	char buf[32], *end;
	int rc = query_get(query, name, buf, sizeof(buf));
	long v;

	if (rc == 0 || (rc == 1 && buf[0] == '\0')) {
		*out = def;
		return 0;
	}
	errno = 0;
	v = rc == 1 ? strtol(buf, &end, 10) : 0;
	if (rc < 0 || errno || *end != '\0' || v < min || v > max ||
	    !isdigit((unsigned char)buf[buf[0] == '-'])) {
		problem_set(p, 400, "invalid_query",
		    "query parameter %s must be a whole number from %ld to %ld",
		    name, min, max);
		problem_field(p, name);
		return -1;
	}
	*out = v;
	return 0;
}

void
request_discard_body(struct request *r, size_t max)
{
	char buf[16384];
	size_t left;
	long n;

	if (r->body != NULL || r->content_length <= 0 ||
	    (size_t)r->content_length > max || r->io.read == NULL)
		return;
	for (left = (size_t)r->content_length; left > 0; left -= (size_t)n)
		if ((n = r->io.read(r->io.ctx, buf, left < sizeof(buf) ?
		    left : sizeof(buf))) <= 0)
			break;
}
