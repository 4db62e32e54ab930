/*
 * event.h - an audit event's canonical form and its hash: what the audit
 * chain (audit.c) and the transparency log's leaves (tlog.c) both cover,
 * kept here so that neither calls the other for it.
 */
#ifndef ANDON_EVENT_H
#define ANDON_EVENT_H

#include <jansson.h>

#include "encode.h"

/*
 * The canonical bytes of an event, which its hash and its leaf cover
 * (malloc'd): RFC 8785 (jcs.h) for an event marked "canon": "jcs" (every
 * event written since the marker), else, for the events written before
 * it, jansson's compact dump with sorted keys and every non-ASCII
 * character as \uXXXX.  NULL for an unknown marker or out of memory.
 */
#define EVENT_CANON_JCS "jcs"
char *event_canonical(const json_t *event);

/* The hex SHA-256 of the event's canonical form without its "hash"
 * member: 0, or -1 when it cannot be written. */
int event_hash(const json_t *event, char out[ENCODE_SHA256_HEX_SIZE]);

/* 1 when the event's "hash" matches its content. */
int event_hash_ok(const json_t *event);

/* Every type of audit event written, NULL-terminated. */
extern const char *const event_types[];

/* 1 when pattern names type: equal, "*", or "prefix.*" over "prefix.x". */
int event_pattern_matches(const char *pattern, const char *type);

/* 1 when pattern names at least one of event_types (a filter or a
 * subscription naming none is a mistake, refused with a 400). */
int event_pattern_known(const char *pattern);

#endif
