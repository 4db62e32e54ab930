/* test_generation.c - unit tests of lib/generation.c (Check). */
#include <sys/wait.h>

#include "generation.h"
#include "store.h"
#include "unit.h"

/* jsoncache: the parse is shared only for identical bytes */
/*
 * generation: shared change counters, and the gate's copy keyed by one
 */
START_TEST(generation_counts_watched_writes)
{
	uint64_t keys = generation_read(GEN_APIKEYS);
	uint64_t esd = generation_read(GEN_SHUTDOWNS);
	DB_TXN *txn;
	pid_t child;
	int status;

	ck_assert_uint_ne(keys, GENERATION_UNKNOWN);
	ck_assert_uint_ne(esd, GENERATION_UNKNOWN);
	/* a table no cache depends on moves nothing */
	ck_assert_int_eq(store_put(NULL, T_META, "k", 1, "v", 1, 0), 0);
	ck_assert_uint_eq(generation_read(GEN_APIKEYS), keys);
	ck_assert_uint_eq(generation_read(GEN_SHUTDOWNS), esd);
	/* a watched table moves its own counter only, inside the writer's
	 * transaction, before the commit */
	ck_assert_int_eq(store_begin(&txn), 0);
	ck_assert_int_eq(store_put(txn, T_APIKEYS, "key_x", 5, "{}", 2, 0), 0);
	ck_assert_uint_eq(generation_read(GEN_APIKEYS), keys + 1);
	ck_assert_int_eq(store_commit(txn), 0);
	ck_assert_uint_eq(generation_read(GEN_SHUTDOWNS), esd);
	/* a write outside a transaction too */
	ck_assert_int_eq(store_put(NULL, T_ESD_ACTIVE, "t" KEY_SEP_STR "e", 3, "{}", 2, 0), 0);
	ck_assert_uint_eq(generation_read(GEN_SHUTDOWNS), esd + 1);
	ck_assert_int_eq(store_del(NULL, T_ESD_ACTIVE, "t" KEY_SEP_STR "e", 3), 0);
	ck_assert_uint_eq(generation_read(GEN_SHUTDOWNS), esd + 2);
	/* a delete of nothing writes nothing */
	ck_assert_int_eq(store_del(NULL, T_ESD_ACTIVE, "t" KEY_SEP_STR "e", 3), DB_NOTFOUND);
	ck_assert_uint_eq(generation_read(GEN_SHUTDOWNS), esd + 2);
	/* another process sees the same counters */
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		generation_bump(GEN_SHUTDOWNS);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert_uint_eq(generation_read(GEN_SHUTDOWNS), esd + 3);
	/* unmapped: the answer that turns every cache off */
	generation_close();
	ck_assert_uint_eq(generation_read(GEN_APIKEYS), GENERATION_UNKNOWN);
	generation_bump(GEN_APIKEYS);
}
END_TEST

/* A replica's counters read as unknown; back to master, they moved on. */
START_TEST(generation_replica_reads_unknown)
{
	uint64_t before[GEN_COUNT];

	for (int g = 0; g < GEN_COUNT; g++) {
		before[g] = generation_read((enum generation)g);
		ck_assert(before[g] != GENERATION_UNKNOWN);
	}
	generation_set_replica(1);
	generation_set_replica(1);
	for (int g = 0; g < GEN_COUNT; g++)
		ck_assert(generation_read((enum generation)g) == GENERATION_UNKNOWN);
	generation_bump(GEN_KS_ACTIVE);
	ck_assert(generation_read(GEN_KS_ACTIVE) == GENERATION_UNKNOWN);
	generation_set_replica(0);
	for (int g = 0; g < GEN_COUNT; g++) {
		uint64_t now = generation_read((enum generation)g);

		ck_assert(now != GENERATION_UNKNOWN);
		ck_assert(now != before[g]);
	}
}
END_TEST

UNIT_MAIN("generation", UNIT_STORE | UNIT_SLOW,
    generation_counts_watched_writes, generation_replica_reads_unknown)
