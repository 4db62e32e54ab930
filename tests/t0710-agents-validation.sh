#!/usr/bin/env bash
# t0710: every bad-input rule of the agents family, one test per rule, each
# answering its 4xx problem+json and storing nothing (the agent unchanged,
# the audit trail as long as before).  The rules are data, one a row:
# tests/cases/t0710-agents-invalid.txt.
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

# refused STATUS CODE FIELD METHOD PATH BODY DESC AS: one row of
# tests/cases/t0710-agents-invalid.txt, sent and checked.
refused() {
	local field=$3 body=$6
	local -a args=()
	[ "$field" = - ] && field=
	[ "$body" = - ] || args+=("$body")
	case $8 in
	-) agents "$4" "$5" "${args[@]}" ;;
	no-tenant) api "$4" "$5" "${args[@]}" ;;
	tenant-b) KEY=$KEY_B api "$4" "$5" "${args[@]}" -H "X-Tenant-ID: $TENANT_B" ;;
	*) fail "$7: unknown AS column $8" ;;
	esac
	expect "$1" "$2" "$field" "$7"
}

rules() {
	local agent before events meta
	agents POST /v1/agents '{"agent_type":"bot","display_name":"target","scopes":["s1"]}'
	check_status 201 "register the agent the rules are tried on"
	agent=$(jq -r .agent_id <<<"$BODY")
	before=$(jq -c 'del(.session_count)' <<<"$BODY")
	events=$(audit_events)

	meta="{\"k\":\"$(repeat $((16384 - 8)) m)\"}"
	agents POST /v1/agents "{\"agent_type\":\"bot\",\"display_name\":\"exactly 16 KiB\",\"metadata\":$meta}"
	check_status 201 "metadata of exactly 16 KiB is accepted"
	events=$((events + 1))

	read_cases "$TOP/tests/cases/t0710-agents-invalid.txt" refused

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
