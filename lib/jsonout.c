/* jsonout.c - compact JSON text of a jansson value, byte for byte as
 * jansson's own dumper writes it, reals excepted (jsonout.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonout.h"

struct writer {
	char *buf;
	size_t size;
	size_t len;     /* bytes the whole text needs so far */
	int failed;
};

static void
put(struct writer *w, const char *s, size_t n)
{
	if (w->len < w->size)
		memcpy(w->buf + w->len, s, n <= w->size - w->len ? n : w->size - w->len);
	w->len += n;
}

size_t
jsonout_real(double d, char *out, size_t size)
{
	int digits, exponent, n = 0;

	/* the fewest significant digits that read back as d (reals are
	 * rare in our answers: simply try 1 to 17) */
	for (digits = 1; digits <= 17; digits++) {
		n = snprintf(out, size, "%.*e", digits - 1, d);
		if (n <= 0 || (size_t)n >= size)
			return 0;
		if (strtod(out, NULL) == d)
			break;
	}
	if (digits > 17)
		digits = 17;
	exponent = atoi(strchr(out, 'e') + 1);
	/* laid out as jansson's "%.17g" would: plain from 1e-4 to 1e17 */
	if (exponent >= -4 && exponent < 17)
		n = snprintf(out, size, "%.*f",
		    digits - 1 - exponent > 0 ? digits - 1 - exponent : 0, d);
	else
		n = snprintf(out, size, "%.*g", digits, d);
	if (n <= 0 || (size_t)n >= size)
		return 0;
	/* and, as jansson, ".0" on a real that looks whole */
	if (strspn(out, "-0123456789") == (size_t)n) {
		if ((size_t)n + 2 >= size)
			return 0;
		memcpy(out + n, ".0", 3);
		n += 2;
	}
	return (size_t)n;
}

size_t
jsonout_escape(unsigned char c, const char hex[16], char esc[6])
{
	if (c >= 0x20 && c != '"' && c != '\\')
		return 0;
	esc[0] = '\\';
	switch (c) {
	case '"':  esc[1] = '"'; return 2;
	case '\\': esc[1] = '\\'; return 2;
	case '\b': esc[1] = 'b'; return 2;
	case '\f': esc[1] = 'f'; return 2;
	case '\n': esc[1] = 'n'; return 2;
	case '\r': esc[1] = 'r'; return 2;
	case '\t': esc[1] = 't'; return 2;
	default:
		memcpy(esc + 1, "u00", 3);
		esc[4] = hex[c >> 4];
		esc[5] = hex[c & 0xf];
		return 6;
	}
}

/* A string as jansson escapes it: quote, backslash and control characters
 * (the common ones by name, the others as \u00XX, upper-case hex); UTF-8
 * and DEL as they are. */
static void
put_string(struct writer *w, const char *s, size_t n)
{
	size_t run = 0;

	put(w, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		char esc[6];
		size_t esclen = jsonout_escape((unsigned char)s[i], JSONOUT_HEX_UPPER, esc);

		if (esclen == 0)
			continue;
		put(w, s + run, i - run);
		run = i + 1;
		put(w, esc, esclen);
	}
	put(w, s + run, n - run);
	put(w, "\"", 1);
}

static void
put_value(struct writer *w, const json_t *json, int depth)
{
	char number[64];
	size_t n;
	int first = 1;

	if (depth > JSONOUT_MAX_DEPTH) {
		w->failed = 1;
		return;
	}
	switch (json_typeof(json)) {
	case JSON_OBJECT: {
		const char *key;
		json_t *value;

		put(w, "{", 1);
		json_object_foreach((json_t *)json, key, value) {
			if (!first)
				put(w, ",", 1);
			first = 0;
			/* our keys never hold a NUL byte */
			put_string(w, key, strlen(key));
			put(w, ":", 1);
			put_value(w, value, depth + 1);
		}
		put(w, "}", 1);
		break;
	}
	case JSON_ARRAY:
		put(w, "[", 1);
		for (size_t i = 0; i < json_array_size(json); i++) {
			if (i > 0)
				put(w, ",", 1);
			put_value(w, json_array_get(json, i), depth + 1);
		}
		put(w, "]", 1);
		break;
	case JSON_STRING:
		put_string(w, json_string_value(json), json_string_length(json));
		break;
	case JSON_INTEGER:
		n = (size_t)snprintf(number, sizeof(number), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(json));
		put(w, number, n);
		break;
	case JSON_REAL:
		n = jsonout_real(json_real_value(json), number, sizeof(number));
		if (n == 0)
			w->failed = 1;
		else
			put(w, number, n);
		break;
	case JSON_TRUE:
		put(w, "true", 4);
		break;
	case JSON_FALSE:
		put(w, "false", 5);
		break;
	case JSON_NULL:
		put(w, "null", 4);
		break;
	}
}

size_t
jsonout_compact(const json_t *json, char *buf, size_t size)
{
	struct writer w = { buf, size, 0, 0 };

	if (json == NULL)
		return 0;
	put_value(&w, json, 0);
	return w.failed ? 0 : w.len;
}

char *
jsonout_dumps(const json_t *json)
{
	size_t n = jsonout_compact(json, NULL, 0);
	char *text;

	/* nested too deep for jsonout: jansson's own dumper */
	if (n == 0)
		return json ? json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	if ((text = malloc(n + 1)) == NULL)
		return NULL;
	if (jsonout_compact(json, text, n) != n) {
		free(text);
		return NULL;
	}
	text[n] = '\0';
	return text;
}
