#!/usr/bin/env bash
# t0850: defects found trying Andon as a new user would (issue 16), each
# with its regression test.
. "$(dirname "$0")/setup.sh"

agents() {
	api "$1" "$2" "${3:-}" -H "X-Tenant-ID: $TENANT" "${@:4}"
}

# Defect 4: reals in the shortest text that reads back as the same double.
shortest_reals() {
	local id
	agents POST /v1/agents '{"agent_type":"llm","display_name":"Reals","trust_score":0.9}' \
		-H 'Idempotency-Key: reals-1'
	check_status 201 "register with trust_score 0.9"
	grep -q '"trust_score":0.9[,}]' <<<"$BODY" && ok "0.9 written as 0.9" ||
		fail "0.9 written as 0.9 (got $(grep -o '"trust_score":[^,}]*' <<<"$BODY"))"
	id=$(jq -r .id <<<"$BODY")
	agents POST /v1/agents '{"agent_type":"llm","display_name":"Reals","trust_score":0.9}' \
		-H 'Idempotency-Key: reals-1'
	grep -q '"trust_score":0.9[,}]' <<<"$BODY" && ok "the replay too" ||
		fail "the replay too (got $(grep -o '"trust_score":[^,}]*' <<<"$BODY"))"
	agents GET "/v1/agents/$id"
	grep -q '"trust_score":0.9[,}]' <<<"$BODY" && ok "and the read" ||
		fail "and the read (got $(grep -o '"trust_score":[^,}]*' <<<"$BODY"))"
	agents POST /v1/agents '{"agent_type":"llm","display_name":"Reals","trust_score":0.30000000000000004}'
	check_status 201 "a real that needs 17 digits"
	grep -q '"trust_score":0.30000000000000004[,}]' <<<"$BODY" &&
		ok "keeps its 17 digits" || fail "keeps its 17 digits"
	agents POST /v1/agents '{"agent_type":"llm","display_name":"Reals","trust_score":1}'
	grep -q '"trust_score":1[,}.]' <<<"$BODY" && ok "1 stays a number" ||
		fail "1 stays a number"
}

# Defect 7: resolving a severity-3 shutdown does not answer with the
# warning of the shutdown it just resolved; another one still active is
# still announced.
resolve_warning() {
	local first second
	api POST /v1/emergency-shutdown '{"severity":3,"reason":"first warning","scope":"org"}'
	check_status 201 "a severity-3 shutdown"
	first=$(jq -r .shutdown_id <<<"$BODY")
	api POST "/v1/emergency-shutdown/$first/resolve" '{"reason":"done"}'
	check_status 200 "resolve it"
	check_json '.emergency_warning' 'null' "the answer carries no warning of the resolved one"
	grep -qi '^x-emergency-warning:' <<<"$HEADERS" &&
		fail "no X-Emergency-Warning header after resolving the only one" ||
		ok "no X-Emergency-Warning header after resolving the only one"

	api POST /v1/emergency-shutdown '{"severity":3,"reason":"one","scope":"org"}'
	first=$(jq -r .shutdown_id <<<"$BODY")
	api POST /v1/emergency-shutdown '{"severity":3,"reason":"two","scope":"org"}'
	second=$(jq -r .shutdown_id <<<"$BODY")
	api POST "/v1/emergency-shutdown/$second/resolve" '{"reason":"done"}'
	check_status 200 "resolve one of two"
	check_json '.emergency_warning.shutdown_id' "\"$first\"" "the other one is still announced"
	api POST "/v1/emergency-shutdown/$first/resolve" '{"reason":"done"}'
	check_json '.emergency_warning' 'null' "and then none"
}

for_each_server shortest_reals
for_each_server resolve_warning
finish
