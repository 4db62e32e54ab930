#!/usr/bin/env bash
# t0600: emergency shutdown (API.md sections 4 and 7, seed 003) and the gate
# in front of every family.
. "$(dirname "$0")/setup.sh"

ESD=/v1/emergency-shutdown
CHECK='/api/v1/kill-switch/check?target_type=agent&target_id=x'

# The agents family is part of the gate matrix once it is built.
HAVE_AGENTS=
[ -x "$CGI_DIR/agents.fcgi" ] && HAVE_AGENTS=1

agents() {
	api "$1" "$2" "${3:-}" -H "X-Tenant-ID: $TENANT" "${@:4}"
}

# register_agents SEV: three agents to stop while severity SEV is active
register_agents() {
	local what
	for what in suspend kill revoke; do
		agents POST /v1/agents "{\"agent_type\":\"worker\",\"display_name\":\"$what at $1\"}"
		[ "$STATUS" = 201 ] || fail "register an agent to $what (got $STATUS)"
		printf -v "AGENT_$what" '%s' "$(jq -r .agent_id <<<"$BODY")"
	done
}

activate() {
	api POST $ESD "$1" "${@:2}"
	SHUTDOWN=$(jq -r '.shutdown_id // empty' <<<"$BODY")
	RECEIPT=$(jq -r '.receipt_id // empty' <<<"$BODY")
}

seed_examples() {
	# seed 003, as written but for the host and the key
	local out
	out=$(curl -s -X POST "$BASE/v1/emergency-shutdown" \
		-H "x-tork-api-key: $ADMIN_KEY" \
		-H "Content-Type: application/json" \
		-d '{
"severity": 5,
"reason": "Critical data breach detected — unredacted SSNs in agent output",
"scope": "org"
}')
	BODY=$out
	check_json '.status' '"activated"' "seed 003 POST: activated"
	check_json '.shutdown_id | startswith("esd_")' 'true' "shutdown_id esd_..."
	check_json '.severity' '5' "severity"
	check_json '.severity_label' '"Critical"' "severity_label Critical"
	check_json '.scope' '"org"' "scope org"
	check_json '.activated_at | test("Z$")' 'true' "activated_at"
	check_json '.activated_by | startswith("andon_")' 'true' "activated_by is the key prefix"
	check_json '.message' '"CRITICAL: All governance calls will return 503 until resolved"' "message"
	check_json ".affected_scope" "{\"org_id\":\"$TENANT\",\"scope\":\"org\"}" "affected_scope"
	check_json '.receipt_id | startswith("rcpt_")' 'true' "audited with a receipt"
	local id
	id=$(jq -r .shutdown_id <<<"$BODY")

	BODY=$(curl -s "$BASE/v1/emergency-shutdown" -H "x-tork-api-key: $ADMIN_KEY")
	check_json '.active_shutdowns | length' '1' "seed 003 GET: one active"
	check_json '.active_shutdowns[0].id' "\"$id\"" "listed by id"
	check_json '.active_shutdowns[0] | has("severity") and has("severity_label") and has("reason") and has("scope") and has("status") and has("activated_at") and has("activated_by")' \
		'true' "seed 003 GET fields"

	api GET "$ESD/$id"
	check_status 200 "get one"
	check_json '.reason | test("SSNs")' 'true' "get one: reason"
	api POST "$ESD/$id/resolve" '{"reason":"rotated the keys"}'
	check_status 200 "resolve"
	check_json '.status' '"resolved"' "status resolved"
	check_json '.resolved_at | type' '"string"' "resolved_at"
	check_json '.resolved_by | startswith("andon_")' 'true' "resolved_by"
	api POST "$ESD/$id/resolve" '{}'
	check_status 409 "resolve twice"
	check_json '.code' '"already_resolved"' "already_resolved"
	api GET $ESD
	check_json '.active_shutdowns | length' '0' "nothing active after resolve"
	api GET "$CHECK"
	check_status 200 "governance calls work again"
	check "audit chain verifies with shutdown events" ctl verify
}

