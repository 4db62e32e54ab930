/* gate.c - find the highest active emergency shutdown for a caller. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "gate.h"
#include "store.h"

struct gate_scan {
	const char *key_id;
	struct gate_state *g;
};

static int
consider(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct gate_scan *s = arg;
	json_error_t err;
	json_t *esd = json_loadb(val, vlen, 0, &err);
	const char *scope, *target_key;
	int severity;

	(void)key;
	(void)klen;
	if (esd == NULL)
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

int
gate_evaluate(const char *tenant, const char *key_id, struct gate_state *g)
{
	char prefix[STORE_KEY_MAX];
	struct gate_scan s = { key_id, g };
	int len, rc;

	memset(g, 0, sizeof(*g));
	if ((len = store_key(prefix, sizeof(prefix), tenant, "", NULL)) < 0)
		return 0;
	if ((rc = store_scan(NULL, T_ESD_ACTIVE, prefix, (size_t)len, 0, consider, &s)) != 0)
		return rc;
	return store_scan(NULL, T_ESD_ACTIVE, "*" KEY_SEP_STR, 2, 0, consider, &s);
}
