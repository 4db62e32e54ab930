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

# Defect 3: andonctl refuses a key that would be born expired, as the API
# does; a future expiry is fine.
cli_expiry() {
	local before after
	before=$(ctl key-list "$TENANT" | grep -c .)
	if ctl key-create "$TENANT" born-dead killswitch:check --expires 2020-01-01T00:00:00Z \
		>/dev/null 2>"$DATA/expires.err"; then
		fail "andonctl key-create --expires in the past is refused"
	else
		ok "andonctl key-create --expires in the past is refused"
	fi
	grep -q 'in the future' "$DATA/expires.err" && ok "and says why" || fail "and says why"
	after=$(ctl key-list "$TENANT" | grep -c .)
	[ "$before" = "$after" ] && ok "no key was stored" || fail "no key was stored ($before, $after)"
	ctl key-create "$TENANT" later killswitch:check --expires 2999-01-01T00:00:00Z \
		>/dev/null 2>&1 && ok "a future expiry is accepted" || fail "a future expiry is accepted"
	# found writing the fuzz corpus: the refusal printed freed memory
	ctl key-create "$TENANT" typo killswitch:read >/dev/null 2>"$DATA/scope.err" &&
		fail "an unknown scope is refused" || ok "an unknown scope is refused"
	check "and named as written" grep -qx 'andonctl: unknown scope killswitch:read' "$DATA/scope.err"
}

# Defect 5: an intervention's first_seen is never after its timestamp.
first_seen_order() {
	local post='/api/v1/interventions'
	api POST "$post" '{"interventions":[{"type":"hard_block","outcome":"blocked","agent_id":"ts-only","timestamp":"2026-01-02T03:04:05Z"}]}'
	check_status 201 "an intervention with only timestamp"
	check_json '.interventions[0].first_seen' '"2026-01-02T03:04:05.000Z"' "first_seen is its timestamp"
	api POST "$post" '{"interventions":[{"type":"hard_block","outcome":"blocked","agent_id":"fs-only","first_seen":"2026-01-02T03:04:05Z"}]}'
	check_status 201 "an intervention with only first_seen"
	check_json '.interventions[0].timestamp' '"2026-01-02T03:04:05.000Z"' "timestamp is its first_seen"
	api POST "$post" '{"interventions":[{"type":"hard_block","outcome":"blocked","agent_id":"backwards","first_seen":"2026-01-03T00:00:00Z","timestamp":"2026-01-02T00:00:00Z"}]}'
	check_status 400 "first_seen after timestamp is refused"
	check_json '.detail | test("first_seen")' 'true' "the 400 names first_seen"
	api GET '/api/v1/interventions?agent_id=backwards'
	check_json '.count' '0' "nothing stored"
	api POST "$post" '{"interventions":[{"type":"hard_block","outcome":"blocked","agent_id":"neither"}]}'
	check_status 201 "an intervention with neither"
	check_json '.interventions[0].first_seen == .interventions[0].timestamp' 'true' "both now, equal"
}

# Defect 6: one rule for every list's filters: a value outside the
# field's known set is a 400 problem naming the parameter, never a
# silently empty 200; ids and free text match exactly.
filter_rule() {
	local before
	api GET '/api/v1/interventions?limit=1000'
	before=$(jq .count <<<"$BODY")
	for q in 'type=soft' 'outcome=nope' 'type=hard_block&outcome=maybe'; do
		api GET "/api/v1/interventions?$q"
		check_status 400 "interventions?$q is refused"
		check_json '[.code, (.detail | test("one of"))]' '["invalid_query",true]' \
			"interventions?$q: the problem names the allowed words"
	done
	api GET '/api/v1/interventions?type=HARD_BLOCK&outcome=Blocked'
	check_status 200 "a known word in any case is accepted"
	agents GET '/v1/agents?status=bogus'
	check_status 400 "agents?status=bogus is refused"
	agents GET '/v1/agents?agent_type=bogus'
	check_status 400 "agents?agent_type=bogus is refused"
	for q in 'type=bogus' 'type=killswitch.exploded' 'type=nothing.*'; do
		api GET "/v1/audit/events?$q"
		check_status 400 "audit/events?$q is refused"
	done
	for q in 'type=killswitch.*' 'type=receipt.voided' 'type=shutdown.activated'; do
		api GET "/v1/audit/events?$q"
		check_status 200 "audit/events?$q is accepted"
	done
	api GET '/api/v1/interventions?agent_id=nobody-has-this-id'
	check_json '[.count]' '[0]' "an id matches exactly: none is an empty list"
	# writes take the same words
	api POST /api/v1/interventions '{"interventions":[{"type":"soft","outcome":"blocked"}]}'
	check_status 400 "an intervention with an unknown type is refused"
	check_json '.detail | test("interventions\\[0\\].type must be one of")' true \
		"the problem names the item, its field and the words"
	api POST /api/v1/interventions '{"interventions":[{"type":"SOFT_BLOCK","outcome":"Escalated","agent_id":"filter-rule"}]}'
	check_status 201 "known words in any case are written"
	api GET '/api/v1/interventions?agent_id=filter-rule'
	check_json '[.interventions[0].type, .interventions[0].outcome]' '["soft_block","escalated"]' \
		"kept in lowercase"
	api GET '/api/v1/interventions?limit=1000'
	check_json '.count' "$((before + 1))" "nothing else was stored"
}