error_rows() {
	local body
	for body in '{"severity":0,"reason":"r"}' '{"severity":6,"reason":"r"}' \
		'{"severity":2.5,"reason":"r"}' '{"severity":"5","reason":"r"}' \
		'{"severity":null,"reason":"r"}' '{"reason":"r"}' '{"severity":-1,"reason":"r"}'; do
		api POST $ESD "$body"
		check_status 400 "bad severity: $body"
		check_json '.field' '"severity"' "names severity: $body"
	done
	for body in '{"severity":3,"reason":""}' '{"severity":3,"reason":"   "}' \
		'{"severity":3}' '{"severity":3,"reason":null}' '{"severity":3,"reason":7}'; do
		api POST $ESD "$body"
		check_status 400 "empty reason: $body"
		check_json '.field' '"reason"' "names reason: $body"
	done
	api POST $ESD '{"severity":3,"reason":"r","scope":"planet"}'
	check_status 400 "bad scope"
	check_json '.field' '"scope"' "names scope"
	api POST $ESD '{"severity":3,"reason":"r","scope":"org","key_id":"key_0000000000000000"}'
	check_status 400 "key_id without scope key"
	api POST $ESD '{"severity":3,"reason":"r","scope":"key","key_id":"key_0000000000000000"}'
	check_status 400 "key_id of no key"
	local b_key_id
	b_key_id=$(printf '%s' "$KEY_B" | sed 's/^andon_\([0-9a-f]*\)_.*/key_\1/')
	api POST $ESD "{\"severity\":3,\"reason\":\"r\",\"scope\":\"key\",\"key_id\":\"$b_key_id\"}"
	check_status 400 "key_id of another tenant's key"
	api POST $ESD '{"severity":3,"reason":"r","sevirity":4}'
	check_status 400 "unknown field"
	KEY='' api POST $ESD '{"severity":3,"reason":"r"}'
	check_status 401 "401 without a key"
	KEY='' api POST $ESD '{"severity":3,"reason":"r"}' -H 'x-tork-api-key: tork_sk_your_api_key'
	check_status 401 "401 with the seed's placeholder key"
	api GET $ESD
	check_json '.active_shutdowns | length' '0' "no refused activation is stored"
	api GET "$ESD/esd_000000000000000000000000"
	check_status 404 "unknown shutdown"
	api POST "$ESD/esd_000000000000000000000000/resolve" '{}'
	check_status 404 "resolve an unknown shutdown"
}

rate_limited() {
	activate '{"severity":1,"reason":"drill 1"}'
	check_status 201 "first activation"
	activate '{"severity":1,"reason":"drill 2"}'
	check_status 201 "second activation"
	activate '{"severity":1,"reason":"drill 3"}'
	check_status 429 "third activation is rate limited"
	check_header 'retry-after' '^[0-9]+$' "Retry-After"
	check_json '.code' '"rate_limited"' "rate_limited"
}

