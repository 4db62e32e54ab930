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
 * JSONOUT_MAX_DEPTH is refused instead.  Reals are left to jansson, so
 * their digits match exactly.
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
