/*
 * audit-seed.c - benchmark data loader for the audit reads: appends N
 * audit events for a tenant through the library's own audit_append()
 * (chain, transparency-log leaf, tenant index, id index, as over HTTP), in
 * one transaction per thousand.  Every tenth event is a
 * killswitch.revived, the others killswitch.activated of target bulk-<i>;
 * reasons hold non-ASCII text.
 *
 *   audit-seed DATA_DIR TENANT N
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "audit.h"
#include "store.h"
#include "tlog.h"

#define BATCH 1000

struct batch {
	const struct principal *who;
	long first, count;
};

static int
seed_batch(DB_TXN *txn, void *arg)
{
	struct batch *b = arg;
	char target[64];
	int rc = tlog_ensure_key(txn);

	for (long i = 0; i < b->count && rc == 0; i++) {
		long n = b->first + i;
		json_t *data = json_pack("{s:I, s:[i, f]}", "n", (json_int_t)n,
		    "nested", (int)(n % 7), 0.25);
		struct audit_entry e = { b->who->tenant,
		    n % 10 == 9 ? "killswitch.revived" : "killswitch.activated",
		    b->who, NULL, "agent", target,
		    "Drained \u20ac3k \u2014 \u00fcber limit", data };

		snprintf(target, sizeof(target), "bulk-%ld", n);
		rc = audit_append(txn, &e, NULL, 0);
		json_decref(data);
	}
	return rc;
}

int
main(int argc, char **argv)
{
	struct principal who;
	char err[512];
	long n;
	int rc;

	if (argc < 4 || (n = atol(argv[3])) <= 0) {
		fprintf(stderr, "usage: audit-seed DATA_DIR TENANT N\n");
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	memset(&who, 0, sizeof(who));
	snprintf(who.tenant, sizeof(who.tenant), "%s", argv[2]);
	snprintf(who.key_id, sizeof(who.key_id), "key_seed");
	snprintf(who.name, sizeof(who.name), "audit-seed");
	if (store_open(argv[1], 256, err, sizeof(err)) != 0) {
		fprintf(stderr, "audit-seed: %s\n", err);
		return 1;
	}
	for (long done = 0; done < n; done += BATCH) {
		struct batch b = { &who, done, n - done < BATCH ? n - done : BATCH };

		if ((rc = store_run(seed_batch, &b)) != 0) {
			fprintf(stderr, "audit-seed: %s\n", rc > 0 ? strerror(rc) : db_strerror(rc));
			store_close();
			return 1;
		}
	}
	store_close();
	return 0;
}
