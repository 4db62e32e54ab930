#!/usr/bin/env bash
# t0700: the agent registry (contract section 5, seeds 002 and 004): register,
# get by id or agent_id, list with filters and pagination, PATCH with every
# rule, suspend and reactivate, revoke, tenancy, scopes, and the seeds' curl
# examples as written (host, key, tenant and agent id made real).
. "$(dirname "$0")/setup.sh"

# A 32-byte Ed25519 public key, base64.
PUBLIC_KEY=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=

agents() {
	api "$1" "$2" "${3:-}" -H "X-Tenant-ID: $TENANT" "${@:4}"
}

# The number of audit events, from "andonctl verify".
audit_events() {
	ctl verify | sed -n 's/^ok: \([0-9]*\) audit events.*/\1/p'
}

# The type of audit event number N (1-based), read through its transparency
# receipt (receipt ids are the leaf index).
event_type() {
	api GET "/v1/transparency/receipts/$(printf 'rcpt_%016x' $(($1 - 1)))"
	jq -r .event.type <<<"$BODY"
}

register() {
	agents POST /v1/agents "$1"
	[ "$STATUS" = 201 ] || fail "register $1 (got $STATUS)"
	AGENT_ID=$(jq -r .agent_id <<<"$BODY")
	AGENT_UUID=$(jq -r .id <<<"$BODY")
}

registry() {
	local events id uuid
	agents POST /v1/agents "{\"agent_type\":\"orchestrator\",\"display_name\":\"Support Bot\",\"description\":\"Tier-1 support\",\"scopes\":[\"tickets:read\",\"tickets:write\",\"tickets:read\"],\"metadata\":{\"team\":\"support\"},\"public_key\":\"$PUBLIC_KEY\"}"
	check_status 201 "register an agent"
	check_header 'content-type' '^application/json' "JSON answer"
	check_json '.id | test("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")' 'true' "id is a UUID"
	check_json ".agent_id | test(\"^maip:$TENANT:[0-9A-HJKMNP-TV-Z]{26}\$\")" 'true' "agent_id is maip:<tenant>:<ULID>"
	check_json '.status' '"active"' "a new agent is active"
	check_json '.trust_score' '0.5' "trust_score defaults to 0.5"
	check_json '.session_count' '0' "no sessions yet"
	check_json '.scopes' '["tickets:read","tickets:write"]' "scopes kept, without repeats"
	check_json '.metadata' '{"team":"support"}' "metadata kept"
	check_json '.keys | length' '1' "the public key is listed in keys"
	check_json '.keys[0] | [.algorithm, .status, .public_key]' "[\"Ed25519\",\"active\",\"$PUBLIC_KEY\"]" "key entry: algorithm, status, public key"
	check_json '.keys[0].kid | test("^kid_[0-9a-f]{16}$")' 'true' "the key has a kid"
	check_json '.created_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$")' 'true' "created_at is RFC 3339 UTC"
	check_json '.updated_at == .created_at' 'true' "updated_at starts as created_at"
	check_json 'has("suspended_reason") or has("revoked_at")' 'false' "no stop fields while active"
	id=$(jq -r .agent_id <<<"$BODY")
	uuid=$(jq -r .id <<<"$BODY")

	agents GET "/v1/agents/$uuid"
	check_status 200 "get by id"
	check_json '.agent_id' "\"$id\"" "get by id answers the agent"
	agents GET "/v1/agents/$id"
	check_status 200 "get by agent_id"
	check_json '.id' "\"$uuid\"" "get by agent_id answers the same agent"
	agents GET "/v1/agents/maip:$TENANT:01HYX3KPZQ7RJGBN0WFMV8SDEH"
	check_status 404 "an unknown agent_id is 404"
	check_json '.code' '"not_found"' "code not_found"
	agents GET "/v1/agents/3c90c3cc-0d44-4b50-8888-8dd25736052a"
	check_status 404 "an unknown id is 404"

	events=$(audit_events)
	check "registration is audited as agent.registered" [ "$(event_type "$events")" = agent.registered ]

	agents POST /v1/agents '{"agent_type":"llm","display_name":"Edge","trust_score":0}'
	check_status 201 "trust_score 0 is accepted"
	check_json '.trust_score' '0' "trust_score 0 kept"
	agents POST /v1/agents '{"agent_type":"llm","display_name":"Edge","trust_score":1}'
	check_status 201 "trust_score 1 is accepted"
	agents DELETE /v1/agents
	check_status 405 "DELETE /v1/agents is 405"
	check_header 'allow' 'GET' "405 carries Allow"
}

