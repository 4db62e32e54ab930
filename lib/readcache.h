/*
 * readcache.h - a per-process copy of recent reads of the tables whose
 * writes move a shared change counter (generation.h).
 *
 * lib/store.c answers a read outside a transaction of such a table (API
 * keys, active kill switches, agent stops, active shutdowns, sessions)
 * from here when the table's counter has not moved since the copy was
 * read: no process has written to the table since, so the copy is the
 * stored value.  Any write moves the counter, and the next read of every
 * process goes to the database again.  Lookups that found nothing are
 * kept too: a check of a target that is not killed is the hot path.
 */
#ifndef ANDON_READCACHE_H
#define ANDON_READCACHE_H

#include <stddef.h>
#include <stdint.h>

/* Values longer than this are read from the database every time. */
#define READCACHE_MAX_VALUE 4096

enum readcache_result {
	READCACHE_MISS,           /* not kept, or kept at another generation */
	READCACHE_FOUND,          /* *val, *vlen: the kept value (do not free) */
	READCACHE_ABSENT          /* the key was not in the table */
};

enum readcache_result readcache_find(int table, uint64_t generation,
    const void *key, size_t klen, const void **val, size_t *vlen);

/* Keeps what a read at generation found (val NULL: nothing). */
void readcache_keep(int table, uint64_t generation, const void *key,
    size_t klen, const void *val, size_t vlen);

/* Frees every slot (tests, and leak checkers at exit). */
void readcache_clear(void);

#endif
