/* jcs.c - RFC 8785 canonical JSON text of a jansson value. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jcs.h"
#include "jsonout.h"

struct buf {
	char *text;
	size_t len, cap;
	int failed;
};

static void
put(struct buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *grown;

		while (cap < b->len + n + 1)
			cap *= 2;
		if ((grown = realloc(b->text, cap)) == NULL) {
			b->failed = 1;
			return;
		}
		b->text = grown;
		b->cap = cap;
	}
	memcpy(b->text + b->len, s, n);
	b->len += n;
	b->text[b->len] = '\0';
}

/* RFC 8785 3.2.2.2: only '"', '\\' and C0 controls are escaped, lower-case
 * hex. */
static void
put_string(struct buf *b, const char *s, size_t n)
{
	size_t run = 0;

	put(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		char esc[6];
		size_t esclen = jsonout_escape((unsigned char)s[i], JSONOUT_HEX_LOWER, esc);

		if (esclen == 0)
			continue;
		put(b, s + run, i - run);
		run = i + 1;
		put(b, esc, esclen);
	}
	put(b, s + run, n - run);
	put(b, "\"", 1);
}

/*
 * Decodes the next code point of a valid UTF-8 string (jansson only holds
 * valid UTF-8), advancing *s; returns it, or -1 at the end.
 */
static long
next_code_point(const unsigned char **s, const unsigned char *end)
{
	const unsigned char *p = *s;
	long cp;
	int extra;

	if (p >= end)
		return -1;
	if (p[0] < 0x80) {
		cp = p[0];
		extra = 0;
	} else if ((p[0] & 0xe0) == 0xc0) {
		cp = p[0] & 0x1f;
		extra = 1;
	} else if ((p[0] & 0xf0) == 0xe0) {
		cp = p[0] & 0x0f;
		extra = 2;
	} else {
		cp = p[0] & 0x07;
		extra = 3;
	}
	p++;
	for (int i = 0; i < extra && p < end; i++, p++)
		cp = (cp << 6) | (*p & 0x3f);
	*s = p;
	return cp;
}

/* Compares two UTF-8 strings as sequences of UTF-16 code units: a
 * supplementary code point counts as its high surrogate, then its low one
 * (so it sorts before U+E000..U+FFFF, unlike in code point order). */
static int
compare_utf16(const char *a, const char *b)
{
	const unsigned char *pa = (const unsigned char *)a, *pb = (const unsigned char *)b;
	const unsigned char *ea = pa + strlen(a), *eb = pb + strlen(b);
	unsigned pending_a = 0, pending_b = 0;

	for (;;) {
		unsigned ua, ub;
		long ca, cb;

		if (pending_a) {
			ua = pending_a;
			pending_a = 0;
		} else if ((ca = next_code_point(&pa, ea)) < 0) {
			ua = 0x10000;   /* end: before any unit */
		} else if (ca >= 0x10000) {
			ua = 0xd800 + (unsigned)((ca - 0x10000) >> 10);
			pending_a = 0xdc00 + (unsigned)((ca - 0x10000) & 0x3ff);
		} else {
			ua = (unsigned)ca;
		}
		if (pending_b) {
			ub = pending_b;
			pending_b = 0;
		} else if ((cb = next_code_point(&pb, eb)) < 0) {
			ub = 0x10000;
		} else if (cb >= 0x10000) {
			ub = 0xd800 + (unsigned)((cb - 0x10000) >> 10);
			pending_b = 0xdc00 + (unsigned)((cb - 0x10000) & 0x3ff);
		} else {
			ub = (unsigned)cb;
		}
		if (ua == 0x10000 || ub == 0x10000)
			return ua == ub ? 0 : ua == 0x10000 ? -1 : 1;
		if (ua != ub)
			return ua < ub ? -1 : 1;
	}
}

static int
compare_keys(const void *a, const void *b)
{
	return compare_utf16(*(const char *const *)a, *(const char *const *)b);
}

