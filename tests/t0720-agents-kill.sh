#!/usr/bin/env bash
# t0720: the irreversible kill (seed 000) and what it reaches: sessions,
# receipts, delegations and the cascade over a graph with a cycle and a
# diamond, dry runs, introspection for every blocking reason, sessions
# opened while their agent is killed, and the kill-switch check answering
# for the registry.  The audit chain and the transparency log verify after
# each part.
. "$(dirname "$0")/setup.sh"

agents() {
	api "$1" "$2" "${3:-}" -H "X-Tenant-ID: $TENANT" "${@:4}"
}

audit_events() {
	ctl verify | sed -n 's/^ok: \([0-9]*\) audit events.*/\1/p'
}

# The audit event number N (1-based) through its transparency receipt.
event_at() {
	api GET "/v1/transparency/receipts/$(printf 'rcpt_%016x' $(($1 - 1)))"
	jq -c .event <<<"$BODY"
}

# register NAME [SCOPES-JSON]: sets ID (agent_id) and UUID.
register() {
	agents POST /v1/agents "{\"agent_type\":\"worker\",\"display_name\":\"$1\",\"scopes\":${2:-[\"s\"]}}"
	[ "$STATUS" = 201 ] || fail "register $1 (got $STATUS)"
	ID=$(jq -r .agent_id <<<"$BODY")
	UUID=$(jq -r .id <<<"$BODY")
}

session() {
	agents POST "/v1/agents/$1/sessions" "${2:-{\}}"
	TOKEN=$(jq -r '.token // empty' <<<"$BODY")
	SESSION=$(jq -r '.id // empty' <<<"$BODY")
}

delegate() {
	agents POST "/v1/agents/$1/delegations" "{\"delegate_agent_id\":\"$2\",\"scopes\":[\"s\"]}"
	[ "$STATUS" = 201 ] || fail "delegate $1 -> $2 (got $STATUS)"
}

introspect() {
	if [ -n "${2:-}" ]; then
		agents POST /v1/sessions/introspect "{\"token\":\"$1\",\"scope\":\"$2\"}"
	else
		agents POST /v1/sessions/introspect "{\"token\":\"$1\"}"
	fi
}

