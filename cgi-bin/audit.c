/*
 * audit.c - the audit family: transparency-log receipts, signed tree
 * heads, consistency proofs and the log's public key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit.h"
#include "merkle.h"
#include "scope.h"
#include "server.h"
#include "store.h"
#include "tlog.h"

static json_t *
b64(const unsigned char *bin, size_t len)
{
	char text[128];

	sodium_bin2base64(text, sizeof(text), bin, len, sodium_base64_VARIANT_ORIGINAL);
	return json_string(text);
}

static json_t *
proof_array(const merkle_hash *proof, size_t count)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < count; i++)
		json_array_append_new(arr, b64(proof[i], MERKLE_HASH_SIZE));
	return arr;
}

static int
get_receipt(struct ctx *c)
{
	merkle_hash proof[MERKLE_MAX_PROOF], leaf;
	uint64_t index, size;
	const char *tenant;
	json_t *event, *sth;
	size_t count;
	int rc;

	if (tlog_parse_receipt_id(ctx_param(c, 0), &index) != 0 ||
	    (rc = audit_get(NULL, index + 1, &event)) == DB_NOTFOUND) {
		response_error(c->resp, 404, "not_found", "no such receipt");
		return 0;
	}
	if (rc != 0)
		return rc;
	tenant = json_string_value(json_object_get(event, "tenant"));
	if (tenant == NULL || strcmp(tenant, c->who.tenant) != 0) {
		json_decref(event);
		response_error(c->resp, 404, "not_found", "no such receipt");
		return 0;
	}
	if ((rc = tlog_size(NULL, &size)) != 0 ||
	    (rc = tlog_signed_head(size, &sth)) != 0) {
		json_decref(event);
		return rc;
	}
	rc = merkle_inclusion_proof(tlog_node, NULL, index, size, proof, &count);
	if (rc == 0)
		rc = tlog_node(NULL, 0, index, leaf);
	if (rc != 0) {
		json_decref(event);
		json_decref(sth);
		return rc;
	}
	response_json(c->resp, 200, json_pack("{s:s, s:I, s:I, s:o, s:o, s:o, s:o, s:O}",
	    "receipt_id", ctx_param(c, 0),
	    "leaf_index", (json_int_t)index,
	    "tree_size", (json_int_t)size,
	    "leaf_hash", b64(leaf, sizeof(leaf)),
	    "event", event,
	    "inclusion_proof", proof_array(proof, count),
	    "sth", sth,
	    "public_key", json_object_get(sth, "public_key")));
	return 0;
}

static int
get_sth(struct ctx *c)
{
	uint64_t size;
	json_t *sth;
	int rc;

	if ((rc = tlog_size(NULL, &size)) != 0 || (rc = tlog_signed_head(size, &sth)) != 0)
		return rc;
	response_json(c->resp, 200, sth);
	return 0;
}

static int
get_consistency(struct ctx *c)
{
	merkle_hash proof[MERKLE_MAX_PROOF];
	struct problem p;
	long first, second;
	uint64_t size;
	size_t count;
	int rc;

	if ((rc = tlog_size(NULL, &size)) != 0)
		return rc;
	if (query_long(c->req->query, "first", -1, 1, (long)size, &first, &p) != 0 ||
	    query_long(c->req->query, "second", (long)size, 1, (long)size, &second, &p) != 0) {
		response_problem(c->resp, &p);
		return 0;
	}
	if (first < 1 || first > second) {
		response_error(c->resp, 400, "invalid_query",
		    "first and second must satisfy 1 <= first <= second <= %llu",
		    (unsigned long long)size);
		return 0;
	}
	rc = merkle_consistency_proof(tlog_node, NULL, (uint64_t)first,
	    (uint64_t)second, proof, &count);
	if (rc != 0)
		return rc;
	response_json(c->resp, 200, json_pack("{s:I, s:I, s:o}",
	    "first", (json_int_t)first, "second", (json_int_t)second,
	    "proof", proof_array(proof, count)));
	return 0;
}

static int
get_key(struct ctx *c)
{
	unsigned char pk[32];
	int rc;

	if ((rc = tlog_public_key(pk)) != 0)
		return rc;
	response_json(c->resp, 200, json_pack("{s:s, s:o}", "algorithm", "ed25519",
	    "public_key", b64(pk, sizeof(pk))));
	return 0;
}

static const struct route routes[] = {
	{ "GET", "/v1/transparency/receipts/{id}", get_receipt, SCOPE_AUDIT_READ,
	  ROUTE_GATE_EXEMPT, NULL },
	{ "GET", "/v1/transparency/sth", get_sth, SCOPE_AUDIT_READ, ROUTE_GATE_EXEMPT, NULL },
	{ "GET", "/v1/transparency/consistency", get_consistency, SCOPE_AUDIT_READ,
	  ROUTE_GATE_EXEMPT, NULL },
	{ "GET", "/v1/transparency/key", get_key, 0, ROUTE_PUBLIC | ROUTE_GATE_EXEMPT, NULL },
};

static const struct family audit_family = {
	"andon-audit", routes, sizeof(routes) / sizeof(routes[0]), NULL, NULL, NULL,
};

int
main(int argc, char **argv)
{
	return server_main(argc, argv, &audit_family);
}
