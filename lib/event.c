/* event.c - an audit event's canonical form and hash (event.h). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "event.h"
#include "jcs.h"

char *
event_canonical(const json_t *event)
{
	const json_t *canon = json_object_get(event, "canon");

	/* events written before the marker: jansson's own sorted dump */
	if (canon == NULL)
		return json_dumps(event, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	if (json_is_string(canon) && !strcmp(json_string_value(canon), EVENT_CANON_JCS))
		return jcs_dump(event, NULL);
	return NULL;
}

int
event_hash(const json_t *event, char out[ENCODE_SHA256_HEX_SIZE])
{
	json_t *copy = json_copy((json_t *)event);
	char *canon;

	if (copy == NULL)
		return -1;
	json_object_del(copy, "hash");
	canon = event_canonical(copy);
	json_decref(copy);
	if (canon == NULL)
		return -1;
	encode_sha256_hex(canon, out);
	free(canon);
	return 0;
}

int
event_hash_ok(const json_t *event)
{
	const char *stored = json_string_value(json_object_get(event, "hash"));
	char computed[ENCODE_SHA256_HEX_SIZE];

	/* length first: sodium_memcmp reads all 64 bytes of both */
	return stored && strlen(stored) == 64 && event_hash(event, computed) == 0 &&
	    sodium_memcmp(stored, computed, 64) == 0;
}

const char *const event_types[] = {
	"agent.registered", "agent.updated", "agent.suspended",
	"agent.reactivated", "agent.revoked",
	"delegation.created", "delegation.revoked",
	"key.created", "key.revoked",
	"killswitch.activated", "killswitch.revived",
	"receipt.created", "receipt.finalized", "receipt.voided",
	"session.created", "session.terminated",
	"shutdown.activated", "shutdown.resolved",
	"tenant.created",
	"webhook.created", "webhook.updated", "webhook.deleted",
	"webhook.secret_rotated", "webhook.disabled", "webhook.test",
	NULL
};

int
event_pattern_matches(const char *pattern, const char *type)
{
	size_t n = strlen(pattern);

	if (!strcmp(pattern, "*") || !strcmp(pattern, type))
		return 1;
	return n >= 2 && pattern[n - 1] == '*' && pattern[n - 2] == '.' &&
	    !strncmp(pattern, type, n - 1);
}

int
event_pattern_known(const char *pattern)
{
	for (const char *const *t = event_types; *t; t++)
		if (event_pattern_matches(pattern, *t))
			return 1;
	return 0;
}
