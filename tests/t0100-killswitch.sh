#!/usr/bin/env bash
# t0100: the kill-switch family end to end (contract section 6, seed 001),
# under each shipped web-server conf.
. "$(dirname "$0")/setup.sh"

seed_flow() {
	api POST /api/v1/kill-switch/kill \
		'{"target_type":"agent","target_id":"rogue-bot","reason":"Drained $3k in 4 minutes"}'
	check_status 201 "seed 001: kill rogue-bot"
	check_json '.target_type' '"agent"' "kill answers the target type"
	check_json '.target_id' '"rogue-bot"' "kill answers the target id"
	check_json '.reason' '"Drained $3k in 4 minutes"' "kill keeps the reason"
	check_json '.is_active' 'true' "the switch is active"
	check_json '.organization_id' "\"$TENANT\"" "the switch belongs to the caller's organization"
	check_json '.revived_by' 'null' "revived_by is null"
	check_json '.revived_at' 'null' "revived_at is null"
	check_json '.killed_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$")' 'true' "killed_at is RFC 3339 UTC"
	check_json '.receipt_id | startswith("rcpt_")' 'true' "the kill carries a transparency receipt"
	check_header 'content-type' '^application/json' "JSON content type"
	check_header 'x-request-id' '.+' "X-Request-Id on every response"

	api GET '/api/v1/kill-switch/check?target_type=agent&target_id=rogue-bot'
	check_status 200 "seed 001: check"
	check_json '.is_killed' 'true' "check says killed"
	check_json '.reason' '"Drained $3k in 4 minutes"' "check gives the reason"
	check_json '.target_id' '"rogue-bot"' "check names the target"
	check_json '.killed_at | type' '"string"' "check gives killed_at"

	api GET '/api/v1/kill-switch/active?skip=0&limit=100'
	check_status 200 "seed 001: active"
	check_json '.count' '1' "one active switch"
	check_json '.data[0].target_id' '"rogue-bot"' "the active switch is rogue-bot"
	check_json '.data[0] | keys | sort' \
		'["id","is_active","killed_at","killed_by","organization_id","reason","receipt_id","revived_at","revived_by","target_id","target_type"]' \
		"KillSwitchPublic fields"

	api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"rogue-bot","reason":"again"}'
	check_status 409 "seed 001: second kill is a conflict"
	check_json '.code' '"already_killed"' "code already_killed"
	check_json '.status' '409' "problem status"
	check_json '.detail | length > 0' 'true' "problem detail present"
	check_header 'content-type' '^application/problem\+json' "problem+json content type"

	api POST /api/v1/kill-switch/revive '{"target_type":"agent","target_id":"rogue-bot"}'
	check_status 200 "seed 001: revive"
	check_json '.is_active' 'false' "revived switch is inactive"
	check_json '.revived_at | type' '"string"' "revived_at set"
	check_json '.revived_by | type' '"string"' "revived_by set"

	api POST /api/v1/kill-switch/revive '{"target_type":"agent","target_id":"rogue-bot"}'
	check_status 404 "seed 001: second revive is 404"

	api GET '/api/v1/kill-switch/check?target_type=agent&target_id=rogue-bot'
	check_status 200 "check after revive"
	check_json '.is_killed' 'false' "check false after revive"

	api GET '/api/v1/kill-switch/history?target_type=agent&target_id=rogue-bot'
	check_status 200 "history"
	check_json '.count' '1' "history keeps the revived switch"
	check_json '.data[0].is_active' 'false' "history record is inactive"
}

pagination() {
	local i
	for i in 1 2 3 4 5; do
		api POST /api/v1/kill-switch/kill "{\"target_type\":\"run\",\"target_id\":\"run-$i\"}"
		check_status 201 "kill run-$i"
		sleep 0.01
	done
	api GET '/api/v1/kill-switch/active?limit=2'
	check_status 200 "active page 1"
	check_json '.count' '5' "count is the total, not the page"
	check_json '.data | length' '2' "page size 2"
	check_json '[.data[].target_id]' '["run-5","run-4"]' "newest first"
	api GET '/api/v1/kill-switch/active?skip=4&limit=2'
	check_json '[.data[].target_id]' '["run-1"]' "last page"
	api GET '/api/v1/kill-switch/active?limit=0'
	check_status 400 "limit 0 refused"
	api GET '/api/v1/kill-switch/active?limit=1001'
	check_status 400 "limit 1001 refused"
	api GET '/api/v1/kill-switch/active?skip=-1'
	check_status 400 "negative skip refused"
	api GET '/api/v1/kill-switch/active?limit=abc'
	check_status 400 "non-numeric limit refused"
}

