/* jsoncache.c - a per-process cache of parsed JSON records (see jsoncache.h). */
#include <stdlib.h>
#include <string.h>

#include "jsoncache.h"

#define JSONCACHE_SLOTS 64

struct slot {
	void *bytes;              /* a copy of the record; NULL when free */
	size_t len;
	json_t *value;            /* parsed from bytes; the slot's reference */
};

static struct slot slots[JSONCACHE_SLOTS];
static unsigned next_victim;

static void
slot_free(struct slot *s)
{
	free(s->bytes);
	json_decref(s->value);
	memset(s, 0, sizeof(*s));
}

json_t *
jsoncache_load(const void *bytes, size_t len)
{
	json_error_t err;
	struct slot *s;
	json_t *value;
	void *copy;

	for (int i = 0; i < JSONCACHE_SLOTS; i++)
		if (slots[i].bytes != NULL && slots[i].len == len &&
		    memcmp(slots[i].bytes, bytes, len) == 0)
			return json_incref(slots[i].value);
	if ((value = json_loadb(bytes, len, JSON_DECODE_ANY, &err)) == NULL)
		return NULL;
	if (len == 0 || len > JSONCACHE_MAX_RECORD || (copy = malloc(len)) == NULL)
		return value;
	memcpy(copy, bytes, len);
	s = &slots[next_victim++ % JSONCACHE_SLOTS];
	slot_free(s);
	s->bytes = copy;
	s->len = len;
	s->value = json_incref(value);
	return value;
}

void
jsoncache_clear(void)
{
	for (int i = 0; i < JSONCACHE_SLOTS; i++)
		slot_free(&slots[i]);
	next_victim = 0;
}
