#!/usr/bin/env bash
# t0710: every bad-input rule of the agents family, one test per rule, each
# answering its 4xx problem+json and storing nothing (the agent unchanged,
# the audit trail as long as before).
. "$(dirname "$0")/setup.sh"

agents() {
	api "$1" "$2" "${3:-}" -H "X-Tenant-ID: $TENANT" "${@:4}"
}

audit_events() {
	ctl verify | sed -n 's/^ok: \([0-9]*\) audit events.*/\1/p'
}

# repeat N CHAR: the character N times.
repeat() {
	printf "%$1s" '' | tr ' ' "$2"
}

# expect STATUS CODE FIELD DESC: the last answer is that problem.
expect() {
	check_status "$1" "$4"
	check_header 'content-type' '^application/problem\+json' "$4: problem+json"
	check_json '.code' "\"$2\"" "$4: code $2"
	[ -n "$3" ] && check_json '.field' "\"$3\"" "$4: names $3"
	check_json '.detail | length > 0' 'true' "$4: detail present"
}

rules() {
	local agent before events meta
	agents POST /v1/agents '{"agent_type":"bot","display_name":"target","scopes":["s1"]}'
	check_status 201 "register the agent the rules are tried on"
	agent=$(jq -r .agent_id <<<"$BODY")
	before=$(jq -c 'del(.session_count)' <<<"$BODY")
	events=$(audit_events)

	# registration
	agents POST /v1/agents "{\"agent_type\":\"bot\",\"display_name\":\"$(repeat 257 n)\"}"
	expect 400 field_too_long display_name "display_name of 257 characters"
	agents POST /v1/agents "{\"agent_type\":\"bot\",\"display_name\":\"n\",\"description\":\"$(repeat 2049 d)\"}"
	expect 400 field_too_long description "description of 2049 characters"
	# {"k":"xxx…"} serialised is 8 bytes + the string: 16 KiB + 1 in all
	meta="{\"k\":\"$(repeat $((16384 + 1 - 8)) m)\"}"
	agents POST /v1/agents "{\"agent_type\":\"bot\",\"display_name\":\"n\",\"metadata\":$meta}"
	expect 400 field_too_long metadata "metadata of 16 KiB + 1 serialised"
	meta="{\"k\":\"$(repeat $((16384 - 8)) m)\"}"
	agents POST /v1/agents "{\"agent_type\":\"bot\",\"display_name\":\"exactly 16 KiB\",\"metadata\":$meta}"
	check_status 201 "metadata of exactly 16 KiB is accepted"
	events=$((events + 1))
	agents POST /v1/agents
	expect 400 missing_field agent_type "empty body: the first required field is named"
	agents POST /v1/agents '{"agent_type":"bot","display_name":"n","colour":"red"}'
	expect 400 unknown_field colour "unknown field"
	agents POST /v1/agents '{"agent_type":"robot","display_name":"n"}'
	expect 400 invalid_field agent_type "bad agent_type"
	agents POST /v1/agents '{"agent_type":"bot","display_name":"n","trust_score":1.01}'
	expect 400 invalid_field trust_score "trust_score above 1"
	agents POST /v1/agents '{"agent_type":"bot","display_name":"n","trust_score":-0.1}'
	expect 400 invalid_field trust_score "trust_score below 0"
	agents POST /v1/agents '{"agent_type":"bot","display_name":"n","trust_score":"0.5"}'
	expect 400 invalid_type trust_score "trust_score as a string"
	agents POST /v1/agents '{"agent_type":"bot","display_name":"   "}'
	expect 400 empty_field display_name "blank display_name"
	agents POST /v1/agents '{"agent_type":"bot","display_name":"n","scopes":"s1"}'
	expect 400 invalid_type scopes "scopes as a string"
	agents POST /v1/agents '{"agent_type":"bot","display_name":"n","public_key":"bm90IGEga2V5"}'
	expect 400 invalid_field public_key "a public key that is not 32 bytes"
	agents POST /v1/agents '{"agent_type":"bot","display_name":"n"'
	expect 400 invalid_json "" "malformed JSON"

	# PATCH
	agents PATCH "/v1/agents/$agent"
	expect 400 empty_body "" "PATCH with an empty body"
	agents PATCH "/v1/agents/$agent" '{}'
	expect 400 empty_body "" "PATCH with no field"
	agents PATCH "/v1/agents/$agent" '{"scopes":["s1","admin"]}'
	expect 400 scopes_immutable scopes "scopes in PATCH"
	agents PATCH "/v1/agents/$agent" '{"display_name":"ok","scopes":[]}'
	expect 400 scopes_immutable scopes "scopes in PATCH beside a valid field"
	agents PATCH "/v1/agents/$agent" '{"status":"revoked"}'
	expect 400 invalid_field status "status revoked in PATCH"
	agents PATCH "/v1/agents/$agent" '{"status":"deleted"}'
	expect 400 invalid_field status "unknown status in PATCH"
	agents PATCH "/v1/agents/$agent" '{"trust_score":0.9}'
	expect 400 unknown_field trust_score "trust_score is not mutable"
	agents PATCH "/v1/agents/$agent" '{"agent_type":"llm"}'
	expect 400 unknown_field agent_type "agent_type is not mutable"
	agents PATCH "/v1/agents/$agent" "{\"display_name\":\"$(repeat 257 n)\"}"
	expect 400 field_too_long display_name "PATCH display_name of 257 characters"
	agents PATCH "/v1/agents/$agent" "{\"description\":\"$(repeat 2049 d)\"}"
	expect 400 field_too_long description "PATCH description of 2049 characters"
	meta="{\"k\":\"$(repeat $((16384 + 1 - 8)) m)\"}"
	agents PATCH "/v1/agents/$agent" "{\"metadata\":$meta}"
	expect 400 field_too_long metadata "PATCH metadata of 16 KiB + 1"
	agents PATCH "/v1/agents/$agent" '{"metadata":["not","an","object"]}'
	expect 400 invalid_type metadata "PATCH metadata as an array"

	# suspend, kill, revoke
	agents POST "/v1/agents/$agent/suspend" '{}'
	expect 400 missing_field reason "suspend without reason"
	agents POST "/v1/agents/$agent/suspend"
	expect 400 missing_field reason "suspend with an empty body"
	agents POST "/v1/agents/$agent/suspend" '{"reason":"  "}'
	expect 400 empty_field reason "suspend with a blank reason"
	agents POST "/v1/agents/$agent/suspend" "{\"reason\":\"$(repeat 1025 r)\"}"
	expect 400 field_too_long reason "suspend reason of 1025 characters"
	agents POST "/v1/agents/$agent/kill" '{"cascade":true}'
	expect 400 missing_field reason "kill without reason"
	agents POST "/v1/agents/$agent/kill" "{\"reason\":\"$(repeat 2001 r)\"}"
	expect 400 field_too_long reason "kill reason of 2001 characters"
	agents POST "/v1/agents/$agent/kill" '{"reason":"x","cascade":"yes"}'
	expect 400 invalid_type cascade "kill cascade as a string"
	agents POST "/v1/agents/$agent/kill" '{"reason":"x","reson":"typo"}'
	expect 400 unknown_field reson "kill with a typo"
	agents POST "/v1/agents/$agent/revoke" '{}'
	expect 400 missing_field reason "revoke without reason"
	agents POST "/v1/agents/$agent/revoke" "{\"reason\":\"$(repeat 1025 r)\"}"
	expect 400 field_too_long reason "revoke reason of 1025 characters"

	# sessions, introspection, receipts, delegations
	agents POST "/v1/agents/$agent/sessions" '{"ttl_seconds":59}'
	expect 400 invalid_field ttl_seconds "session ttl 59 s"
	agents POST "/v1/agents/$agent/sessions" '{"ttl_seconds":86401}'
	expect 400 invalid_field ttl_seconds "session ttl 86401 s"
	agents POST "/v1/agents/$agent/sessions" '{"ttl_seconds":600.5}'
	expect 400 invalid_type ttl_seconds "session ttl not an integer"
	agents POST "/v1/agents/$agent/sessions" '{"scopes":["s1","s2"]}'
	expect 400 scopes_not_held scopes "session scopes the agent does not hold"
	agents POST /v1/sessions/introspect '{}'
	expect 400 missing_field token "introspection without token"
	agents POST "/v1/agents/$agent/receipts" '{}'
	expect 400 missing_field action "receipt without action"
	agents POST "/v1/agents/$agent/receipts" '{"action":"a","payload":"text"}'
	expect 400 invalid_type payload "receipt payload not an object"
	agents POST "/v1/agents/$agent/delegations" "{\"delegate_agent_id\":\"$agent\",\"scopes\":[\"s1\"]}"
	expect 400 self_delegation delegate_agent_id "self-delegation"
	agents POST "/v1/agents/$agent/delegations" '{"delegate_agent_id":"maip:nobody:01HYX3KPZQ7RJGBN0WFMV8SDEH","scopes":["s1"]}'
	expect 404 not_found delegate_agent_id "delegation to an unknown agent"
	agents POST "/v1/agents/$agent/delegations" '{"delegate_agent_id":"x"}'
	expect 400 missing_field scopes "delegation without scopes"

	# tenancy
	api GET "/v1/agents/$agent"
	expect 400 missing_tenant "" "missing X-Tenant-ID on a read"
	api POST /v1/agents '{"agent_type":"bot","display_name":"n"}'
	expect 400 missing_tenant "" "missing X-Tenant-ID on registration"
	api POST /v1/sessions/introspect '{"token":"x"}'
	expect 400 missing_tenant "" "missing X-Tenant-ID on introspection"
	KEY=$KEY_B api GET "/v1/agents/$agent" -H "X-Tenant-ID: $TENANT_B"
	expect 404 not_found "" "foreign tenant's agent: GET"
	KEY=$KEY_B api PATCH "/v1/agents/$agent" '{"display_name":"mine"}' -H "X-Tenant-ID: $TENANT_B"
	expect 404 not_found "" "foreign tenant's agent: PATCH"
	KEY=$KEY_B api POST "/v1/agents/$agent/suspend" '{"reason":"mine"}' -H "X-Tenant-ID: $TENANT_B"
	expect 404 not_found "" "foreign tenant's agent: suspend"
	KEY=$KEY_B api POST "/v1/agents/$agent/kill" '{"reason":"mine"}' -H "X-Tenant-ID: $TENANT_B"
	expect 404 not_found "" "foreign tenant's agent: kill"
	KEY=$KEY_B api POST "/v1/agents/$agent/sessions" '{}' -H "X-Tenant-ID: $TENANT_B"
	expect 404 not_found "" "foreign tenant's agent: open a session"
	KEY=$KEY_B api GET "/v1/agents/$agent/receipts" -H "X-Tenant-ID: $TENANT_B"
	expect 404 not_found "" "foreign tenant's agent: receipts"

	agents GET "/v1/agents/$agent"
	check_json 'del(.session_count)' "$before" "the agent is exactly as registered"
	check_json '.session_count' '0' "no session was opened"
	check "the audit trail is unchanged ($(audit_events) events)" [ "$(audit_events)" = "$events" ]
	agents GET "/v1/agents/$agent/receipts"
	check_json '.count' '0' "no receipt was stored"
	agents GET "/v1/agents/$agent/delegations"
	check_json '.count' '0' "no delegation was stored"
}

for_each_server rules
finish
