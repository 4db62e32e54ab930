/*
 * jsoncache.h - a per-process cache of parsed JSON records, keyed by their
 * exact stored bytes.
 *
 * For hot read paths that parse the same small record on every request,
 * through store_get_json_shared(): session introspection (lib/session.c)
 * and the kill-switch check's active summary and alias (cgi-bin/
 * killswitch.c).  The record is still read from the database on
 * every request; only the parse is saved, and only when the bytes are
 * identical to the ones a slot was parsed from, so the cache can never
 * answer for a record that changed or went away.
 */
#ifndef ANDON_JSONCACHE_H
#define ANDON_JSONCACHE_H

#include <stddef.h>
#include <jansson.h>

/* Records longer than this are parsed every time and not kept. */
#define JSONCACHE_MAX_RECORD 4096

/*
 * The parsed form of bytes: a new reference the caller decrefs, or NULL
 * when bytes are not valid JSON (or memory ran out).  The value may be
 * shared with later callers: read it, never modify it.
 */
json_t *jsoncache_load(const void *bytes, size_t len);

/* Frees every slot (tests, and leak checkers at exit). */
void jsoncache_clear(void);

#endif
