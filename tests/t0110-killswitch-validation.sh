#!/usr/bin/env bash
# t0110: every bad-input rule of the contract (section 2) on the kill-switch
# writes answers its 4xx problem+json and stores nothing.  The cases are
# data, one a row: tests/cases/t0110-killswitch-invalid.txt.
. "$(dirname "$0")/setup.sh"

KILL=/api/v1/kill-switch/kill

# The number of audit events, from "andonctl verify".
audit_events() {
	ctl verify | sed -n 's/^ok: \([0-9]*\) audit events.*/\1/p'
}

# expect_refused STATUS CODE DESC: the last answer is that problem.
expect_refused() {
	check_status "$1" "$3"
	check_header 'content-type' '^application/problem\+json' "$3: problem+json"
	check_json '.code' "\"$2\"" "$3: code $2"
	check_json ".status" "$1" "$3: status member"
	check_json '.detail | length > 0' 'true' "$3: detail present"
}

nothing_stored() {
	api GET '/api/v1/kill-switch/active'
	check_json '.count' '0' "$1: no switch stored"
	local events
	events=$(audit_events)
	check "$1: audit trail unchanged ($events events)" [ "$events" = "$EVENTS_BEFORE" ]
}

# refused STATUS CODE FIELD METHOD PATH BODY DESC DETAIL HEADER: one row
# of tests/cases/t0110-killswitch-invalid.txt, sent and checked.
refused() {
	local field=$3 body=$6 desc=$7 detail=$8 header=$9
	local -a args=()
	[ "$body" = - ] || args+=("$body")
	[ "$header" = - ] || args+=(-H "$header")
	api "$4" "$5" "${args[@]}"
	expect_refused "$1" "$2" "$desc"
	[ "$field" = - ] ||
		check_json '.field' "\"$field\"" "$desc: names $field in field"
	[ "$detail" = - ] ||
		check_json ".detail | test(\"$detail\")" 'true' "$desc: detail says $detail"
}

bad_bodies() {
	local r2000
	EVENTS_BEFORE=$(audit_events)

	read_cases "$TOP/tests/cases/t0110-killswitch-invalid.txt" refused

	nothing_stored "after every refused body"
	api GET '/api/v1/kill-switch/check?target_type=agent&target_id=x'
	check_json '.is_killed' 'false' "x was never killed"

	# the limits themselves are accepted
	r2000=$(printf 'r%.0s' $(seq 2000))
	api POST $KILL "{\"target_type\":\"agent\",\"target_id\":\"$(printf 'i%.0s' $(seq 256))\",\"reason\":\"$r2000\"}"
	check_status 201 "target_id of 256 and reason of 2000 characters accepted"
	api POST $KILL '{"target_type":"run","target_id":"r-1","reason":null}'
	check_status 201 "null reason accepted"
	check_json '.reason' 'null' "null reason stored as null"
}

for_each_server bad_bodies
finish