# Defect 1: every error a client can receive on the API's paths is
# application/problem+json with a detail, the web server's own included.
# lighttpd 1.4 refuses a bodiless POST with 411 before anything of ours
# runs: it is a problem whose detail says what to send instead.
problem_is() {	# problem_is STATUS WHAT: the last answer, as a problem
	local type
	type=$(sed -n 's/^[Cc]ontent-[Tt]ype: *//p' <<<"$HEADERS" | tr -d '\r' | tail -1)
	if [ "$STATUS" = "$1" ] && [ "$type" = application/problem+json ] &&
		jq -e --argjson s "$1" '.status == $s and (.detail | length > 0) and (.code | length > 0)' \
			<<<"$BODY" >/dev/null 2>&1; then
		ok "$2: $1 problem+json with a detail"
	else
		fail "$2: $1 problem+json with a detail (got $STATUS, $type: ${BODY:0:120})"
	fi
}

server_errors() {
	local big
	api POST /v1/emergency-shutdown '{"severity":1,"reason":"bodiless resolve"}'
	local sid
	sid=$(jq -r .shutdown_id <<<"$BODY")
	api POST "/v1/emergency-shutdown/$sid/resolve"
	if [ "$SERVER" = lighttpd ]; then
		problem_is 411 "a bodiless POST under lighttpd"
		check_json '.detail | test("Content-Length: 0")' true "and it says what to send"
		api POST "/v1/emergency-shutdown/$sid/resolve" -H 'Content-Length: 0'
	fi
	check_status 200 "a resolve without a body (or with Content-Length: 0)"
	api GET /v1/no-such-family
	problem_is 404 "an unknown path under /v1/"
	api GET /api/nothing/here
	problem_is 404 "an unknown path under /api/"
	api POST /v1/no-such-family '{}'
	problem_is 404 "a POST to an unknown path"
	big=$(head -c 20000 /dev/zero | tr '\0' a)
	api GET "/v1/agents?x=$big"
	case $STATUS in
	414 | 431) problem_is "$STATUS" "a request line of 20 KB" ;;
	*) fail "a request line of 20 KB: 414 or 431 (got $STATUS)" ;;
	esac
	head -c 100000 /dev/zero | tr '\0' a >"$DATA/big.body"
	api POST /api/v1/kill-switch/kill --data-binary @"$DATA/big.body" -H 'Content-Type: application/json'
	problem_is 413 "a body of 100 KB (the executable's 413)"
	# over 1 MiB: the web server's own 413
	head -c 2000000 /dev/zero | tr '\0' a >"$DATA/big.body"
	api POST /api/v1/kill-switch/kill --data-binary @"$DATA/big.body" -H 'Content-Type: application/json'
	problem_is 413 "a body of 2 MB (the web server's 413)"
	if [ "$SERVER" = apache ]; then
		"$TOP/tools/fcgi-pool" stop "$DATA"
		api GET '/api/v1/kill-switch/check?target_type=agent&target_id=x'
		problem_is 503 "an executable that is down (Apache)"
		"$TOP/tools/fcgi-pool" start "$CGI_DIR" "$DATA" 2>>"$DATA/log/pool.err"
	fi
}

for_each_server server_errors
for_each_server filter_rule
for_each_server shortest_reals
for_each_server first_seen_order
for_each_server cli_expiry
for_each_server resolve_warning
finish