seed_kill() {
	local agent rid t1 t2 events
	register rogue '["payments:write"]'
	agent=$ID
	session "$agent"
	t1=$TOKEN
	session "$agent"
	t2=$TOKEN
	session "$agent"
	agents DELETE "/v1/agents/$agent/sessions/$SESSION"
	check_status 200 "a session ended before the kill"
	agents POST "/v1/agents/$agent/receipts" '{"action":"transfer","payload":{"amount":3000}}'
	agents POST "/v1/agents/$agent/receipts" '{"action":"transfer","payload":{"amount":12}}'
	agents POST "/v1/agents/$agent/receipts" '{"action":"refund"}'
	agents POST "/v1/agents/$agent/receipts/$(jq -r .id <<<"$BODY")/finalize"
	check_status 200 "a receipt finalized before the kill"
	events=$(audit_events)

	# seed 000's example, as written
	curl -s -o "$DATA/.body" -w '%{http_code}' --request POST \
		--url "$BASE/v1/agents/$agent/kill" \
		--header 'Content-Type: application/json' \
		--header "X-API-Key: $ADMIN_KEY" \
		--header "X-Tenant-ID: $TENANT" \
		--data '
{
  "reason": "Confirmed credential compromise",
  "cascade": false
}
' >"$DATA/.status"
	STATUS=$(cat "$DATA/.status")
	BODY=$(cat "$DATA/.body")
	check_status 200 "seed 000: kill example"
	check_json 'keys' '["agent","agent_id","agent_status","cascaded","killed_at","operator_id","reason","receipt_id","receipts_voided","sessions_terminated","terminated_sessions"]' \
		"seed 000: the union of both response shapes"
	check_json '.agent_id' "\"$agent\"" "agent_id"
	check_json '.agent_status' '"revoked"' "agent_status revoked"
	check_json '.agent.status' '"revoked"' "agent object revoked"
	check_json '.agent.session_count' '0' "agent object: no session left"
	check_json '.agent.keys | type' '"array"' "agent object carries keys"
	check_json '.sessions_terminated' '2' "two active sessions terminated"
	check_json '.terminated_sessions' '2' "terminated_sessions mirrors it"
	check_json '.receipts_voided' '2' "two pending receipts voided"
	check_json '.reason' '"Confirmed credential compromise"' "reason"
	check_json '.operator_id' '"admin"' "operator_id defaults to the key's name"
	check_json '.cascaded' '[]' "no cascade"
	check_json '.killed_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$")' 'true' "killed_at RFC 3339"
	rid=$(jq -r .receipt_id <<<"$BODY")
	check "one audit event for one agent" [ "$(audit_events)" = $((events + 1)) ]

	api GET "/v1/transparency/receipts/$rid"
	check_status 200 "the kill's transparency receipt"
	check_json '.event.type' '"killswitch.activated"' "audited as killswitch.activated"
	check_json '.event.target | [.type, .id]' "[\"agent\",\"$agent\"]" "the event names the agent"
	check_json '[.event.data.sessions_terminated, .event.data.receipts_voided]' '[2,2]' "the event counts what the kill did"
	printf '%s' "$BODY" >"$DATA/kill-receipt.json"
	check "the kill's receipt verifies offline" ctl verify-receipt "$DATA/kill-receipt.json"

	agents POST "/v1/agents/$agent/kill" '{"reason":"again"}'
	check_status 409 "a second kill is 409"
	check_json '.code' '"already_revoked"' "code already_revoked"
	agents GET "/v1/agents/$agent/sessions"
	check_json '[.data[].status] | sort' '["terminated","terminated","terminated"]' "every session is terminated"
	agents GET "/v1/agents/$agent/receipts?status=voided"
	check_json '.count' '2' "the pending receipts are voided"
	agents POST "/v1/agents/$agent/receipts/$(jq -r '.data[0].id' <<<"$BODY")/finalize"
	check_status 409 "a voided receipt cannot be finalized"
	check_json '.code' '"receipt_voided"' "code receipt_voided"
	agents GET "/v1/agents/$agent/receipts?status=finalized"
	check_json '.count' '1' "the finalized receipt stays finalized"
	introspect "$t1"
	check_json '.' '{"active":false}' "the first token is inactive"
	introspect "$t2"
	check_json '.' '{"active":false}' "the second token is inactive"
	session "$agent"
	check_status 409 "a killed agent opens no session"
	check_json '.code' '"agent_revoked"' "code agent_revoked"

	api GET "/api/v1/kill-switch/check?target_type=agent&target_id=$agent"
	check_json '[.is_killed, .source, .agent_status, .reason]' '[true,"agent_status","revoked","Confirmed credential compromise"]' "the kill-switch check: killed, source agent_status"
	api GET "/api/v1/kill-switch/check?agent_id=$agent&run_id=run-1&action=pay"
	check_json '[.is_killed, .target_type, .source]' '[true,"agent","agent_status"]' "the context check names the agent"
	api GET "/api/v1/interventions?agent_id=$agent"
	check_json '.count >= 1' 'true' "the blocked check is recorded as an intervention"

	register operated
	agents POST "/v1/agents/$ID/kill" '{"reason":"drill","operator_id":"oncall:alice"}' -H 'Idempotency-Key: kill-1'
	check_status 200 "kill with operator_id"
	check_json '.operator_id' '"oncall:alice"' "operator_id kept"
	rid=$(jq -r .receipt_id <<<"$BODY")
	agents POST "/v1/agents/$ID/kill" '{"reason":"drill","operator_id":"oncall:alice"}' -H 'Idempotency-Key: kill-1'
	check_status 200 "a retried kill replays its answer"
	check_json '.receipt_id' "\"$rid\"" "the same receipt"
	api GET "/v1/transparency/receipts/$rid"
	check_json '.event.actor.operator_id' '"oncall:alice"' "the event records the operator"
	check "chain and log verify" ctl verify
}

