/*
 * jcs.h - the RFC 8785 JSON Canonicalization Scheme form of a jansson
 * value: what the audit chain and the transparency-log leaves of events
 * marked "canon":"jcs" hash, so that any language can recompute them from
 * a standard (tools/andon-verify.py does, in Python).
 *
 *   - no white space;
 *   - strings in UTF-8 as they are, escaping only '"', '\\' and the C0
 *     controls (\b \t \n \f \r by name, the others as \u00xx, lower case);
 *   - object members sorted by their names as arrays of UTF-16 code units;
 *   - numbers as ECMAScript's Number.prototype.toString writes the double
 *     they denote (so an integer beyond 2^53 is written as its nearest
 *     double: 9007199254740993 -> 9007199254740992).
 */
#ifndef ANDON_JCS_H
#define ANDON_JCS_H

#include <stddef.h>
#include <jansson.h>

#define JCS_MAX_DEPTH 64

/* The canonical text, malloc'd and NUL-terminated, its length in *len when
 * len is not NULL; NULL when json is NULL, nested deeper than
 * JCS_MAX_DEPTH, holds invalid UTF-8, a non-finite number or one of
 * magnitude 2^63 to 1e21 (written as digits jansson cannot read back),
 * or memory runs out. */
char *jcs_dump(const json_t *json, size_t *len);

/* ECMAScript's text of the double d into out (at least 32 bytes); its
 * length, or 0 when d is not finite. */
size_t jcs_number(double d, char *out, size_t size);

#endif
