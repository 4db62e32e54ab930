/*
 * fuzz_json.c - Andon's own JSON writers against jansson: jsonout (every
 * response) and jcs (the canonical form the audit chain and the
 * transparency-log leaves hash).  The input is parsed by jansson; any
 * value it accepts is written by both.
 *
 * Properties: jsonout writes exactly jansson's JSON_COMPACT bytes for a
 * value without reals (reals are written shorter on purpose), and what it
 * writes always reads back as an equal value, reals bit for bit; the
 * length it reports is the length it writes, also when the buffer is too
 * small; jcs output reads back as an equal value up to the numbers it
 * rounds to doubles (reals, integers beyond 2^53), and is a fixed point: its own text parsed and
 * written again gives the same bytes.
 */
#include <math.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "jcs.h"
#include "jsonout.h"

/* 1 when test(node) holds for v or any value inside it. */
static int
any(const json_t *v, int (*test)(const json_t *))
{
	const char *k;
	size_t i;
	json_t *m;

	if (test(v))
		return 1;
	json_object_foreach((json_t *)v, k, m)
		if (any(m, test))
			return 1;
	json_array_foreach(v, i, m)
		if (any(m, test))
			return 1;
	return 0;
}

static int
is_real(const json_t *v)
{
	return json_is_real(v);
}

/* A number jcs does not write back unchanged: a real, or an integer a
 * double does not hold exactly. */
static int
inexact(const json_t *v)
{
	return json_is_real(v) || (json_is_integer(v) &&
	    (json_integer_value(v) < -(1LL << 53) || json_integer_value(v) > (1LL << 53)));
}

/* json_equal, but reals compared bit for bit (jansson compares them with
 * ==, which is the same for every double but the signed zeros). */
static int
same(const json_t *a, const json_t *b)
{
	if (json_is_real(a) && json_is_real(b))
		return memcmp(&(double){ json_real_value(a) },
		    &(double){ json_real_value(b) }, sizeof(double)) == 0;
	return json_equal(a, b);
}

static void
check_jsonout(const json_t *v)
{
	char *ours = jsonout_dumps(v), small[16];
	char *theirs = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	size_t whole;
	json_error_t err;
	json_t *back;

	FUZZ_ASSERT(ours != NULL && theirs != NULL);
	if (!any(v, is_real))
		FUZZ_ASSERT(strcmp(ours, theirs) == 0);
	back = json_loads(ours, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	FUZZ_ASSERT(back != NULL);
	FUZZ_ASSERT(json_equal(back, v) && (!json_is_real(v) || same(back, v)));
	json_decref(back);
	whole = jsonout_compact(v, small, sizeof(small));
	if (whole > 0) {
		FUZZ_ASSERT(whole == strlen(ours));
		FUZZ_ASSERT(memcmp(small, ours, whole < sizeof(small) ?
		    whole : sizeof(small)) == 0);
	}
	free(ours);
	free(theirs);
}

static void
check_jcs(const json_t *v)
{
	size_t len, len2;
	char *text = jcs_dump(v, &len), *again;
	json_error_t err;
	json_t *back;

	if (text == NULL)
		return;           /* deep, invalid UTF-8 or not finite */
	FUZZ_ASSERT(strlen(text) == len);
	back = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	FUZZ_ASSERT(back != NULL);
	again = jcs_dump(back, &len2);
	FUZZ_ASSERT(again != NULL && len2 == len && memcmp(again, text, len) == 0);
	if (!any(v, inexact))
		FUZZ_ASSERT(json_equal(back, v));
	free(again);
	json_decref(back);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t err;
	json_t *v;

	FUZZ_CANARY(data, size);
	v = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);

	if (v == NULL)
		return 0;
	check_jsonout(v);
	check_jcs(v);
	json_decref(v);
	return 0;
}