size_t
jcs_number(double d, char *out, size_t size)
{
	char sci[40], digits[24], *e;
	int prec, exp10, k, n, len = 0;
	const char *sign = "";

	if (!isfinite(d) || size < 32)
		return 0;
	if (d == 0) {
		/* -0 too */
		snprintf(out, size, "0");
		return 1;
	}
	if (d < 0) {
		sign = "-";
		d = -d;
	}
	/* the shortest digits that read back as d (correctly rounded, so the
	 * closest such) */
	for (prec = 0; prec < 17; prec++) {
		snprintf(sci, sizeof(sci), "%.*e", prec, d);
		if (strtod(sci, NULL) == d)
			break;
	}
	if (prec == 17)
		snprintf(sci, sizeof(sci), "%.16e", d);
	/* sci is "D.DDDDe[+-]XX": the digits without the point, the exponent */
	k = 0;
	for (const char *p = sci; *p && *p != 'e'; p++)
		if (*p != '.')
			digits[k++] = *p;
	while (k > 1 && digits[k - 1] == '0')
		k--;
	digits[k] = '\0';
	e = strchr(sci, 'e');
	exp10 = (int)strtol(e + 1, NULL, 10);
	n = exp10 + 1;  /* ECMA-262 Number::toString: value = 0.digits * 10^n */
	if (k <= n && n <= 21)
		len = snprintf(out, size, "%s%s%.*s", sign, digits, n - k, "000000000000000000000");
	else if (0 < n && n <= 21)
		len = snprintf(out, size, "%s%.*s.%s", sign, n, digits, digits + n);
	else if (-6 < n && n <= 0)
		len = snprintf(out, size, "%s0.%.*s%s", sign, -n, "000000", digits);
	else
		len = snprintf(out, size, "%s%c%s%s%c%c%d", sign, digits[0],
		    k > 1 ? "." : "", digits + 1, 'e', n - 1 >= 0 ? '+' : '-',
		    n - 1 >= 0 ? n - 1 : 1 - n);
	return len > 0 && (size_t)len < size ? (size_t)len : 0;
}

/* An integer a double holds exactly (to 2^53): ECMAScript writes it as
 * its digits, so it needs no search for the shortest form. */
static int
is_exact_integer(const json_t *json)
{
	json_int_t v = json_integer_value(json);

	return json_is_integer(json) && v >= -(1LL << 53) && v <= (1LL << 53);
}

static void
put_value(struct buf *b, const json_t *json, int depth)
{
	char number[40];
	size_t n;

	if (depth > JCS_MAX_DEPTH || b->failed) {
		b->failed = 1;
		return;
	}
	switch (json_typeof(json)) {
	case JSON_OBJECT: {
		size_t count = json_object_size(json), i = 0;
		const char **keys;
		const char *key;
		json_t *value;

		if ((keys = calloc(count ? count : 1, sizeof(*keys))) == NULL) {
			b->failed = 1;
			return;
		}
		json_object_foreach((json_t *)json, key, value)
			keys[i++] = key;
		qsort(keys, count, sizeof(*keys), compare_keys);
		put(b, "{", 1);
		for (i = 0; i < count; i++) {
			if (i > 0)
				put(b, ",", 1);
			put_string(b, keys[i], strlen(keys[i]));
			put(b, ":", 1);
			put_value(b, json_object_get(json, keys[i]), depth + 1);
		}
		put(b, "}", 1);
		free(keys);
		break;
	}
	case JSON_ARRAY:
		put(b, "[", 1);
		for (size_t i = 0; i < json_array_size(json); i++) {
			if (i > 0)
				put(b, ",", 1);
			put_value(b, json_array_get(json, i), depth + 1);
		}
		put(b, "]", 1);
		break;
	case JSON_STRING:
		put_string(b, json_string_value(json), json_string_length(json));
		break;
	case JSON_INTEGER:
	case JSON_REAL:
		/* an integer is the double it denotes, as in ECMAScript; from
		 * 2^63 to 1e21 ECMAScript writes all the digits, an integer
		 * jansson cannot read back (the stored event would become
		 * unreadable: found by tests/fuzz/fuzz_json), so it is refused
		 * like a number that is not finite */
		if (is_exact_integer(json))
			put(b, number, (size_t)snprintf(number, sizeof(number),
			    "%" JSON_INTEGER_FORMAT, json_integer_value(json)));
		else if (fabs(json_number_value(json)) >= 9223372036854775808.0 &&
		    fabs(json_number_value(json)) < 1e21)
			b->failed = 1;
		else if ((n = jcs_number(json_number_value(json), number, sizeof(number))) == 0)
			b->failed = 1;
		else
			put(b, number, n);
		break;
	case JSON_TRUE:
		put(b, "true", 4);
		break;
	case JSON_FALSE:
		put(b, "false", 5);
		break;
	case JSON_NULL:
		put(b, "null", 4);
		break;
	}
}

char *
jcs_dump(const json_t *json, size_t *len)
{
	struct buf b = { NULL, 0, 0, 0 };

	if (json == NULL)
		return NULL;
	put_value(&b, json, 0);
	if (b.failed || b.text == NULL) {
		free(b.text);
		return NULL;
	}
	if (len)
		*len = b.len;
	return b.text;
}
