#!/usr/bin/env bash
# t0110: every bad-input rule of the contract (section 2) on the kill-switch
# writes answers its 4xx problem+json and stores nothing.
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

bad_bodies() {
	local tmp=$DATA/bad-body
	EVENTS_BEFORE=$(audit_events)

	api POST $KILL '{"target_type":"agent","target_id":'
	expect_refused 400 invalid_json "malformed JSON"
	api POST $KILL '[{"target_type":"agent","target_id":"x"}]'
	expect_refused 400 invalid_json "array body"
	api POST $KILL '"agent x"'
	expect_refused 400 invalid_json "string body"
	check_json '.detail | test("object")' 'true' "non-object body says so"
	api POST $KILL '{"target_type":"agent","target_id":"a","target_id":"b"}'
	expect_refused 400 invalid_json "duplicate member"

	printf '{"target_type":"agent","target_id":"bad-\xff-utf8"}' >"$tmp"
	api POST $KILL --data-binary "@$tmp" -H 'Content-Type: application/json'
	expect_refused 400 invalid_utf8 "invalid UTF-8"

	api POST $KILL '{"target_type":"agent","target_id":"x","reson":"typo"}'
	expect_refused 400 unknown_field "unknown field"
	check_json '.field' '"reson"' "unknown field is named in field"
	check_json '.detail | test("reson")' 'true' "unknown field is named in detail"

	api POST $KILL '{"target_type":"agent","target_id":42}'
	expect_refused 400 invalid_type "target_id as a number"
	check_json '.field' '"target_id"' "wrong type names target_id"
	api POST $KILL '{"target_type":"agent","target_id":"x","reason":7}'
	expect_refused 400 invalid_type "reason as a number"
	check_json '.field' '"reason"' "wrong type names reason"
	api POST $KILL '{"target_type":["agent"],"target_id":"x"}'
	expect_refused 400 invalid_type "target_type as an array"

	local r2001 r2000
	r2000=$(printf 'r%.0s' $(seq 2000))
	r2001=${r2000}r
	api POST $KILL "{\"target_type\":\"agent\",\"target_id\":\"x\",\"reason\":\"$r2001\"}"
	expect_refused 400 field_too_long "reason of 2001 characters"
	check_json '.field' '"reason"' "over-long reason names the field"
	# 2000 characters that are 2 bytes each: counted as characters
	local wide
	wide=$(printf 'é%.0s' $(seq 2001))
	api POST $KILL "{\"target_type\":\"agent\",\"target_id\":\"x\",\"reason\":\"$wide\"}"
	expect_refused 400 field_too_long "reason of 2001 two-byte characters"

	api POST $KILL '{"target_type":"robot","target_id":"x"}'
	expect_refused 400 invalid_field "bad target_type"
	check_json '.field' '"target_type"' "bad target_type names the field"
	api POST $KILL '{"target_type":"agent","target_id":""}'
	expect_refused 400 empty_field "empty target_id"
	api POST $KILL "{\"target_type\":\"agent\",\"target_id\":\"$(printf 'i%.0s' $(seq 257))\"}"
	expect_refused 400 field_too_long "target_id of 257 characters"
	api POST $KILL '{"target_type":"agent","target_id":"a\u0007b"}'
	expect_refused 400 invalid_field "target_id with a control character"
	api POST $KILL '{"target_type":"agent"}'
	expect_refused 400 missing_field "missing target_id"
	check_json '.field' '"target_id"' "missing field is named"
	api POST $KILL ''
	expect_refused 400 missing_field "empty body"
	api POST $KILL '{}'
	expect_refused 400 missing_field "empty object"

	head -c 65537 /dev/zero | tr '\0' ' ' >"$tmp"
	api POST $KILL --data-binary "@$tmp" -H 'Content-Type: application/json'
	expect_refused 413 body_too_large "body over max_body"

	api POST $KILL '{"target_type":"agent","target_id":"x"}' \
		-H "Idempotency-Key: $(printf 'k%.0s' $(seq 256))"
	expect_refused 400 invalid_idempotency_key "Idempotency-Key of 256 characters"

	api POST /api/v1/kill-switch/revive '{"target_type":"agent","target_id":"x","reason":"no"}'
	expect_refused 400 unknown_field "revive takes no reason"
	api POST /api/v1/kill-switch/revive '{"target_type":"agent","target_id":""}'
	expect_refused 400 empty_field "revive with an empty target_id"

	nothing_stored "after every refused body"
	api GET '/api/v1/kill-switch/check?target_type=agent&target_id=x'
	check_json '.is_killed' 'false' "x was never killed"

	# the limits themselves are accepted
	api POST $KILL "{\"target_type\":\"agent\",\"target_id\":\"$(printf 'i%.0s' $(seq 256))\",\"reason\":\"$r2000\"}"
	check_status 201 "target_id of 256 and reason of 2000 characters accepted"
	api POST $KILL '{"target_type":"run","target_id":"r-1","reason":null}'
	check_status 201 "null reason accepted"
	check_json '.reason' 'null' "null reason stored as null"
}

for_each_server bad_bodies
finish
