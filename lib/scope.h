/* scope.h - API-key scopes as bits; "*" is every tenant scope. */
#ifndef ANDON_SCOPE_H
#define ANDON_SCOPE_H

#include <jansson.h>

enum scope {
	SCOPE_NONE = 0,
	SCOPE_AGENTS_READ = 1u << 0,
	SCOPE_AGENTS_WRITE = 1u << 1,
	SCOPE_AGENTS_SUSPEND = 1u << 2,
	SCOPE_AGENTS_KILL = 1u << 3,
	SCOPE_KILLSWITCH_CHECK = 1u << 4,
	SCOPE_KILLSWITCH_WRITE = 1u << 5,
	SCOPE_SHUTDOWN_READ = 1u << 6,
	SCOPE_SHUTDOWN_WRITE = 1u << 7,
	SCOPE_AUDIT_READ = 1u << 8,
	SCOPE_WEBHOOKS_WRITE = 1u << 9,
	SCOPE_KEYS_ADMIN = 1u << 10,
	SCOPE_PLATFORM_ADMIN = 1u << 11,
};

#define SCOPE_ALL_TENANT ((1u << 11) - 1)  /* what "*" grants */

/* Bit of one scope name ("*" gives SCOPE_ALL_TENANT); 0 when unknown. */
unsigned scope_from_name(const char *name);
/* The union of a JSON array of names; -1 when a name is unknown. */
long scope_mask_from_json(const json_t *names);
/* The name of a single scope bit ("?" when it is not one). */
const char *scope_name(unsigned bit);
/* NULL-terminated list of every valid name, "*" included. */
extern const char *const scope_names[];

#endif