# expect_gated SEVERITY: a representative call of every family
expect_by_severity() {
	local sev=$1
	api GET "$CHECK"
	case $sev in
	4 | 5)
		check_status 503 "severity $sev: check answers 503 (fail closed)"
		check_header 'content-type' '^application/problem\+json' "severity $sev: problem+json"
		check_json '.code' '"emergency_shutdown"' "severity $sev: code emergency_shutdown"
		check_json '.shutdown_id' "\"$SHUTDOWN\"" "severity $sev: names the shutdown"
		check_json '.detail | test("drill")' 'true' "severity $sev: gives the reason"
		check_header 'retry-after' '^[0-9]+$' "severity $sev: Retry-After"
		api GET /api/v1/kill-switch/active
		check_status 503 "severity $sev: active list halted"
		api GET /v1/api-keys
		check_status 503 "severity $sev: key list halted"
		api POST /api/v1/kill-switch/revive '{"target_type":"agent","target_id":"x"}'
		check_status 503 "severity $sev: revive halted (it grants)"
		if [ -n "$HAVE_AGENTS" ]; then
			agents GET /v1/agents
			check_status 503 "severity $sev: agent list halted"
			check_json '.code' '"emergency_shutdown"' "severity $sev: agents answer emergency_shutdown"
			check_json '.shutdown_id' "\"$SHUTDOWN\"" "severity $sev: agents name the shutdown"
			check_header 'retry-after' '^[0-9]+$' "severity $sev: agents Retry-After"
			agents POST /v1/agents '{"agent_type":"worker","display_name":"new"}'
			check_status 503 "severity $sev: registering an agent is halted"
		fi
		;;
	3)
		check_status 200 "severity 3: check proceeds"
		check_header 'x-emergency-warning' "^$SHUTDOWN; severity=3\$" "severity 3: X-Emergency-Warning"
		check_json '.emergency_warning.shutdown_id' "\"$SHUTDOWN\"" "severity 3: emergency_warning.shutdown_id"
		check_json '.emergency_warning.severity' '3' "severity 3: emergency_warning.severity"
		check_json '.emergency_warning.reason | test("drill")' 'true' "severity 3: emergency_warning.reason"
		check_json '.is_killed' 'false' "severity 3: the answer itself is intact"
		api GET /v1/api-keys
		check_status 200 "severity 3: key list proceeds"
		check_header 'x-emergency-warning' "^$SHUTDOWN; severity=3\$" "severity 3: warning on admin too"
		check_json '.emergency_warning.shutdown_id' "\"$SHUTDOWN\"" "severity 3: warning member on admin too"
		api GET /api/v1/kill-switch/active
		check_status 200 "severity 3: active list proceeds"
		check_header 'x-emergency-warning' "^$SHUTDOWN; severity=3\$" "severity 3: warning on the active list"
		check_json '.emergency_warning.severity' '3' "severity 3: warning member on the active list"
		if [ -n "$HAVE_AGENTS" ]; then
			agents GET /v1/agents
			check_status 200 "severity 3: agent list proceeds"
			check_header 'x-emergency-warning' "^$SHUTDOWN; severity=3\$" "severity 3: warning on agents"
			check_json '.emergency_warning.shutdown_id' "\"$SHUTDOWN\"" "severity 3: warning member on agents"
			check_json '.data | type' '"array"' "severity 3: the agent list itself is intact"
		fi
		;;
	1 | 2)
		check_status 200 "severity $sev: check proceeds"
		check "severity $sev: no warning header" bash -c '! grep -qi "^x-emergency-warning" <<<"$1"' _ "$HEADERS"
		check_json 'has("emergency_warning")' 'false' "severity $sev: no warning member"
		api GET /v1/api-keys
		check_status 200 "severity $sev: key list proceeds"
		check "severity $sev: no warning on admin" bash -c '! grep -qi "^x-emergency-warning" <<<"$1"' _ "$HEADERS"
		api GET /api/v1/kill-switch/active
		check_status 200 "severity $sev: active list proceeds"
		check_json 'has("emergency_warning")' 'false' "severity $sev: no warning on the active list"
		if [ -n "$HAVE_AGENTS" ]; then
			agents GET /v1/agents
			check_status 200 "severity $sev: agent list proceeds"
			check "severity $sev: no warning on agents" bash -c '! grep -qi "^x-emergency-warning" <<<"$1"' _ "$HEADERS"
			check_json 'has("emergency_warning")' 'false' "severity $sev: no warning member on agents"
		fi
		;;
	esac
	# always reachable, whatever the severity
	KEY='' api GET /healthz
	check_status 200 "severity $sev: healthz reachable"
	api GET $ESD
	check_status 200 "severity $sev: shutdown list reachable"
	api GET $ESD/$SHUTDOWN
	check_status 200 "severity $sev: reading the shutdown reachable"
	api GET /v1/transparency/sth
	check_status 200 "severity $sev: transparency (audit) reads reachable"
	api GET "/v1/transparency/receipts/$RECEIPT"
	check_status 200 "severity $sev: the activation's receipt is readable"
	# /v1/audit/events belongs to the audit family; whatever it answers
	# (404 until it is built), a halt must not be what answers it
	api GET /v1/audit/events
	check "severity $sev: audit event reads are not halted (got $STATUS)" [ "$STATUS" != 503 ]
	api POST /api/v1/kill-switch/kill "{\"target_type\":\"run\",\"target_id\":\"stop-$sev\"}"
	check_status 201 "severity $sev: a kill is never halted"
	api POST /v1/api-keys '{"name":"victim","scopes":["killswitch:check"]}'
	local victim
	victim=$(jq -r '.id // empty' <<<"$BODY")
	if [ "$sev" -ge 4 ]; then
		check_status 503 "severity $sev: creating a key is halted"
		victim=$(ctl key-create "$TENANT" victim killswitch:check 2>&1 >/dev/null | sed -n 's/^key id \(key_[0-9a-f]*\).*/\1/p')
	fi
	api DELETE "/v1/api-keys/$victim"
	check_status 200 "severity $sev: key revocation is never halted"
	if [ -n "$HAVE_AGENTS" ]; then
		agents POST "/v1/agents/$AGENT_suspend/suspend" '{"reason":"drill"}'
		check_status 200 "severity $sev: an agent suspend is never halted"
		check_json '.status' '"suspended"' "severity $sev: the agent is suspended"
		agents POST "/v1/agents/$AGENT_kill/kill" '{"reason":"drill"}'
		check_status 200 "severity $sev: an agent kill is never halted"
		check_json '.agent_status' '"revoked"' "severity $sev: the agent is killed"
		agents POST "/v1/agents/$AGENT_revoke/revoke" '{"reason":"drill"}'
		check_status 200 "severity $sev: an agent revoke is never halted"
	fi
}

