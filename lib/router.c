/* router.c - match a path against the route table. */
#include <stdio.h>
#include <string.h>

#include "router.h"

/* Matches one pattern; copies {name} segments into parambuf. */
static int
match(const char *pattern, const char *path, const char **params,
      size_t maxparams, char *parambuf, size_t buflen)
{
	size_t nparams = 0, used = 0;

	while (*pattern && *path) {
		if (*pattern != '/' || *path != '/')
			return 0;
		pattern++;
		path++;
		if (*pattern == '{') {
			const char *end = strchr(path, '/');
			size_t len = end ? (size_t)(end - path) : strlen(path);

			if (len == 0 || nparams >= maxparams || used + len + 1 > buflen)
				return 0;
			memcpy(parambuf + used, path, len);
			parambuf[used + len] = '\0';
			params[nparams++] = parambuf + used;
			used += len + 1;
			path += len;
			pattern = strchr(pattern, '/');
			if (pattern == NULL)
				pattern = "";
		} else {
			const char *end = strchr(pattern, '/');
			size_t len = end ? (size_t)(end - pattern) : strlen(pattern);

			if (strncmp(pattern, path, len) != 0 ||
			    (path[len] != '/' && path[len] != '\0'))
				return 0;
			pattern += len;
			path += len;
		}
	}
	/* a single trailing slash is tolerated */
	if (*pattern == '\0' && path[0] == '/' && path[1] == '\0')
		return 1;
	return *pattern == '\0' && *path == '\0';
}

static void
allow_add(char *allow, size_t len, const char *method)
{
	if (strstr(allow, method) != NULL)
		return;
	snprintf(allow + strlen(allow), len - strlen(allow), "%s%s",
	    allow[0] ? ", " : "", method);
}

enum route_match
router_find(const struct route *routes, size_t count, const char *method,
            const char *path, const struct route **found, const char **params,
            size_t maxparams, char *parambuf, size_t buflen)
{
	const char *want = strcmp(method, "HEAD") ? method : "GET";
	const char *scratch[8];
	char scratchbuf[2048];
	int known = 0;

	*found = NULL;
	for (size_t i = 0; i < count; i++) {
		if (!match(routes[i].pattern, path, scratch, 8, scratchbuf,
		    sizeof(scratchbuf)))
			continue;
		known = 1;
		if (!strcmp(routes[i].method, want)) {
			*found = &routes[i];
			match(routes[i].pattern, path, params, maxparams, parambuf, buflen);
			return ROUTE_FOUND;
		}
	}
	return known ? ROUTE_NO_METHOD : ROUTE_NO_PATH;
}

void
router_allow(const struct route *routes, size_t count, const char *path,
             char *allow, size_t allowlen)
{
	const char *scratch[8];
	char scratchbuf[2048];

	allow[0] = '\0';
	for (size_t i = 0; i < count; i++) {
		if (!match(routes[i].pattern, path, scratch, 8, scratchbuf,
		    sizeof(scratchbuf)))
			continue;
		allow_add(allow, allowlen, routes[i].method);
		if (!strcmp(routes[i].method, "GET"))
			allow_add(allow, allowlen, "HEAD");
	}
	if (allow[0] != '\0')
		allow_add(allow, allowlen, "OPTIONS");
}
