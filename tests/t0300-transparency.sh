#!/usr/bin/env bash
# t0300: every kill is a leaf of the RFC 9162 transparency log; its receipt
# (inclusion proof + Ed25519-signed tree head) verifies offline with
# andonctl against the log's public key, and a tampered one does not.
. "$(dirname "$0")/setup.sh"

receipts() {
	local i rid pk
	api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"rogue-bot","reason":"Drained $3k in 4 minutes"}'
	check_status 201 "kill"
	rid=$(jq -r .receipt_id <<<"$BODY")
	for i in 1 2 3 4 5; do
		api POST /api/v1/kill-switch/kill "{\"target_type\":\"run\",\"target_id\":\"run-$i\"}"
	done

	api GET "/v1/transparency/receipts/$rid"
	check_status 200 "fetch the receipt"
	check_json '.receipt_id' "\"$rid\"" "receipt id"
	check_json '.leaf_index | type' '"number"' "leaf index"
	check_json '.tree_size >= .leaf_index + 1' 'true' "tree size covers the leaf"
	check_json '.inclusion_proof | type' '"array"' "inclusion proof"
	check_json '.sth.tree_size == .tree_size' 'true' "the STH signs this tree size"
	check_json '.sth.signature | length > 0' 'true' "signed tree head"
	check_json '.event.type' '"killswitch.activated"' "the leaf is the kill's audit event"
	check_json '.event.target.id' '"rogue-bot"' "the event names the target"
	check_json '.event.reason' '"Drained $3k in 4 minutes"' "the event keeps the reason"
	check_json '.event.hash | length' '64' "the event carries its chain hash"
	printf '%s' "$BODY" >"$DATA/receipt.json"

	KEY='' api GET /v1/transparency/key
	check_status 200 "the log's public key is public"
	check_json '.algorithm' '"ed25519"' "ed25519"
	pk=$(jq -r .public_key <<<"$BODY")

	check "andonctl verify-receipt accepts the receipt" ctl verify-receipt "$DATA/receipt.json" "$pk"
	jq '.event.reason = "Drained $30 in 4 minutes"' "$DATA/receipt.json" >"$DATA/forged.json"
	check "a receipt with an edited event is refused" bash -c '! "$@"' _ \
		"$ANDONCTL" verify-receipt "$DATA/forged.json" "$pk"
	jq '.inclusion_proof[0] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="' "$DATA/receipt.json" >"$DATA/forged.json"
	check "a receipt with an edited proof is refused" bash -c '! "$@"' _ \
		"$ANDONCTL" verify-receipt "$DATA/forged.json" "$pk"
	jq '.sth.tree_size += 1' "$DATA/receipt.json" >"$DATA/forged.json"
	check "a receipt with an edited tree head is refused" bash -c '! "$@"' _ \
		"$ANDONCTL" verify-receipt "$DATA/forged.json" "$pk"
	check "a receipt checked against another key is refused" bash -c '! "$@"' _ \
		"$ANDONCTL" verify-receipt "$DATA/receipt.json" "$(head -c 32 /dev/urandom | base64)"

	KEY=$KEY_B api GET "/v1/transparency/receipts/$rid"
	check_status 404 "another tenant's receipt is 404"
	api GET /v1/transparency/receipts/rcpt_ffffffffffffffff
	check_status 404 "unknown receipt"
	api GET /v1/transparency/receipts/nonsense
	check_status 404 "malformed receipt id"

	api GET /v1/transparency/sth
	check_status 200 "signed tree head"
	local size
	size=$(jq .tree_size <<<"$BODY")
	check "the tree holds every event so far ($size)" [ "$size" -ge 6 ]
	api GET "/v1/transparency/consistency?first=2&second=$size"
	check_status 200 "consistency proof"
	check_json '.proof | length > 0' 'true' "non-empty consistency proof"
	api GET "/v1/transparency/consistency?first=0&second=$size"
	check_status 400 "first=0 refused"
	api GET "/v1/transparency/consistency?first=$((size + 1))"
	check_status 400 "first beyond the tree refused"
	api GET "/v1/transparency/consistency?first=3&second=2"
	check_status 400 "first > second refused"
	api GET "/v1/transparency/consistency?first=x"
	check_status 400 "non-numeric first refused"

	check "andonctl verify: audit chain and transparency log" ctl verify
}

for_each_server receipts
finish