listing() {
	local i type
	for i in 1 2 3 4 5 6; do
		case $i in 1 | 2 | 3) type=worker ;; *) type=bot ;; esac
		register "{\"agent_type\":\"$type\",\"display_name\":\"agent $i\"}"
		sleep 0.01
	done
	agents POST "/v1/agents/$AGENT_ID/suspend" '{"reason":"listing test"}'
	check_status 200 "suspend the last one"

	agents GET '/v1/agents'
	check_status 200 "list"
	check_json '.count' '6' "count is the total"
	check_json '.data | length' '6' "all on one page"
	check_json '.data[0].display_name' '"agent 6"' "newest first"
	check_json '[.data[] | has("session_count")] | all' 'true' "each listed agent has session_count"
	agents GET '/v1/agents?limit=2&skip=1'
	check_json '.count' '6' "count stays the total with a page"
	check_json '[.data[].display_name]' '["agent 5","agent 4"]' "skip and limit"
	agents GET '/v1/agents?agent_type=worker'
	check_json '.count' '3' "agent_type filter"
	check_json '[.data[].agent_type] | unique' '["worker"]' "only workers"
	agents GET '/v1/agents?status=suspended'
	check_json '.count' '1' "status filter"
	check_json '.data[0].status' '"suspended"' "only the suspended one"
	agents GET '/v1/agents?status=active&agent_type=bot'
	check_json '.count' '2' "both filters at once"
	agents GET '/v1/agents?status=asleep'
	check_status 400 "unknown status filter is 400"
	agents GET '/v1/agents?agent_type=robot'
	check_status 400 "unknown agent_type filter is 400"
	agents GET '/v1/agents?limit=0'
	check_status 400 "limit 0 is 400"
	agents GET '/v1/agents?limit=1001'
	check_status 400 "limit 1001 is 400"
}

