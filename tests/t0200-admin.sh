#!/usr/bin/env bash
# t0200: the administration family: API keys (create once-shown, list
# without secrets, revoke), scope escalation, body validation, per-key rate
# limits (429 + Retry-After) and /healthz.
. "$(dirname "$0")/setup.sh"

keys() {
	api POST /v1/api-keys '{"name":"ci","scopes":["killswitch:check","killswitch:write"]}'
	check_status 201 "create a key"
	check_json '.key | test("^andon_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$")' 'true' "key format (256-bit secret)"
	check_json '.id | test("^key_[0-9a-f]{16}$")' 'true' "key id"
	check_json '.prefix | test("^andon_[0-9a-f]{16}$")' 'true' "public prefix"
	check_json '.name' '"ci"' "name"
	check_json '.scopes' '["killswitch:check","killswitch:write"]' "scopes"
	check_json '.created_at | type' '"string"' "created_at"
	check_json 'has("hash")' 'false' "no hash in the answer"
	local key id
	key=$(jq -r .key <<<"$BODY")
	id=$(jq -r .id <<<"$BODY")

	api GET /v1/api-keys
	check_status 200 "list keys"
	check_json '.count' '2' "two keys in the tenant"
	check_json "[.data[] | select(.id == \"$id\")] | length" '1' "the new key is listed"
	check_json '[.data[] | has("key") or has("hash")] | any' 'false' "no secret or hash listed"
	check_json '.data[0] | has("prefix") and has("name") and has("scopes") and has("created_at") and has("last_used_at")' \
		'true' "list fields"
	check "the secret appears nowhere in the list" bash -c '! grep -qF -- "$1" <<<"$2"' _ "$key" "$BODY"

	KEY=$key api GET '/api/v1/kill-switch/check?target_type=agent&target_id=x'
	check_status 200 "the new key works"
	api GET /v1/api-keys
	check_json "[.data[] | select(.id == \"$id\")][0].last_used_at | type" '"string"' "last_used_at recorded"

	api DELETE "/v1/api-keys/$id"
	check_status 200 "revoke"
	check_json '.revoked_at | type' '"string"' "revoked_at set"
	api DELETE "/v1/api-keys/$id"
	check_status 409 "revoke twice"
	check_json '.code' '"already_revoked"' "already_revoked"
	api DELETE "/v1/api-keys/key_0123456789abcdef"
	check_status 404 "unknown key id"
	api DELETE "/v1/api-keys/$(printf 'x%.0s' $(seq 300))"
	check_status 404 "absurd key id"
	KEY=$key api GET '/api/v1/kill-switch/check?target_type=agent&target_id=x'
	check_status 401 "the revoked key is refused"

	api GET /v1/api-keys/$id
	check_status 405 "GET on one key is not a route"
	check_header 'allow' 'DELETE' "Allow: DELETE"
}

escalation() {
	api POST /v1/api-keys '{"name":"keyadmin","scopes":["keys:admin","killswitch:check"]}'
	local admin
	admin=$(jq -r .key <<<"$BODY")
	KEY=$admin api POST /v1/api-keys '{"name":"sneaky","scopes":["killswitch:write"]}'
	check_status 403 "cannot grant a scope it lacks"
	check_json '.code' '"scope_escalation"' "scope_escalation"
	KEY=$admin api POST /v1/api-keys '{"name":"sneaky","scopes":["*"]}'
	check_status 403 "cannot grant * without every scope"
	KEY=$admin api POST /v1/api-keys '{"name":"ok","scopes":["killswitch:check"]}'
	check_status 201 "may grant a scope it holds"
	KEY=$KEY_B api POST /v1/api-keys '{"name":"platform","scopes":["platform:admin"]}'
	check_status 403 "* does not include platform:admin"
	api POST /v1/api-keys '{"name":"platform","scopes":["platform:admin"]}'
	check_status 201 "a platform admin may grant platform:admin"
}

