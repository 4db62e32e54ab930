/* gate.c - find the highest active emergency shutdown for a caller. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "gate.h"
#include "store.h"

struct gate_scan {
	const char *tenant;
	size_t tenant_len;
	const char *key_id;
	struct gate_state *g;
};

/* 1 when the T_ESD_ACTIVE key "tenant SEP id" covers the scan's tenant. */
static int
covers_tenant(const struct gate_scan *s, const char *key, size_t klen)
{
	if (klen > 2 && key[0] == '*' && key[1] == KEY_SEP)
		return 1;
	return klen > s->tenant_len && key[s->tenant_len] == KEY_SEP &&
	    memcmp(key, s->tenant, s->tenant_len) == 0;
}

static int
consider(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct gate_scan *s = arg;
	json_error_t err;
	json_t *esd;
	const char *scope, *target_key;
	int severity;

	if (!covers_tenant(s, key, klen))
		return 0;
	if ((esd = json_loadb(val, vlen, 0, &err)) == NULL)
		return 0;
	scope = json_string_value(json_object_get(esd, "scope"));
	target_key = json_string_value(json_object_get(esd, "key_id"));
	severity = (int)json_integer_value(json_object_get(esd, "severity"));
	if (scope && !strcmp(scope, "key") &&
	    (target_key == NULL || strcmp(target_key, s->key_id) != 0)) {
		json_decref(esd);
		return 0;
	}
	if (severity > s->g->severity) {
		s->g->severity = severity;
		snprintf(s->g->shutdown_id, sizeof(s->g->shutdown_id), "%s",
		    json_string_value(json_object_get(esd, "id")));
		snprintf(s->g->reason, sizeof(s->g->reason), "%s",
		    json_string_value(json_object_get(esd, "reason")));
	}
	json_decref(esd);
	return 0;
}

/*
 * One scan of the whole table: it holds only the active shutdowns of every
 * tenant (a handful at worst, usually none), so reading it all is cheaper
 * than two prefix scans and never stale.
 */
int
gate_evaluate(const char *tenant, const char *key_id, struct gate_state *g)
{
	struct gate_scan s = { tenant, strlen(tenant), key_id, g };

	memset(g, 0, sizeof(*g));
	return store_scan(NULL, T_ESD_ACTIVE, "", 0, 0, consider, &s);
}