patching() {
	local before events
	register '{"agent_type":"service","display_name":"Customer Support Bot","metadata":{"team":"support","tier":"1"},"scopes":["a"]}'
	before=$(jq -r .updated_at <<<"$BODY")
	sleep 0.01

	# seed 004's example, as written
	curl -s -o "$DATA/.body" -w '%{http_code}' -X PATCH "$BASE/v1/agents/$AGENT_ID" \
		-H "X-API-Key: $ADMIN_KEY" \
		-H "X-Tenant-ID: $TENANT" \
		-H "Content-Type: application/json" \
		-d '{
    "display_name": "Customer Support Bot v2",
    "description": "Upgraded to handle Tier-1 and Tier-2 support with escalation",
    "metadata": {
      "team": "support",
      "model": "claude-opus-4",
      "environment": "production",
      "version": "2.0"
    }
  }' >"$DATA/.status"
	STATUS=$(cat "$DATA/.status")
	BODY=$(cat "$DATA/.body")
	check_status 200 "seed 004: PATCH example"
	check_json '.display_name' '"Customer Support Bot v2"' "display_name updated"
	check_json '.description' '"Upgraded to handle Tier-1 and Tier-2 support with escalation"' "description updated"
	check_json '.metadata' '{"team":"support","model":"claude-opus-4","environment":"production","version":"2.0"}' "metadata replaced"
	check_json '.agent_id' "\"$AGENT_ID\"" "the full agent object is returned"
	check_json '.scopes' '["a"]' "scopes unchanged"
	check_json ".updated_at > \"$before\"" 'true' "updated_at moves"
	check "PATCH is audited as agent.updated" [ "$(event_type "$(audit_events)")" = agent.updated ]

	agents PATCH "/v1/agents/$AGENT_ID" '{"metadata":{"only":"this"}}'
	check_status 200 "PATCH metadata alone"
	check_json '.metadata' '{"only":"this"}' "metadata is replaced, not merged"
	check_json '.display_name' '"Customer Support Bot v2"' "other fields unchanged"
	agents PATCH "/v1/agents/$AGENT_UUID" '{"description":""}'
	check_status 200 "PATCH by id"
	check_json '.description' '""' "description cleared"

	agents PATCH "/v1/agents/$AGENT_ID" '{"scopes":["admin"]}'
	check_status 400 "scopes in PATCH is 400"
	check_json '.code' '"scopes_immutable"' "code scopes_immutable"
	agents PATCH "/v1/agents/$AGENT_ID" '{"status":"revoked"}'
	check_status 400 "status revoked in PATCH is 400"
	check_json '.field' '"status"' "names status"
	agents PATCH "/v1/agents/$AGENT_ID" '{}'
	check_status 400 "PATCH without a field is 400"

	agents PATCH "/v1/agents/$AGENT_ID" '{"status":"suspended"}'
	check_status 200 "PATCH status suspended"
	check_json '.status' '"suspended"' "suspended through PATCH"
	check "suspension through PATCH is audited as agent.suspended" \
		[ "$(event_type "$(audit_events)")" = agent.suspended ]
	events=$(audit_events)
	agents PATCH "/v1/agents/$AGENT_ID" '{"status":"active"}'
	check_status 200 "PATCH status active reactivates"
	check_json '.status' '"active"' "active again"
	check_json 'has("suspended_reason")' 'false' "suspended_reason cleared"
	check "reactivation is one event" [ "$(audit_events)" = $((events + 1)) ]
	check "reactivation is audited as agent.reactivated" \
		[ "$(event_type "$(audit_events)")" = agent.reactivated ]
	events=$(audit_events)
	agents PATCH "/v1/agents/$AGENT_ID" '{"status":"active"}'
	check_status 200 "PATCH to the status it has"
	check "a status it already has is no event" [ "$(audit_events)" = "$events" ]
}

suspension() {
	local token
	register '{"agent_type":"bot","display_name":"suspect","scopes":["x"]}'
	agents POST "/v1/agents/$AGENT_ID/sessions" '{}'
	check_status 201 "open a session while active"
	token=$(jq -r .token <<<"$BODY")

	# seed 002's example, as written
	curl -s -o "$DATA/.body" -w '%{http_code}' -X POST "$BASE/v1/agents/$AGENT_ID/suspend" \
		-H "X-API-Key: $ADMIN_KEY" \
		-H "X-Tenant-ID: $TENANT" \
		-H "Content-Type: application/json" \
		-d '{
    "reason": "Anomalous data access pattern detected by velocity scoring at 2026-04-06T15:00:00Z"
  }' >"$DATA/.status"
	STATUS=$(cat "$DATA/.status")
	BODY=$(cat "$DATA/.body")
	check_status 200 "seed 002: suspend example"
	check_json '.status' '"suspended"' "seed 002: status suspended"
	check_json '.agent_id' "\"$AGENT_ID\"" "seed 002: agent_id"
	check_json '.suspended_reason' '"Anomalous data access pattern detected by velocity scoring at 2026-04-06T15:00:00Z"' "suspended_reason kept"
	check_json '.session_count' '1' "sessions are not ended by a suspension"
	check "suspension is audited as agent.suspended" [ "$(event_type "$(audit_events)")" = agent.suspended ]

	agents POST "/v1/agents/$AGENT_ID/suspend" '{"reason":"again"}'
	check_status 409 "second suspend is 409"
	check_json '.code' '"already_suspended"' "code already_suspended"
	agents POST "/v1/agents/$AGENT_ID/sessions" '{}'
	check_status 409 "a suspended agent opens no session"
	check_json '.code' '"agent_suspended"' "code agent_suspended"
	agents POST /v1/sessions/introspect "{\"token\":\"$token\"}"
	check_json '.' '{"active":false}' "its token fails introspection while suspended"
	api GET "/api/v1/kill-switch/check?target_type=agent&target_id=$AGENT_ID"
	check_json '[.is_killed, .source, .agent_status]' '[true,"agent_status","suspended"]' "the kill-switch check says killed (agent_status)"

	# seed 002's reactivation example, as written
	curl -s -o "$DATA/.body" -w '%{http_code}' -X PATCH "$BASE/v1/agents/$AGENT_ID" \
		-H "X-API-Key: $ADMIN_KEY" \
		-H "X-Tenant-ID: $TENANT" \
		-H "Content-Type: application/json" \
		-d '{"status": "active"}' >"$DATA/.status"
	STATUS=$(cat "$DATA/.status")
	BODY=$(cat "$DATA/.body")
	check_status 200 "seed 002: reactivation example"
	check_json '.status' '"active"' "reactivated"
	agents POST /v1/sessions/introspect "{\"token\":\"$token\"}"
	check_json '.active' 'true' "the token is active again after reactivation"
	api GET "/api/v1/kill-switch/check?target_type=agent&target_id=$AGENT_ID"
	check_json '.is_killed' 'false' "the check is clear after reactivation"
}

