/*
 * load.c - benchmark data loader: stores N active kill switches for one
 * tenant straight through the library, so the check can be measured with
 * a million records without a million HTTP kills.
 *
 *   load DATA_DIR TENANT N [FIRST]
 *
 * Targets are "agent" bulk-<FIRST>..bulk-<FIRST+N-1>.  The records use the
 * same keys and fields as killswitch_kill() in lib/killswitch.c (T_KILLSWITCH,
 * T_KS_ACTIVE, T_KS_HISTORY), replicated here on purpose so the product code
 * carries nothing for benchmarks.  Bulk records get no audit events: they are
 * benchmark data, never a real instance's, and `andonctl verify` does not
 * read the kill-switch tables.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "clock.h"
#include "ids.h"
#include "store.h"

#define BATCH 5000

struct batch {
	const char *tenant;
	long first, count;
	const char *now;
};

static int
put_switch(DB_TXN *txn, const char *tenant, const char *target, const char *now)
{
	char id[37], key[STORE_KEY_MAX];
	json_t *rec, *idv;
	int rc;

	id_uuid4(id);
	rec = json_pack("{s:s, s:s, s:s, s:n, s:b, s:s, s:s, s:n, s:n, s:s, s:n}",
	    "id", id, "target_type", "agent", "target_id", target,
	    "reason", "is_active", 1, "killed_by", "bench-loader",
	    "killed_at", now, "revived_by", "revived_at",
	    "organization_id", tenant, "receipt_id");
	if (rec == NULL)
		return ENOMEM;
	store_key(key, sizeof(key), tenant, id, NULL);
	rc = store_put_json(txn, T_KILLSWITCH, key, rec, DB_NOOVERWRITE);
	json_decref(rec);
	if (rc != 0)
		return rc;
	store_key(key, sizeof(key), tenant, "agent", target, NULL);
	idv = json_pack("{s:s, s:n, s:s, s:s}", "id", id, "reason",
	    "killed_at", now, "killed_by", "bench-loader");
	rc = store_put_json(txn, T_KS_ACTIVE, key, idv, DB_NOOVERWRITE);
	json_decref(idv);
	if (rc != 0)
		return rc;
	store_key(key, sizeof(key), tenant, "agent", target, id, NULL);
	return store_put(txn, T_KS_HISTORY, key, strlen(key), "", 0, 0);
}

static int
load_batch(DB_TXN *txn, void *arg)
{
	const struct batch *b = arg;
	char target[64];
	int rc;

	for (long i = 0; i < b->count; i++) {
		snprintf(target, sizeof(target), "bulk-%ld", b->first + i);
		if ((rc = put_switch(txn, b->tenant, target, b->now)) != 0)
			return rc;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	char err[512], now[CLOCK_TEXT_SIZE];
	long n, first = 0;
	int rc;

	if (argc < 4 || (n = atol(argv[3])) <= 0 || (argc > 4 && (first = atol(argv[4])) < 0)) {
		fprintf(stderr, "usage: load DATA_DIR TENANT N [FIRST]\n");
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	if (store_open(argv[1], 256, err, sizeof(err)) != 0) {
		fprintf(stderr, "load: %s\n", err);
		return 1;
	}
	clock_format(clock_now_ms(), now);
	for (long done = 0; done < n; done += BATCH) {
		struct batch b = { argv[2], first + done, n - done < BATCH ? n - done : BATCH, now };

		if ((rc = store_run(load_batch, &b)) != 0) {
			fprintf(stderr, "load: %s\n", db_strerror(rc));
			store_close();
			return 1;
		}
	}
	store_close();
	printf("loaded %ld kill switches for %s\n", n, argv[2]);
	return 0;
}