validation() {
	api POST /v1/api-keys '{"name":"x","scopes":["killswitch:check"],"scope":"typo"}'
	check_status 400 "unknown field"
	check_json '.field' '"scope"' "names the unknown field"
	api POST /v1/api-keys '{"name":"x","scopes":["killswitch:teleport"]}'
	check_status 400 "unknown scope name"
	api POST /v1/api-keys '{"name":"","scopes":["killswitch:check"]}'
	check_status 400 "empty name"
	api POST /v1/api-keys '{"name":"x","scopes":[]}'
	check_status 400 "no scopes"
	api POST /v1/api-keys '{"name":"x","scopes":"killswitch:check"}'
	check_status 400 "scopes not an array"
	api POST /v1/api-keys '{"name":"x","scopes":["killswitch:check"],"expires_at":"tomorrow"}'
	check_status 400 "bad expires_at"
	api POST /v1/api-keys '{"name":"x","scopes":["killswitch:check"],"expires_at":"2001-01-01T00:00:00Z"}'
	check_status 400 "expires_at in the past"
	api POST /v1/api-keys "{\"name\":\"$(printf 'n%.0s' $(seq 129))\",\"scopes\":[\"killswitch:check\"]}"
	check_status 400 "name of 129 characters"
	api GET /v1/api-keys
	check_json '.count' '1' "nothing was created"
}

rate_limit() {
	local i codes=""
	for i in 1 2 3; do
		api POST /api/v1/kill-switch/kill "{\"target_type\":\"agent\",\"target_id\":\"rl-$i\"}"
		codes="$codes $STATUS"
	done
	check "three kills within the limit ($codes)" [ "$codes" = " 201 201 201" ]
	api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"rl-4"}'
	check_status 429 "the fourth state-changing call is limited"
	check_header 'retry-after' '^[0-9]+$' "Retry-After in seconds"
	check_header 'content-type' '^application/problem\+json' "429 is problem+json"
	check_json '.code' '"rate_limited"' "rate_limited code"
	api GET '/api/v1/kill-switch/check?target_type=agent&target_id=rl-4'
	check_json '.is_killed' 'false' "the limited kill stored nothing"
	check_status 200 "checks are not limited"
	KEY=$KEY_B api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"rl-4"}'
	check_status 201 "another key has its own bucket"
}

refusals_spend_nothing() {
	local i codes=""
	for i in 1 2 3 4 5; do
		api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"x","bogus":1}'
		codes="$codes $STATUS"
	done
	check "refused calls answer 400, not 429 ($codes)" [ "$codes" = " 400 400 400 400 400" ]
	api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"x"}'
	check_status 201 "a refused call spends no token"
}

health() {
	KEY='' api GET /healthz
	check_status 200 "healthz needs no key"
	check_json '.status' '"ok"' "status ok"
	check_header 'content-type' '^application/json' "JSON"
	KEY='' api POST /healthz '{}'
	check_status 405 "POST /healthz"
	KEY='' api GET /healthzx
	check "no route /healthzx" [ "$STATUS" = 404 ]
}

metrics() {
	api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"m-1"}'
	api GET /metrics
	check_status 200 "metrics for a platform admin"
	check_header 'content-type' '^text/plain; version=0.0.4' "Prometheus text format"
	check "active kill switches counted" grep -q '^andon_kill_switches_active 1$' <<<"$BODY"
	check "audit events counted" grep -q '^andon_audit_events_total [1-9]' <<<"$BODY"
	check "two tenants counted" grep -q '^andon_tenants 2$' <<<"$BODY"
	KEY=$KEY_B api GET /metrics
	check_status 403 "metrics span tenants: platform:admin only"
	KEY='' api GET /metrics
	check_status 401 "metrics need a key"
}

for_each_server keys
for_each_server metrics
for_each_server escalation
for_each_server validation
for_each_server health
CONF_OVERRIDES="rate_limit_per_minute=3 rate_limit_burst=3" for_each_server rate_limit
CONF_OVERRIDES="rate_limit_per_minute=3 rate_limit_burst=3" for_each_server refusals_spend_nothing
finish
