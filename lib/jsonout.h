/*
 * jsonout.h - compact JSON text of a jansson value, for responses.
 *
 * The same bytes as json_dumpb(json, buf, size, JSON_COMPACT) (member
 * order, escapes, numbers; tests/unit compares them), at a fraction of
 * the cost: jansson 2.14's dumper spends most of a small answer's time on
 * its loop detection (a hashtable and an snprintf("%p") per container) and
 * on decoding every character of every string again, ~80 instructions a
 * byte on the kill-switch check's answer.  Values here come from our own
 * handlers, so there is no loop to detect; nesting deeper than
 * JSONOUT_MAX_DEPTH is refused instead.  Reals differ on purpose:
 * jansson writes 17 significant digits ("trust_score":0.9 comes back as
 * 0.90000000000000002); here they get the shortest digits that read back
 * as the same double (jsonout_real).
 */
#ifndef ANDON_JSONOUT_H
#define ANDON_JSONOUT_H

#include <stddef.h>
#include <jansson.h>

#define JSONOUT_MAX_DEPTH 32

/*
 * Writes the text of json into buf (size bytes, not NUL-terminated) and
 * returns its whole length, which may exceed size: then only the first
 * size bytes were written (call again with a buffer that big).  Returns 0
 * when json cannot be written (NULL, or nested too deep).
 */
size_t jsonout_compact(const json_t *json, char *buf, size_t size);

/* The same text, NUL-terminated, in memory of its own (free() it); NULL
 * when out of memory.  Nested too deep, jansson's own dumper writes it. */
char *jsonout_dumps(const json_t *json);

/*
 * The text of d with the fewest significant digits that strtod() reads
 * back as d, laid out as jansson's "%.17g" (plain from 1e-4 to 1e17,
 * exponent beyond), with ".0" when it would look like an integer, into out (NUL-terminated); its length, or 0 when out is too
 * small (32 bytes always do).
 */
size_t jsonout_real(double d, char *out, size_t size);

/*
 * The escape of byte c inside a JSON string, as jansson and RFC 8785 both
 * write it: '"', '\\' and the C0 controls (\b \f \n \r \t by name, the
 * others as \u00XX with the digits of hex), into esc; its length, or 0
 * when c stands as it is (UTF-8 and DEL included).
 */
#define JSONOUT_HEX_UPPER "0123456789ABCDEF"   /* jansson */
#define JSONOUT_HEX_LOWER "0123456789abcdef"   /* RFC 8785 */
size_t jsonout_escape(unsigned char c, const char hex[16], char esc[6]);

#endif
