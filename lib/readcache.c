/* readcache.c - recent reads of watched tables, one slot per hash. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "readcache.h"

/* Direct-mapped: a new entry replaces whatever shared its slot. */
#define READCACHE_SLOTS 1024

struct slot {
	int table;
	uint64_t generation;      /* 0 (GENERATION_UNKNOWN): empty */
	void *key;
	size_t klen;
	void *val;                /* NULL: the key was absent */
	size_t vlen;
};

static struct slot slots[READCACHE_SLOTS];
static unsigned char hash_key[crypto_shorthash_KEYBYTES];
static int hash_key_set;

static struct slot *
slot_for(int table, const void *key, size_t klen)
{
	unsigned char h[crypto_shorthash_BYTES];
	uint64_t index;

	if (!hash_key_set) {
		randombytes_buf(hash_key, sizeof(hash_key));
		hash_key_set = 1;
	}
	crypto_shorthash(h, key, klen, hash_key);
	memcpy(&index, h, sizeof(index));
	return &slots[(index + (uint64_t)table * 7919) % READCACHE_SLOTS];
}

enum readcache_result
readcache_find(int table, uint64_t generation, const void *key, size_t klen,
               const void **val, size_t *vlen)
{
	struct slot *s = slot_for(table, key, klen);

	if (generation == 0 || s->generation != generation || s->table != table ||
	    s->klen != klen || memcmp(s->key, key, klen) != 0)
		return READCACHE_MISS;
	if (s->val == NULL)
		return READCACHE_ABSENT;
	*val = s->val;
	*vlen = s->vlen;
	return READCACHE_FOUND;
}

static void
empty(struct slot *s)
{
	free(s->key);
	free(s->val);
	memset(s, 0, sizeof(*s));
}

void
readcache_keep(int table, uint64_t generation, const void *key, size_t klen,
               const void *val, size_t vlen)
{
	struct slot *s = slot_for(table, key, klen);

	empty(s);
	if (generation == 0 || (val != NULL && vlen > READCACHE_MAX_VALUE))
		return;
	if ((s->key = malloc(klen ? klen : 1)) == NULL ||
	    (val != NULL && (s->val = malloc(vlen ? vlen : 1)) == NULL)) {
		empty(s);
		return;
	}
	memcpy(s->key, key, klen);
	if (val != NULL)
		memcpy(s->val, val, vlen);
	s->klen = klen;
	s->vlen = vlen;
	s->table = table;
	s->generation = generation;
}

void
readcache_clear(void)
{
	for (int i = 0; i < READCACHE_SLOTS; i++)
		empty(&slots[i]);
}