receipts_and_delegations() {
	local a b digest rid foreign dlg
	register issuer '["s","t"]'
	a=$ID
	agents POST "/v1/agents/$a/receipts" '{"action":"send_email","payload":{"to":"ops@example.com"}}'
	check_status 201 "create a receipt"
	check_json '[.status, .action, .finalized_at]' '["pending","send_email",null]' "pending"
	digest=$(jq -r .payload_sha256 <<<"$BODY")
	rid=$(jq -r .id <<<"$BODY")
	agents POST "/v1/agents/$a/receipts/$rid/finalize"
	check_status 200 "finalize"
	check_json '.status' '"finalized"' "finalized"
	check_json '.transparency_receipt_id | startswith("rcpt_")' 'true' "anchored in the transparency log"
	api GET "/v1/transparency/receipts/$(jq -r .transparency_receipt_id <<<"$BODY")"
	check_json '.event.type' '"receipt.finalized"' "the anchor is the receipt.finalized event"
	check_json '.event.data.payload_sha256' "\"$digest\"" "the anchor carries the payload digest"
	agents POST "/v1/agents/$a/receipts/$rid/finalize"
	check_status 409 "finalizing twice is 409"
	check_json '.code' '"already_finalized"' "code already_finalized"
	agents POST "/v1/agents/$a/receipts/arc_000000000000000000000000/finalize"
	check_status 404 "an unknown receipt is 404"
	agents GET "/v1/agents/$a/receipts?status=finalized"
	check_json '.count' '1' "list by status"
	agents GET "/v1/agents/$a/receipts?status=lost"
	check_status 400 "unknown receipt status filter is 400"

	register delegate
	b=$ID
	agents POST "/v1/agents/$a/delegations" "{\"delegate_agent_id\":\"$b\",\"scopes\":[\"s\",\"u\"]}"
	check_status 400 "delegating a scope the delegator lacks is 400"
	check_json '.code' '"scopes_not_held"' "code scopes_not_held"
	KEY=$KEY_B api POST /v1/agents '{"agent_type":"bot","display_name":"foreign"}' -H "X-Tenant-ID: $TENANT_B"
	foreign=$(jq -r .agent_id <<<"$BODY")
	agents POST "/v1/agents/$a/delegations" "{\"delegate_agent_id\":\"$foreign\",\"scopes\":[\"s\"]}"
	check_status 404 "delegating to another tenant's agent is 404"
	agents POST "/v1/agents/$a/delegations" "{\"delegate_agent_id\":\"$UUID\",\"scopes\":[\"s\"]}"
	check_status 201 "delegate by id"
	check_json '[.delegator_agent_id, .delegate_agent_id, .status]' "[\"$a\",\"$b\",\"active\"]" "the delegation"
	dlg=$(jq -r .id <<<"$BODY")
	agents GET "/v1/agents/$a/delegations"
	check_json '.count' '1' "listed"
	agents DELETE "/v1/agents/$a/delegations/$dlg"
	check_status 200 "delete the delegation"
	check_json '.status' '"revoked"' "revoked"
	agents DELETE "/v1/agents/$a/delegations/$dlg"
	check_status 409 "deleting it twice is 409"
	agents POST "/v1/agents/$a/kill" '{"reason":"x","cascade":true}'
	check_status 200 "kill with cascade"
	check_json '.cascaded' '[]' "a deleted delegation is not followed"
	agents GET "/v1/agents/$b"
	check_json '.status' '"active"' "its former delegate is still active"
	check "chain and log verify" ctl verify
}