each_severity() {
	local sev
	for sev in 1 2 3 4 5; do
		[ -n "$HAVE_AGENTS" ] && register_agents "$sev"
		activate "{\"severity\":$sev,\"reason\":\"drill at $sev\"}"
		check_status 201 "activate severity $sev"
		check_json '.severity_label' "$(jq -n --arg s $sev '["","Minor","Moderate","Major","Severe","Critical"][$s|tonumber]')" "label of $sev"
		expect_by_severity "$sev"
		api POST "$ESD/$SHUTDOWN/resolve" '{}'
		check_status 200 "resolve severity $sev"
		api GET "$CHECK"
		check_status 200 "after resolving $sev the check answers"
		check "after resolving $sev no warning" bash -c '! grep -qi "^x-emergency-warning" <<<"$1"' _ "$HEADERS"
	done
}

key_scope() {
	api POST /v1/api-keys '{"name":"second","scopes":["killswitch:check"]}'
	local second second_id
	second=$(jq -r .key <<<"$BODY")
	second_id=$(jq -r .id <<<"$BODY")
	activate "{\"severity\":5,\"reason\":\"drill: leaked key\",\"scope\":\"key\",\"key_id\":\"$second_id\"}"
	check_status 201 "scope key naming another key"
	check_json '.affected_scope.key_id' "\"$second_id\"" "affected_scope.key_id"
	KEY=$second api GET "$CHECK"
	check_status 503 "the named key is halted"
	api GET "$CHECK"
	check_status 200 "another key of the tenant works"
	KEY=$KEY_B api GET "$CHECK"
	check_status 200 "another tenant works"
	api POST "$ESD/$SHUTDOWN/resolve" '{}'
	KEY=$second api GET "$CHECK"
	check_status 200 "the key works after resolve"

	activate '{"severity":4,"reason":"drill: my own key","scope":"key"}'
	check_json '.affected_scope.key_id | startswith("key_")' 'true' "scope key defaults to the caller's key"
	api GET "$CHECK"
	check_status 503 "the caller's own key is halted"
	KEY=$second api GET "$CHECK"
	check_status 200 "the other key is not"
	api POST "$ESD/$SHUTDOWN/resolve" '{}'
	check_status 200 "a halted key can still resolve"
}

