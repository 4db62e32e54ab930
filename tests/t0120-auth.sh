#!/usr/bin/env bash
# t0120: authentication (401), scopes (403), X-Tenant-ID (403) and tenant
# isolation (404, never 403) on the kill-switch family (contract section 3).
. "$(dirname "$0")/setup.sh"

CHECK='/api/v1/kill-switch/check?target_type=agent&target_id=x'

# create_key NAME SCOPES-JSON [EXPIRES]: sets NEW_KEY and NEW_KEY_ID
create_key() {
	local body="{\"name\":\"$1\",\"scopes\":$2"
	[ -n "${3:-}" ] && body="$body,\"expires_at\":\"$3\""
	api POST /v1/api-keys "$body}"
	NEW_KEY=$(jq -r .key <<<"$BODY")
	NEW_KEY_ID=$(jq -r .id <<<"$BODY")
}

unauthenticated() {
	KEY='' api GET "$CHECK"
	check_status 401 "no key"
	check_header 'www-authenticate' '.+' "401 carries WWW-Authenticate"
	check_header 'content-type' '^application/problem\+json' "401 is problem+json"
	check_json '.code' '"unauthorized"' "401 code"

	KEY='andon_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' api GET "$CHECK"
	check_status 401 "well-formed but unknown key"
	KEY="${ADMIN_KEY%?}x" api GET "$CHECK"
	check_status 401 "right key id, wrong secret"
	KEY='garbage' api GET "$CHECK"
	check_status 401 "malformed key"
	KEY='' api GET "$CHECK" -H "Authorization: Bearer ${ADMIN_KEY%?}x"
	check_status 401 "wrong Bearer token"
	KEY='' api GET "$CHECK" -H "Authorization: Basic Zm9vOmJhcg=="
	check_status 401 "Basic credentials are not a key"

	KEY='' api GET "$CHECK" -H "Authorization: Bearer $ADMIN_KEY"
	check_status 200 "Bearer with the valid key"
	api GET "$CHECK"
	check_status 200 "X-API-Key with the valid key"
	KEY='' api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"x"}'
	check_status 401 "kill without a key"
	api GET '/api/v1/kill-switch/active'
	check_json '.count' '0' "the unauthenticated kill stored nothing"
}

scopes() {
	create_key checker '["killswitch:check"]'
	check_status 201 "create a check-only key"
	KEY=$NEW_KEY api GET "$CHECK"
	check_status 200 "check-only key may check"
	KEY=$NEW_KEY api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"x"}'
	check_status 403 "check-only key may not kill"
	check_json ".code" "\"insufficient_scope\"" "403 code"
	check_json '.detail | test("killswitch:write")' 'true' "403 names the missing scope"
	KEY=$NEW_KEY api GET /v1/api-keys
	check_status 403 "check-only key may not list keys"

	create_key writer '["killswitch:write"]'
	KEY=$NEW_KEY api GET "$CHECK"
	check_status 403 "write-only key may not check"
	KEY=$NEW_KEY api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"x"}'
	check_status 201 "write key may kill"

	api GET "$CHECK" -H "X-Tenant-ID: $TENANT"
	check_status 200 "matching X-Tenant-ID"
	api GET "$CHECK" -H "X-Tenant-ID: $TENANT_B"
	check_status 403 "mismatching X-Tenant-ID"
	check_json '.code' '"tenant_mismatch"' "tenant_mismatch code"
	api POST /api/v1/kill-switch/revive '{"target_type":"agent","target_id":"x"}' -H "X-Tenant-ID: $TENANT_B"
	check_status 403 "mismatching X-Tenant-ID on a write"
	api GET "$CHECK"
	check_json '.is_killed' 'true' "the refused revive changed nothing"
}

isolation() {
	api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"shared-name","reason":"tenant A"}'
	check_status 201 "tenant A kills shared-name"
	KEY=$KEY_B api GET '/api/v1/kill-switch/check?target_type=agent&target_id=shared-name'
	check_status 200 "tenant B checks the same name"
	check_json '.is_killed' 'false' "tenant B does not see A's switch"
	KEY=$KEY_B api GET '/api/v1/kill-switch/active'
	check_json '.count' '0' "tenant B's active list is empty"
	KEY=$KEY_B api GET '/api/v1/kill-switch/history?target_type=agent&target_id=shared-name'
	check_json '.count' '0' "tenant B's history is empty"
	KEY=$KEY_B api POST /api/v1/kill-switch/revive '{"target_type":"agent","target_id":"shared-name"}'
	check_status 404 "tenant B cannot revive A's switch (404, not 403)"
	api GET '/api/v1/kill-switch/check?target_type=agent&target_id=shared-name'
	check_json '.is_killed' 'true' "A's switch is still active"
	KEY=$KEY_B api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"shared-name","reason":"tenant B"}'
	check_status 201 "tenant B kills its own shared-name"
	check_json '.organization_id' "\"$TENANT_B\"" "B's switch belongs to B"
	KEY=$KEY_B api GET '/api/v1/interventions'
	check_json '.count' '0' "B sees none of A's interventions"
	KEY=$KEY_B api GET '/v1/api-keys'
	check_json "[.data[].id] | map(startswith(\"key_\")) | all" 'true' "B lists keys"
	check_json '.count' '1' "B lists only its own key"
	local a_key_id
	a_key_id=$(printf '%s' "$ADMIN_KEY" | sed 's/^andon_\([0-9a-f]*\)_.*/key_\1/')
	KEY=$KEY_B api DELETE "/v1/api-keys/$a_key_id"
	check_status 404 "B cannot revoke A's key (404)"
	api GET "$CHECK"
	check_status 200 "A's key still works"
}

revocation_and_expiry() {
	create_key short '["killswitch:check"]'
	local key=$NEW_KEY id=$NEW_KEY_ID
	KEY=$key api GET "$CHECK"
	check_status 200 "new key works (and is now cached)"
	KEY=$key api GET "$CHECK"
	check_status 200 "cached key works"
	api DELETE "/v1/api-keys/$id"
	check_status 200 "revoke it"
	local i refused=0
	for i in 1 2 3 4 5 6; do
		KEY=$key api GET "$CHECK"
		[ "$STATUS" = 401 ] && refused=$((refused + 1))
	done
	check "revoked key refused on every following request, in every process ($refused/6)" [ "$refused" = 6 ]

	local soon
	soon=$(date -u -d '+3 seconds' +%Y-%m-%dT%H:%M:%SZ)
	create_key brief '["killswitch:check"]' "$soon"
	check_status 201 "key with expires_at"
	key=$NEW_KEY
	KEY=$key api GET "$CHECK"
	check_status 200 "key works before it expires"
	sleep 4
	KEY=$key api GET "$CHECK"
	check_status 401 "key refused once expired"
	check_json '.detail | test("expired")' 'true' "401 says expired"
}

for_each_server unauthenticated
for_each_server scopes
for_each_server isolation
for_each_server revocation_and_expiry
finish