cascade_graph() {
	local a b c d e f x y events before_a n i ev types targets
	register A; a=$ID
	register B; b=$ID
	register C; c=$ID
	register D; d=$ID
	register E; e=$ID
	register F; f=$ID
	register X; x=$ID
	register Y; y=$ID
	# A -> B -> D and A -> C -> D (a diamond), D -> A (a cycle), B -> X -> Y
	# with X revoked before the kill, F -> A (upstream: not reached), E alone
	delegate "$a" "$b"
	delegate "$a" "$c"
	delegate "$b" "$d"
	delegate "$c" "$d"
	delegate "$d" "$a"
	delegate "$b" "$x"
	delegate "$x" "$y"
	delegate "$f" "$a"
	agents POST "/v1/agents/$x/revoke" '{"reason":"retired earlier"}'
	check_status 200 "X revoked before the kill"
	session "$d"
	agents POST "/v1/agents/$y/receipts" '{"action":"write"}'
	before_a=$(agents GET "/v1/agents/$a"; jq -c . <<<"$BODY")
	events=$(audit_events)

	agents POST "/v1/agents/$a/kill" '{"reason":"blast radius?","cascade":true,"dry_run":true}'
	check_status 200 "cascade dry run"
	check_json '.dry_run' 'true' "marked as a dry run"
	check_json '.agents | sort' "$(jq -nc --arg a "$a" --arg b "$b" --arg c "$c" --arg d "$d" --arg y "$y" '[$a,$b,$c,$d,$y] | sort')" \
		"dry run: A, B, C, D and Y (through the revoked X), each once"
	check_json '[.sessions_terminated, .receipts_voided, .agent_status]' '[1,1,"active"]' "dry run: the sessions and receipts it would end"
	check_json 'has("receipt_id")' 'false' "dry run: no receipt"
	check "dry run: nothing audited" [ "$(audit_events)" = "$events" ]
	agents GET "/v1/agents/$a"
	check_json '.' "$before_a" "dry run: A unchanged"
	agents GET "/v1/agents/$d"
	check_json '[.status, .session_count]' '["active",1]' "dry run: D unchanged"

	agents POST "/v1/agents/$a/kill" '{"reason":"compromised orchestrator","cascade":true}'
	check_status 200 "cascade kill"
	check_json '.cascaded | sort' "$(jq -nc --arg b "$b" --arg c "$c" --arg d "$d" --arg y "$y" '[$b,$c,$d,$y] | sort')" \
		"cascaded: B, C, D, Y; the cycle back to A and the diamond counted once"
	check_json '[.sessions_terminated, .receipts_voided]' '[1,1]' "totals over the cascade"
	n=$(audit_events)
	check "one audit event per agent killed (5)" [ "$n" = $((events + 5)) ]
	types=
	targets=
	for ((i = events + 1; i <= n; i++)); do
		ev=$(event_at "$i")
		types+="$(jq -r .type <<<"$ev") "
		targets+="$(jq -r .target.id <<<"$ev")"$'\n'
		if [ "$(jq -r .target.id <<<"$ev")" != "$a" ]; then
			[ "$(jq -r .data.cascade_from <<<"$ev")" = "$a" ] ||
				fail "event $i does not name A as the cascade's origin"
		fi
	done
	check "each is killswitch.activated" [ "$types" = "$(printf 'killswitch.activated %.0s' 1 2 3 4 5)" ]
	check "the events name A, B, C, D and Y" [ "$(sort <<<"$targets" | grep -v '^$' | tr '\n' ' ')" = "$(printf '%s\n' "$a" "$b" "$c" "$d" "$y" | sort | tr '\n' ' ')" ]
	for ev in "$a" "$b" "$c" "$d" "$y"; do
		agents GET "/v1/agents/$ev"
		check_json '.status' '"revoked"' "$(jq -r .display_name <<<"$BODY") is revoked"
	done
	for ev in "$e" "$f"; do
		agents GET "/v1/agents/$ev"
		check_json '.status' '"active"' "$(jq -r .display_name <<<"$BODY") is not reached"
	done
	agents GET "/v1/agents/$x"
	check_json '.revoked_reason' '"retired earlier"' "X keeps its earlier revocation"
	agents GET "/v1/agents/$y/receipts"
	check_json '.data[0].status' '"voided"' "Y's pending receipt is voided"

	register G; a=$ID
	register H; b=$ID
	delegate "$a" "$b"
	agents POST "/v1/agents/$a/kill" '{"reason":"no cascade"}'
	check_json '.cascaded' '[]' "without cascade, nothing else"
	agents GET "/v1/agents/$b"
	check_json '.status' '"active"' "the delegate of a kill without cascade is active"
	check "chain and log verify" ctl verify
}

# The agent blocking_reasons() introspects, with a session of the shortest
# TTL (60 s) opened first, so that the wait for it to expire overlaps the
# other checks run on the same server: sets INTROSPECTED, its UUID, SHORT
# (the token) and SHORT_OPENED (when, in seconds).
open_expiring_session() {
	register introspected '["read","write"]'
	INTROSPECTED=$ID
	INTROSPECTED_UUID=$UUID
	SHORT_OPENED=$(date +%s)
	session "$INTROSPECTED" '{"ttl_seconds":60}'
	SHORT=$TOKEN
}

