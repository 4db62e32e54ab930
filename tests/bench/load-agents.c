/*
 * load-agents.c - benchmark data loader for the agents family: registers N
 * agents for a tenant through the library's own agent_register() (each
 * with its audit event and transparency-log leaf, as over HTTP), in batches
 * of one transaction per thousand.
 *
 *   load-agents DATA_DIR TENANT KEY_ID N [ROOT_AGENT_ID]
 *
 * With ROOT_AGENT_ID, the root also delegates scope "s" to every new agent
 * (a star of N delegations), so a cascade kill of the root reaches them all.
 * Prints the agent_id of the last agent registered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "agent.h"
#include "delegation.h"
#include "scope.h"
#include "store.h"

#define BATCH 1000

struct batch {
	const struct principal *who;
	long first, count;
	const char *root;
	char last[128];
};

static int
load_batch(DB_TXN *txn, void *arg)
{
	struct batch *b = arg;
	json_t *root = NULL, *scopes = json_pack("[s]", "s");
	struct problem p;
	char name[64];
	int rc = 0;

	if (b->root && (rc = agent_find(txn, b->who->tenant, b->root, &root, 0)) != 0)
		goto out;
	for (long i = 0; i < b->count && rc == 0; i++) {
		json_t *body, *agent = NULL, *dlg = NULL;

		snprintf(name, sizeof(name), "bulk-%ld", b->first + i);
		body = json_pack("{s:s, s:s, s:O}", "agent_type", "worker",
		    "display_name", name, "scopes", scopes);
		rc = agent_register(txn, b->who, body, &agent, &p);
		json_decref(body);
		if (rc == 0) {
			snprintf(b->last, sizeof(b->last), "%s", agent_ident(agent));
			if (root)
				rc = delegation_create(txn, b->who, root, agent_uuid(agent),
				    scopes, &dlg, &p);
		}
		json_decref(dlg);
		json_decref(agent);
	}
out:
	json_decref(root);
	json_decref(scopes);
	return rc;
}

int
main(int argc, char **argv)
{
	struct principal who;
	char err[512], last[128] = "";
	long n;
	int rc;

	if (argc < 5 || (n = atol(argv[4])) <= 0) {
		fprintf(stderr, "usage: load-agents DATA_DIR TENANT KEY_ID N [ROOT_AGENT_ID]\n");
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	memset(&who, 0, sizeof(who));
	snprintf(who.tenant, sizeof(who.tenant), "%s", argv[2]);
	snprintf(who.key_id, sizeof(who.key_id), "%s", argv[3]);
	snprintf(who.name, sizeof(who.name), "bench-loader");
	snprintf(who.prefix, sizeof(who.prefix), "andon_bench");
	who.scopes = SCOPE_ALL_TENANT;
	if (store_open(argv[1], 256, err, sizeof(err)) != 0) {
		fprintf(stderr, "load-agents: %s\n", err);
		return 1;
	}
	for (long done = 0; done < n; done += BATCH) {
		struct batch b = { &who, done, n - done < BATCH ? n - done : BATCH,
		    argc > 5 ? argv[5] : NULL, "" };

		if ((rc = store_run(load_batch, &b)) != 0) {
			fprintf(stderr, "load-agents: %s\n", rc > 0 ? strerror(rc) : db_strerror(rc));
			store_close();
			return 1;
		}
		snprintf(last, sizeof(last), "%s", b.last);
	}
	store_close();
	printf("%s\n", last);
	return 0;
}