all_scope() {
	KEY=$KEY_B api POST $ESD '{"severity":5,"reason":"drill","scope":"all"}'
	check_status 403 "scope all needs platform:admin"
	api GET "$CHECK"
	check_status 200 "the refused activation halted nothing"
	activate '{"severity":5,"reason":"drill: platform incident","scope":"all"}'
	check_status 201 "platform admin activates scope all"
	KEY=$KEY_B api GET "$CHECK"
	check_status 503 "scope all halts another tenant"
	KEY=$KEY_B api GET $ESD
	check_json '.active_shutdowns | length' '1' "the other tenant sees the shutdown that halts it"
	KEY=$KEY_B api GET "$ESD/$SHUTDOWN"
	check_status 200 "the other tenant can read it"
	KEY=$KEY_B api POST "$ESD/$SHUTDOWN/resolve" '{}'
	check_status 404 "the other tenant cannot resolve it"
	api POST "$ESD/$SHUTDOWN/resolve" '{}'
	check_status 200 "the platform admin resolves it"
	KEY=$KEY_B api GET "$CHECK"
	check_status 200 "the other tenant works again"

	KEY=$KEY_B api POST $ESD '{"severity":5,"reason":"drill: tenant B only"}'
	local b_id
	b_id=$(jq -r .shutdown_id <<<"$BODY")
	api GET "$CHECK"
	check_status 200 "tenant B's org shutdown does not halt tenant A"
	api GET "$ESD/$b_id"
	check_status 404 "tenant A cannot see tenant B's org shutdown"
	api POST "$ESD/$b_id/resolve" '{}'
	check_status 404 "tenant A cannot resolve it"
	KEY=$KEY_B api POST "$ESD/$b_id/resolve" '{}'
	check_status 200 "tenant B resolves its own"
}

overlap() {
	activate '{"severity":3,"reason":"drill: minor leak"}'
	local three=$SHUTDOWN
	activate '{"severity":5,"reason":"drill: breach"}'
	local five=$SHUTDOWN
	api GET "$CHECK"
	check_status 503 "5 and 3 active: the highest wins"
	check_json '.shutdown_id' "\"$five\"" "names the 5"
	api GET $ESD
	check_json '.active_shutdowns | length' '2' "both listed"
	api POST "$ESD/$five/resolve" '{}'
	api GET "$CHECK"
	check_status 200 "resolving the 5 lifts the halt"
	check_header 'x-emergency-warning' "^$three; severity=3\$" "the 3 still warns"
	check_json '.emergency_warning.shutdown_id' "\"$three\"" "warning names the 3"
	api POST "$ESD/$three/resolve" '{}'
	api GET "$CHECK"
	check "no warning once both are resolved" bash -c '! grep -qi "^x-emergency-warning" <<<"$1"' _ "$HEADERS"
}

# 4 bursts of 8 parallel checks (so every process answers some); prints
# the 32 status codes, sorted
parallel_checks() {
	local i j
	for i in 1 2 3 4; do
		for j in 1 2 3 4 5 6 7 8; do
			curl -s -o /dev/null -w '%{http_code}\n' -H "X-API-Key: $ADMIN_KEY" "$BASE$CHECK" &
		done
		wait
	done | sort | tr '\n' ' '
}