blocking_reasons() {
	local agent=$INTROSPECTED uuid=$INTROSPECTED_UUID short=$SHORT
	local started=$SHORT_OPENED t ended scoped esd
	session "$agent"
	check_status 201 "open a session"
	check_json '.token | startswith("ast_")' 'true' "the token is shown"
	check_json '[.status, .token_type, .expires_in]' '["active","Bearer",3600]' "default TTL 3600 s"
	t=$TOKEN
	agents GET "/v1/agents/$agent/sessions"
	check_json '[.data[] | has("token") or has("token_hash")] | any' 'false' "the token is never shown again"

	introspect "$t"
	check_status 200 "introspect"
	check_json '.active' 'true' "active"
	check_json '[.scope, .agent_id, .sub, .token_type]' "[\"read write\",\"$agent\",\"$agent\",\"Bearer\"]" "RFC 7662 members"
	check_json '(.exp - .iat)' '3600' "exp and iat"
	introspect "$t" read
	check_json '.active' 'true' "a held scope"
	introspect "$t" admin
	check_json '.' '{"active":false}' "inactive: scope not held"
	introspect "$t" "read admin"
	check_json '.active' 'false' "inactive: one of the scopes not held"
	session "$agent" '{"scopes":["read"]}'
	scoped=$TOKEN
	introspect "$scoped" write
	check_json '.active' 'false' "inactive: a session narrowed to read asks for write"
	introspect "ast_not-a-token"
	check_json '.' '{"active":false}' "inactive: unknown token"
	KEY=$KEY_B api POST /v1/sessions/introspect "{\"token\":\"$t\"}" -H "X-Tenant-ID: $TENANT_B"
	check_json '.' '{"active":false}' "inactive: another tenant's token"

	session "$agent"
	ended=$TOKEN
	agents DELETE "/v1/agents/$agent/sessions/$SESSION"
	check_status 200 "end a session"
	check_json '.status' '"terminated"' "terminated"
	introspect "$ended"
	check_json '.' '{"active":false}' "inactive: ended"
	agents DELETE "/v1/agents/$agent/sessions/$SESSION"
	check_status 409 "ending it twice is 409"
	agents DELETE "/v1/agents/$agent/sessions/ses_000000000000000000000000"
	check_status 404 "an unknown session is 404"

	agents POST "/v1/agents/$agent/suspend" '{"reason":"look"}'
	introspect "$t"
	check_json '.active' 'false' "inactive: agent suspended"
	agents PATCH "/v1/agents/$agent" '{"status":"active"}'
	introspect "$t"
	check_json '.active' 'true' "active again after reactivation"

	api POST /api/v1/kill-switch/kill "{\"target_type\":\"agent\",\"target_id\":\"$agent\",\"reason\":\"switch\"}"
	check_status 201 "a kill switch on the agent_id"
	introspect "$t"
	check_json '.active' 'false' "inactive: kill switch on the agent"
	api POST /api/v1/kill-switch/revive "{\"target_type\":\"agent\",\"target_id\":\"$agent\"}"
	introspect "$t"
	check_json '.active' 'true' "active after the revive"
	api POST /api/v1/kill-switch/kill "{\"target_type\":\"agent\",\"target_id\":\"$uuid\"}"
	introspect "$t"
	check_json '.active' 'false' "inactive: kill switch on the agent's id"
	api POST /api/v1/kill-switch/revive "{\"target_type\":\"agent\",\"target_id\":\"$uuid\"}"

	api POST /v1/emergency-shutdown '{"severity":3,"reason":"watch"}'
	check_status 201 "a severity-3 shutdown"
	esd=$(jq -r .shutdown_id <<<"$BODY")
	introspect "$t"
	check_json '.active' 'true' "severity 3 does not block"
	api POST "/v1/emergency-shutdown/$esd/resolve" '{}'
	api POST /v1/emergency-shutdown '{"severity":4,"reason":"halt"}'
	check_status 201 "a severity-4 shutdown"
	esd=$(jq -r .shutdown_id <<<"$BODY")
	introspect "$t"
	check_status 200 "introspection still answers during the shutdown"
	check_json '.active' 'false' "inactive: emergency shutdown severity 4"
	agents GET "/v1/agents/$agent"
	check_status 503 "other agent calls are halted"
	agents POST "/v1/agents/$agent/suspend" '{"reason":"stop during a halt"}'
	check_status 200 "a suspend is never halted"
	agents PATCH "/v1/agents/$agent" '{"status":"active"}'
	check_status 503 "a reactivation is halted"
	api POST "/v1/emergency-shutdown/$esd/resolve" '{}'
	check_status 200 "resolve"
	agents PATCH "/v1/agents/$agent" '{"status":"active"}'
	introspect "$t"
	check_json '.active' 'true' "active after the resolution"

	# the 60-second session has expired by now
	sleep $((started + 62 - $(date +%s) > 0 ? started + 62 - $(date +%s) : 0))
	introspect "$short"
	check_json '.' '{"active":false}' "inactive: expired"
	agents GET "/v1/agents/$agent/sessions"
	check_json '[.data[].status] | index("expired") != null' 'true' "the expired session is listed as expired"
	agents GET "/v1/agents/$agent"
	check_json '.session_count' '2' "session_count counts active, unexpired sessions"

	agents POST "/v1/agents/$agent/kill" '{"reason":"end"}'
	check_json '.sessions_terminated' '2' "the kill ends the two live sessions"
	introspect "$t"
	check_json '.' '{"active":false}' "inactive: agent revoked"
	check "chain and log verify" ctl verify
}