context_check() {
	api POST /api/v1/kill-switch/kill '{"target_type":"mission","target_id":"m-1","reason":"mission over budget"}'
	check_status 201 "kill a mission"
	api GET '/api/v1/kill-switch/check?agent_id=a-ok&run_id=r-1&mission_id=m-1&action=send_email'
	check_status 200 "context check"
	check_json '.is_killed' 'true' "a killed mission stops its runs"
	check_json '.target_type' '"mission"' "names the mission"
	check_json '.target_id' '"m-1"' "names the mission id"
	api GET '/api/v1/kill-switch/check?agent_id=a-ok&run_id=r-2'
	check_json '.is_killed' 'false' "unrelated context not killed"
	api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"a-bad"}'
	api GET '/api/v1/kill-switch/check?agent_id=a-bad&mission_id=m-1'
	check_json '.target_type' '"agent"' "agent wins over mission"
	api GET '/api/v1/kill-switch/check'
	check_status 400 "check without targets"
	api GET '/api/v1/kill-switch/check?target_type=robot&target_id=x'
	check_status 400 "check with a bad target_type"
	api GET '/api/v1/kill-switch/check?target_type=agent'
	check_status 400 "check without target_id"

	# interventions: every killed check records a HARD_BLOCK, aggregated
	api GET '/api/v1/interventions?type=hard_block&action_name=send_email'
	check_status 200 "interventions list"
	check_json '.count' '1' "one intervention for the blocked action"
	check_json '.interventions[0].type' '"hard_block"' "type hard_block"
	check_json '.interventions[0].outcome' '"blocked"' "outcome blocked"
	check_json '.interventions[0].mission_id' '"m-1"' "references the mission"
	check_json '.interventions[0].kill_switch_id | type' '"string"' "references the kill switch"
	check_json '.interventions[0].killed_by | type' '"string"' "references the killing user"
	check_json '.interventions[0].id | startswith("int_")' 'true' "id int_..."
	local i
	for i in 1 2 3 4 5 6 7 8 9; do
		api GET '/api/v1/kill-switch/check?agent_id=a-ok&run_id=r-1&mission_id=m-1&action=send_email'
	done
	sleep 1.5
	# a request after the flush interval writes the pending counters
	api GET '/api/v1/kill-switch/check?agent_id=a-ok&run_id=r-1&mission_id=m-1&action=send_email'
	sleep 0.2
	api GET '/api/v1/interventions?action_name=send_email'
	check_json '.count' '1' "still one aggregated intervention"
	check_json '.interventions[0].count >= 2' 'true' "count aggregates the blocked checks"

	api POST /api/v1/interventions '{"interventions":[{"type":"HARD_BLOCK","outcome":"blocked","action_name":"wire_money","agent_id":"sdk-agent","reason":"local policy"}]}'
	check_status 201 "SDK batch accepted"
	api GET '/api/v1/interventions?agent_id=sdk-agent'
	check_json '.count' '1' "SDK intervention listed"
	api POST /api/v1/interventions '{"interventions":[{"type":"hard_block","outcome":"blocked","agnet_id":"x"}]}'
	check_status 400 "batch item with an unknown field"
	check_json '.detail | test("agnet_id")' 'true' "the 400 names the field"
	api GET '/api/v1/interventions?start_date=yesterday'
	check_status 400 "bad start_date"
}

http_semantics() {
	api DELETE /api/v1/kill-switch/kill
	check_status 405 "wrong method"
	check_header 'allow' 'POST' "Allow names POST"
	api GET /api/v1/kill-switch/nothing-here
	check_status 404 "unknown path"
	check_json '.code' '"not_found"' "404 is problem+json"
	KEY='' api OPTIONS /api/v1/kill-switch/check
	check_status 204 "OPTIONS"
	check_header 'allow' 'GET' "OPTIONS lists GET"
	api HEAD '/api/v1/kill-switch/check?target_type=agent&target_id=x'
	check_status 200 "HEAD on check"
	[ -z "$BODY" ] && ok "HEAD has no body" || fail "HEAD has no body"
	api GET '/api/v1/kill-switch/check?target_type=agent&target_id=x' -H 'X-Request-Id: trace-123'
	check_header 'x-request-id' '^trace-123' "sane X-Request-Id echoed"
	api GET '/api/v1/kill-switch/check?target_type=agent&target_id=x' -H 'X-Request-Id: bad id <script>'
	check_header 'x-request-id' '^req_' "insane X-Request-Id replaced"
}

idempotency() {
	api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"idem-1","reason":"r"}' -H 'Idempotency-Key: k-1'
	check_status 201 "first kill with an Idempotency-Key"
	local first="$BODY"
	api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"idem-1","reason":"r"}' -H 'Idempotency-Key: k-1'
	check_status 201 "retry gets the stored 201, not 409"
	[ "$BODY" = "$first" ] && ok "retry gets the same body" || fail "retry gets the same body"
	api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"idem-2","reason":"r"}' -H 'Idempotency-Key: k-1'
	check_status 422 "same key, other body"
	check_json '.code' '"idempotency_key_reused"' "code idempotency_key_reused"
	api GET '/api/v1/kill-switch/check?target_type=agent&target_id=idem-2'
	check_json '.is_killed' 'false' "the refused retry stored nothing"
}

for_each_server seed_flow
for_each_server pagination
for_each_server context_check
for_each_server http_semantics
for_each_server idempotency
finish