every_process_at_once() {
	local i j codes
	# parallel bursts until the server runs two processes (lighttpd starts
	# them at once; mod_fcgid spawns its second one only while a request
	# finds the first busy: one curl running 24 transfers at once makes
	# that happen, separate curl processes rarely overlap on a fast check)
	local burst=()
	for j in $(seq 48); do
		burst+=(-o /dev/null "$BASE$CHECK")
	done
	for i in $(seq 30); do
		[ "$(app_pids killswitch.fcgi | wc -l)" -ge 2 ] && break
		curl -s --parallel --parallel-immediate --parallel-max 24 \
			-H "X-API-Key: $ADMIN_KEY" "${burst[@]}" || true
		sleep 0.2
	done
	check "two or more killswitch processes serve checks ($(app_pids killswitch.fcgi | wc -l))" \
		[ "$(app_pids killswitch.fcgi | wc -l)" -ge 2 ]
	activate '{"severity":4,"reason":"drill: all processes"}'
	codes=$(parallel_checks)
	check "every check after the activation is halted, in every process ($codes)" \
		[ "$codes" = "$(printf '503 %.0s' $(seq 32))" ]
	api POST "$ESD/$SHUTDOWN/resolve" '{}'
	codes=$(parallel_checks)
	check "every check after the resolution passes ($codes)" \
		[ "$codes" = "$(printf '200 %.0s' $(seq 32))" ]
	check "audit chain and transparency log verify" ctl verify
}

# as_data_owner CMD...: runs CMD as the owner of the database (files it
# creates must stay writable by the server's processes)
as_data_owner() {
	if is_root; then
		runuser -u "$(stat -c %U "$DATA/db")" -- "$@"
	else
		"$@"
	fi
}

# The gate fails closed: an active-shutdown record it cannot read (written
# here behind the application's back with db5.3_load, into the live
# environment) halts the tenant it covers with 503 gate_unavailable, while
# the exempt routes keep answering and other tenants are not covered.
gate_unreadable() {
	api GET "$CHECK"
	check_status 200 "before: the check answers"
	printf '%s\\1fesd_unreadable\nnot json\n' "$TENANT" >"$DATA/corrupt.txt"
	check "an unreadable record is written into the live environment" \
		as_data_owner db5.3_load -T -t btree -h "$DATA/db" -f "$DATA/corrupt.txt" esd_active.db
	# db_load bypasses lib/store.c, so it does not move the shared change
	# counter the gate's per-process copy is keyed by (lib/generation.h);
	# any shutdown write through the API does, and the table is re-read
	KEY=$KEY_B activate '{"severity":1,"reason":"moves the gate counter"}'
	check_status 201 "another tenant's severity-1 shutdown"
	api GET "$CHECK"
	check_status 503 "an unreadable gate halts the check (fail closed)"
	check_json '.code' '"gate_unavailable"' "code gate_unavailable"
	check_header 'retry-after' '^[0-9]+$' "Retry-After"
	api GET /v1/api-keys
	check_status 503 "an unreadable gate halts the admin family too"
	if [ -n "$HAVE_AGENTS" ]; then
		agents GET /v1/agents
		check_status 503 "an unreadable gate halts the agents family too"
	fi
	api POST /api/v1/kill-switch/kill '{"target_type":"run","target_id":"stop-anyway"}'
	check_status 201 "a kill still goes through"
	api GET $ESD
	check_status 200 "the shutdown list still answers"
	KEY='' api GET /healthz
	check_status 200 "healthz still answers"
	KEY=$KEY_B api GET "$CHECK"
	check_status 200 "a tenant the record does not cover is not halted"
}

for_each_server seed_examples
for_each_server error_rows
CONF_OVERRIDES="rate_limit_per_minute=2 rate_limit_burst=2" for_each_server rate_limited
CONF_OVERRIDES="rate_limit_per_minute=1000 rate_limit_burst=1000" for_each_server each_severity
CONF_OVERRIDES="rate_limit_per_minute=1000 rate_limit_burst=1000" for_each_server key_scope
CONF_OVERRIDES="rate_limit_per_minute=1000 rate_limit_burst=1000" for_each_server all_scope
CONF_OVERRIDES="rate_limit_per_minute=1000 rate_limit_burst=1000" for_each_server overlap
CONF_OVERRIDES="rate_limit_per_minute=1000 rate_limit_burst=1000" for_each_server every_process_at_once
for_each_server gate_unreadable
finish