# Sessions opened from several clients while the agent is killed: every one
# either was opened before the kill (and is terminated by it) or is refused.
race() {
	local agent w line opened=0 refused=0 active=0 token
	register raced
	agent=$ID
	for w in 1 2 3 4 5 6 7 8; do
		(
			for i in $(seq 12); do
				curl -s -o "$DATA/race.$w.$i" -w "%{http_code}\n" -X POST \
					-H "X-API-Key: $ADMIN_KEY" -H "X-Tenant-ID: $TENANT" \
					-H 'Content-Type: application/json' -d '{}' \
					"$BASE/v1/agents/$agent/sessions" >>"$DATA/race.$w.codes"
			done
		) &
	done
	sleep 0.3
	agents POST "/v1/agents/$agent/kill" '{"reason":"race"}'
	check_status 200 "kill during the session storm"
	wait
	opened=$(cat "$DATA"/race.*.codes | grep -c '^201$')
	refused=$(cat "$DATA"/race.*.codes | grep -c '^409$')
	check "every open answered 201 or 409 ($opened + $refused of 96)" [ $((opened + refused)) = 96 ]
	check "some opened before the kill ($opened)" [ "$opened" -gt 0 ]
	check "some were refused after it ($refused)" [ "$refused" -gt 0 ]
	agents GET "/v1/agents/$agent/sessions?limit=1000"
	check_json '.count' "$opened" "every opened session is stored"
	check_json '[.data[] | select(.status == "active")] | length' '0' "no session of the killed agent is active"
	agents GET "/v1/agents/$agent"
	check_json '.session_count' '0' "session_count is 0"
	for f in "$DATA"/race.*.*; do
		case $f in *.codes) continue ;; esac
		token=$(jq -r '.token // empty' "$f" 2>/dev/null)
		[ -n "$token" ] || continue
		introspect "$token"
		[ "$(jq -r .active <<<"$BODY")" = false ] || active=$((active + 1))
	done
	check "introspection refuses every token ($active active)" [ "$active" = 0 ]
	check "chain and log verify" ctl verify
}

# A dry run changes nothing, so it spends no rate-limit token and leaves no
# Idempotency-Key answer behind.
dry_runs_spend_nothing() {
	local a b i codes=""
	register dry-a
	a=$ID
	register dry-b
	b=$ID
	for i in 1 2 3; do
		agents POST "/v1/agents/$a/kill" '{"reason":"what if","dry_run":true}' -H 'Idempotency-Key: dry-1'
		codes="$codes $STATUS"
	done
	check "three dry runs with a limit of one call a minute ($codes)" [ "$codes" = " 200 200 200" ]
	agents POST "/v1/agents/$a/kill" '{"reason":"for real"}' -H 'Idempotency-Key: dry-1'
	check_status 200 "the real kill is neither limited nor a replay of the dry run"
	check_json '.agent_status' '"revoked"' "the real kill revoked the agent"
	agents POST "/v1/agents/$b/kill" '{"reason":"second"}'
	check_status 429 "the real kill spent the only token"
}

CONF_OVERRIDES="rate_limit_per_minute=1 rate_limit_burst=1" for_each_server dry_runs_spend_nothing

# one server for these (each works on agents of its own): the expiring
# session's minute passes while the others run
on_one_server() {
	open_expiring_session
	seed_kill
	receipts_and_delegations
	cascade_graph
	race
	blocking_reasons
}

export CONF_OVERRIDES="rate_limit_per_minute=100000 rate_limit_burst=100000"
for_each_server on_one_server
finish
