/* test_ids.c - unit tests of lib/ids.c (Check). */
#include "clock.h"
#include "ids.h"
#include "unit.h"

static int
compare_strings(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* 1 when n strings of size width, sorted, hold no duplicate. */
static int
all_distinct(char *strings, size_t n, size_t width)
{
	qsort(strings, n, width, compare_strings);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(strings + (i - 1) * width, strings + i * width))
			return 0;
	return 1;
}

#define MANY_IDS 2000

START_TEST(ids_random_hex)
{
	static char ids[MANY_IDS][ID_SIZE];
	char small[8];

	for (size_t i = 0; i < MANY_IDS; i++) {
		id_random_hex(ids[i], ID_SIZE, "evt_", 12);
		ck_assert_uint_eq(strlen(ids[i]), 4 + 24);
		ck_assert(strncmp(ids[i], "evt_", 4) == 0);
		ck_assert_uint_eq(strspn(ids[i] + 4, "0123456789abcdef"), 24);
	}
	ck_assert(all_distinct(&ids[0][0], MANY_IDS, ID_SIZE));

	id_random_hex(ids[0], ID_SIZE, "", 8);
	ck_assert_uint_eq(strlen(ids[0]), 16);
	/* a buffer too small gets an empty string, never a cut id */
	id_random_hex(small, sizeof(small), "ks_", 8);
	ck_assert_str_eq(small, "");
}
END_TEST

START_TEST(ids_uuid4)
{
	static char ids[MANY_IDS][37];

	for (size_t i = 0; i < MANY_IDS; i++) {
		char *u = ids[i];

		id_uuid4(u);
		ck_assert_uint_eq(strlen(u), 36);
		ck_assert(u[8] == '-' && u[13] == '-' && u[18] == '-' && u[23] == '-');
		for (int j = 0; j < 36; j++)
			if (j != 8 && j != 13 && j != 18 && j != 23)
				ck_assert_msg(strchr("0123456789abcdef", u[j]) && u[j],
				    "%s has a non-hex digit", u);
		ck_assert_int_eq(u[14], '4');                /* version 4 */
		ck_assert(strchr("89ab", u[19]) != NULL);    /* RFC variant */
	}
	ck_assert(all_distinct(&ids[0][0], MANY_IDS, 37));
}
END_TEST

/* Crockford base32 digit value; -1 when not one. */
static int
crockford(char c)
{
	static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	const char *p = strchr(alphabet, c);

	return c && p ? (int)(p - alphabet) : -1;
}

START_TEST(ids_ulid)
{
	static char ids[MANY_IDS][27];
	int64_t before = clock_now_ms(), after;
	char earlier[27], later[27];

	for (size_t i = 0; i < MANY_IDS; i++) {
		id_ulid(ids[i]);
		ck_assert_uint_eq(strlen(ids[i]), 26);
		for (int j = 0; j < 26; j++)
			ck_assert_int_ge(crockford(ids[i][j]), 0);
		/* 128 bits in 130: the first digit is at most 7 */
		ck_assert_int_le(crockford(ids[i][0]), 7);
	}
	after = clock_now_ms();
	ck_assert(all_distinct(&ids[0][0], MANY_IDS, 27));

	/* the first ten digits are the time in ms */
	for (size_t i = 0; i < MANY_IDS; i += 97) {
		int64_t t = 0;

		for (int j = 0; j < 10; j++)
			t = t * 32 + crockford(ids[i][j]);
		ck_assert_int_ge(t, before);
		ck_assert_int_le(t, after);
	}
	/* so ULIDs made later sort later */
	id_ulid(earlier);
	usleep(5 * 1000);
	id_ulid(later);
	ck_assert_int_lt(strcmp(earlier, later), 0);
}
END_TEST

/* X-Request-Id: a sane client id is echoed, anything else replaced by a
 * new one, unique within the process. */
START_TEST(ids_request)
{
	char a[ID_REQUEST_SIZE], b[ID_REQUEST_SIZE], long_id[100];

	id_request("trace-42:a.b_C", a);
	ck_assert_str_eq(a, "trace-42:a.b_C");
	memset(long_id, 'x', 79);
	long_id[79] = '\0';
	id_request(long_id, a);
	ck_assert_str_eq(a, long_id);
	long_id[79] = 'x';
	long_id[80] = '\0';
	id_request(long_id, a);
	ck_assert(strncmp(a, "req_", 4) == 0);
	id_request("bad id", a);
	ck_assert(strncmp(a, "req_", 4) == 0);
	id_request("x\r\nSet-Cookie: a=b", b);
	ck_assert(strncmp(b, "req_", 4) == 0);
	ck_assert_str_ne(a, b);
	id_request("", a);
	ck_assert(strncmp(a, "req_", 4) == 0);
	id_request(NULL, b);
	ck_assert_str_ne(a, b);
}
END_TEST

UNIT_MAIN("ids", 0, ids_random_hex, ids_uuid4, ids_ulid, ids_request)