revocation() {
	local token events
	register '{"agent_type":"pipeline","display_name":"old pipeline"}'
	agents POST "/v1/agents/$AGENT_ID/sessions" '{}'
	token=$(jq -r .token <<<"$BODY")
	agents POST "/v1/agents/$AGENT_ID/receipts" '{"action":"export"}'
	check_status 201 "a pending receipt"
	agents POST "/v1/agents/$AGENT_ID/revoke" '{"reason":"decommissioned","dry_run":true}'
	check_status 200 "revoke dry run"
	check_json '[.dry_run, .agent_status, .sessions_terminated]' '[true,"active",1]' "dry run: what would happen, nothing done"
	agents GET "/v1/agents/$AGENT_ID"
	check_json '[.status, .session_count]' '["active",1]' "dry run changed nothing"
	events=$(audit_events)
	agents POST "/v1/agents/$AGENT_ID/revoke" '{"reason":"decommissioned"}'
	check_status 200 "revoke"
	check_json '[.agent_status, .sessions_terminated, .agent.status]' '["revoked",1,"revoked"]' "revoked, its session terminated"
	check_json '.receipt_id | startswith("rcpt_")' 'true' "revocation has a transparency receipt"
	check_json '.agent.revoked_reason' '"decommissioned"' "revoked_reason"
	check_json '.agent.revoked_at | type' '"string"' "revoked_at"
	check "revocation is one event" [ "$(audit_events)" = $((events + 1)) ]
	check "revocation is audited as agent.revoked" [ "$(event_type "$(audit_events)")" = agent.revoked ]
	agents GET "/v1/agents/$AGENT_ID/receipts?status=pending"
	check_json '.count' '1' "revoke leaves receipts untouched"
	agents POST /v1/sessions/introspect "{\"token\":\"$token\"}"
	check_json '.active' 'false' "the revoked agent's token is inactive"
	agents POST "/v1/agents/$AGENT_ID/revoke" '{"reason":"again"}'
	check_status 409 "second revoke is 409"
	check_json '.code' '"already_revoked"' "code already_revoked"
	agents POST "/v1/agents/$AGENT_ID/suspend" '{"reason":"late"}'
	check_status 409 "suspending a revoked agent is 409"
	check_json '.code' '"agent_revoked"' "code agent_revoked"
	agents PATCH "/v1/agents/$AGENT_ID" '{"display_name":"zombie"}'
	check_status 409 "any change to a revoked agent is 409"
	check_json '.code' '"agent_revoked"' "PATCH on revoked: agent_revoked"
	agents PATCH "/v1/agents/$AGENT_ID" '{"status":"active"}'
	check_status 409 "a revoked agent cannot be reactivated"
	api GET "/api/v1/kill-switch/check?target_type=agent&target_id=$AGENT_UUID"
	check_json '[.is_killed, .source, .agent_status, .reason]' '[true,"agent_status","revoked","decommissioned"]' "check by id: killed (agent_status)"
}

