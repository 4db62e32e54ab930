#!/usr/bin/env bash
# t0210: GET /v1/api-keys/self, "who am I" for the console's header: any
# valid key reads its own record (never the secret, hash or verifier) with
# its tenant, the scopes it was given and the scopes they grant; no
# credentials is 401; a revoked key is 401; it stays readable during a
# severity-5 shutdown; it is a GET-only route (405 with Allow).
. "$(dirname "$0")/setup.sh"

self() {
	api GET /v1/api-keys/self
	check_status 200 "the admin key reads itself"
	check_json '.tenant' "\"$TENANT\"" "its tenant"
	check_json '.name' '"admin"' "its name"
	check_json '.scopes' '["*","platform:admin"]' "the scopes it was given"
	check_json '.effective_scopes | index("agents:kill") != null and index("platform:admin") != null' 'true' \
		"'*' spelled out in effective_scopes"
	check_json '.id | test("^key_[0-9a-f]{16}$")' 'true' "its key id"
	check_json 'has("hash") or has("verifier") or has("key")' 'false' "no secret, hash or verifier"

	# a key with one narrow scope reads itself too (no scope needed)
	api POST /v1/api-keys '{"name":"checker","scopes":["killswitch:check"]}'
	check_status 201 "create a narrow key"
	local narrow id
	narrow=$(jq -r .key <<<"$BODY")
	id=$(jq -r .id <<<"$BODY")
	KEY=$narrow api GET /v1/api-keys/self
	check_status 200 "a key without keys:admin reads itself"
	check_json '.id' "\"$id\"" "and gets its own record, not another"
	check_json '.effective_scopes' '["killswitch:check"]' "its effective scopes"
	check "the secret is not in the answer" bash -c '! grep -qF -- "$1" <<<"$2"' _ "$narrow" "$BODY"

	KEY=$KEY_B api GET /v1/api-keys/self
	check_json '.tenant' "\"$TENANT_B\"" "another tenant's key sees its own tenant"

	KEY='' api GET /v1/api-keys/self
	check_status 401 "no credentials: 401"
	check_header 'www-authenticate' '.' "with WWW-Authenticate"

	api POST /v1/api-keys/self '{}'
	check_status 405 "POST is not allowed"
	check_header 'allow' 'GET' "Allow names GET"

	api POST /v1/emergency-shutdown '{"severity":5,"reason":"drill"}'
	check_status 201 "severity-5 shutdown"
	KEY=$narrow api GET /v1/api-keys/self
	check_status 200 "who am I stays readable during the shutdown"
	api POST "/v1/emergency-shutdown/$(jq -r .shutdown_id <<<"$BODY")/resolve" '{}'

	api DELETE "/v1/api-keys/$id"
	check_status 200 "revoke the narrow key"
	KEY=$narrow api GET /v1/api-keys/self
	check_status 401 "a revoked key is refused"
}

for_each_server self
finish
