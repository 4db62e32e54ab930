/* scope.c - scope names and masks. */
#include <string.h>

#include "scope.h"

const char *const scope_names[] = {
	"agents:read", "agents:write", "agents:suspend", "agents:kill",
	"killswitch:check", "killswitch:write", "shutdown:read",
	"shutdown:write", "audit:read", "webhooks:write", "keys:admin",
	"platform:admin", "*", NULL
};

unsigned
scope_from_name(const char *name)
{
	if (!strcmp(name, "*"))
		return SCOPE_ALL_TENANT;
	for (unsigned i = 0; scope_names[i] && strcmp(scope_names[i], "*"); i++)
		if (!strcmp(scope_names[i], name))
			return 1u << i;
	return 0;
}

long
scope_mask_from_json(const json_t *names)
{
	unsigned mask = 0;
	size_t i;
	json_t *v;

	if (!json_is_array(names))
		return -1;
	json_array_foreach(names, i, v) {
		unsigned bit;

		if (!json_is_string(v) || (bit = scope_from_name(json_string_value(v))) == 0)
			return -1;
		mask |= bit;
	}
	return (long)mask;
}

const char *
scope_name(unsigned bit)
{
	for (unsigned i = 0; scope_names[i] && strcmp(scope_names[i], "*"); i++)
		if (bit == 1u << i)
			return scope_names[i];
	return "?";
}