tenancy_and_scopes() {
	local ro_key w_key
	register '{"agent_type":"bot","display_name":"private"}'
	api GET '/v1/agents'
	check_status 400 "no X-Tenant-ID is 400"
	check_json '.code' '"missing_tenant"' "code missing_tenant"
	api GET '/v1/agents' -H "X-Tenant-ID: $TENANT_B"
	check_status 403 "another tenant in X-Tenant-ID is 403"
	KEY=$KEY_B api GET "/v1/agents/$AGENT_ID" -H "X-Tenant-ID: $TENANT_B"
	check_status 404 "tenant B does not see tenant A's agent"
	KEY=$KEY_B api GET "/v1/agents/$AGENT_UUID" -H "X-Tenant-ID: $TENANT_B"
	check_status 404 "nor by id"
	KEY=$KEY_B api GET '/v1/agents' -H "X-Tenant-ID: $TENANT_B"
	check_json '.count' '0' "tenant B counts none of A's agents"
	KEY=$KEY_B api POST "/v1/agents/$AGENT_ID/kill" '{"reason":"x"}' -H "X-Tenant-ID: $TENANT_B"
	check_status 404 "tenant B cannot kill A's agent"
	KEY='' api GET '/v1/agents' -H "X-Tenant-ID: $TENANT"
	check_status 401 "no key is 401"
	check_header 'www-authenticate' 'Bearer' "401 carries WWW-Authenticate"

	ro_key=$(ctl key-create "$TENANT" reader 'agents:read' 2>/dev/null)
	w_key=$(ctl key-create "$TENANT" writer 'agents:read,agents:write' 2>/dev/null)
	KEY=$ro_key agents GET "/v1/agents/$AGENT_ID"
	check_status 200 "agents:read reads"
	KEY=$ro_key agents POST /v1/agents '{"agent_type":"bot","display_name":"x"}'
	check_status 403 "agents:read cannot register"
	check_json '.detail | test("agents:write")' 'true' "403 names agents:write"
	KEY=$w_key agents POST "/v1/agents/$AGENT_ID/suspend" '{"reason":"x"}'
	check_status 403 "suspend needs agents:suspend"
	KEY=$w_key agents POST "/v1/agents/$AGENT_ID/kill" '{"reason":"x"}'
	check_status 403 "kill needs agents:kill"
	check_json '.detail | test("agents:kill")' 'true' "403 names agents:kill"
	KEY=$w_key agents POST "/v1/agents/$AGENT_ID/revoke" '{"reason":"x"}'
	check_status 403 "revoke needs agents:kill"

	agents POST "/v1/agents/$AGENT_ID/suspend" '{"reason":"retry me"}' -H 'Idempotency-Key: susp-1'
	check_status 200 "suspend with an Idempotency-Key"
	agents POST "/v1/agents/$AGENT_ID/suspend" '{"reason":"retry me"}' -H 'Idempotency-Key: susp-1'
	check_status 200 "the retry replays the first answer, not a 409"
	check_header 'idempotent-replayed' 'true' "Idempotent-Replayed"
	check "the audit chain and the transparency log verify" ctl verify
}

rate_limit() {
	local i
	for i in 1 2 3; do
		register "{\"agent_type\":\"bot\",\"display_name\":\"r$i\"}"
		agents POST "/v1/agents/$AGENT_ID/suspend" '{"reason":"burst"}'
		[ "$STATUS" = 200 ] || break
	done
	check_status 429 "suspends beyond the key's bucket get 429"
	check_header 'retry-after' '^[0-9]+$' "429 carries Retry-After"
}

export CONF_OVERRIDES="rate_limit_per_minute=100000 rate_limit_burst=100000"
for_each_server registry
for_each_server listing
for_each_server patching
for_each_server suspension
for_each_server revocation
for_each_server tenancy_and_scopes
export CONF_OVERRIDES="rate_limit_per_minute=2 rate_limit_burst=2"
for_each_server rate_limit
finish
