#!/usr/bin/env bash
# t0830: request rules of issue 11 (items 4, 6 and 7), under every server.
#   credentials  exactly one credential: two different ones are 400, the same
#                one twice is one; a header spelled with underscores or dots
#                never authenticates
#   bodies       finalize validates its (empty) body; routes without a body
#                description refuse one (DELETE and GET of every family);
#                nothing is stored on refusal
#   patch_limit  PATCH of an agent's status spends the admin bucket like
#                /suspend, a PATCH of other fields does not
#   tenant_limit keys of one tenant share their tenant's bucket, by default
#                as large as one key's, or as tenant_rate_limit_* sets it
. "$(dirname "$0")/setup.sh"

CHECK='/api/v1/kill-switch/check?target_type=agent&target_id=x'

agents() {
	api "$1" "$2" "${3:-}" -H "X-Tenant-ID: $TENANT" "${@:4}"
}

# create_key NAME SCOPES-JSON: sets NEW_KEY and NEW_KEY_ID
create_key() {
	api POST /v1/api-keys "{\"name\":\"$1\",\"scopes\":$2}"
	[ "$STATUS" = 201 ] || fail "create key $1 (got $STATUS)"
	NEW_KEY=$(jq -r .key <<<"$BODY")
	NEW_KEY_ID=$(jq -r .id <<<"$BODY")
}

# register NAME [SCOPES-JSON]: sets AGENT_ID
register() {
	agents POST /v1/agents "{\"agent_type\":\"bot\",\"display_name\":\"$1\",\"scopes\":${2:-[]}}"
	[ "$STATUS" = 201 ] || fail "register $1 (got $STATUS)"
	AGENT_ID=$(jq -r .agent_id <<<"$BODY")
}

check_problem() {
	check_status "$1" "$3"
	check_header 'content-type' '^application/problem\+json' "$3: problem+json"
	check_json '.code' "\"$2\"" "$3: code $2"
}

# Rows: status|path|header|header|header|what.  ADMIN and LOW in a header
# stand for the admin key and a check-only key; 400 means the problem
# conflicting_credentials; 401 is the answer of no credential at all.
CREDENTIAL_RULES='
400|/v1/api-keys|X-API-Key: ADMIN|Authorization: Bearer LOW||X-API-Key and a different Bearer
400|/v1/api-keys|Authorization: Bearer LOW|X-API-Key: ADMIN||Bearer and a different X-API-Key
400|/v1/api-keys|X-API-Key: ADMIN|x-tork-api-key: LOW||X-API-Key and a different x-tork-api-key
400|/v1/api-keys|Authorization: Bearer ADMIN|X-Tork-API-Key: LOW||Bearer and a different X-Tork-API-Key
400|/v1/api-keys|X-API-Key: LOW|X-API-Key: ADMIN||X-API-Key twice with different keys
400|/v1/api-keys|Authorization: Bearer LOW|Authorization: Bearer ADMIN||Bearer twice with different keys
400|/v1/api-keys|X-API-Key: LOW, ADMIN|||one X-API-Key listing two keys
200|/v1/api-keys|X-API-Key: ADMIN|Authorization: Bearer ADMIN||the same key as X-API-Key and Bearer is one credential
200|/v1/api-keys|X-API-Key: ADMIN|X-API-Key: ADMIN|X-Tork-API-Key: ADMIN|the same key in three headers is one credential
200|/v1/api-keys|Authorization: Basic Zm9vOmJhcg==|X-API-Key: ADMIN||Basic credentials are not a key, so no conflict
200|/healthz|X-API-Key: ADMIN|Authorization: Bearer LOW||a public route reads no credential
401|CHECK|X_API_KEY: ADMIN|||X_API_KEY alone does not authenticate
401|CHECK|x_api_key: ADMIN|||x_api_key alone does not authenticate
401|CHECK|X.API.Key: ADMIN|||X.API.Key alone does not authenticate
401|CHECK|X_Tork_API_Key: ADMIN|||X_Tork_API_Key alone does not authenticate
200|CHECK|X_API_KEY: ADMIN|X-Tork-API-Key: LOW||beside X_API_KEY, X-Tork-API-Key is the one credential
403|/v1/api-keys|X_API_KEY: ADMIN|X-Tork-API-Key: LOW||... and it is the check-only key that is served
200|/v1/api-keys|X-API-Key: ADMIN|X_API_KEY: ADMIN||X_API_KEY repeating the same key changes nothing
200|CHECK|X-API-Key: ADMIN|||X-API-Key alone authenticates
200|CHECK|x-tork-api-key: ADMIN|||x-tork-api-key alone authenticates
'

credentials() {
	local low want path h h1 h2 h3 what order
	local -a headers
	create_key check-only '["killswitch:check"]'
	low=$NEW_KEY

	while IFS='|' read -r want path h1 h2 h3 what; do
		[ -n "$want" ] || continue
		[ "$path" = CHECK ] && path=$CHECK
		headers=()
		for h in "$h1" "$h2" "$h3"; do
			h=${h//ADMIN/$ADMIN_KEY}
			[ -n "$h" ] && headers+=(-H "${h//LOW/$low}")
		done
		KEY='' api GET "$path" "${headers[@]}"
		if [ "$want" = 400 ]; then
			check_problem 400 conflicting_credentials "$what"
			check "$what: the 400 names no key" \
				[ "$(grep -c -e "$low" -e "$ADMIN_KEY" <<<"$BODY")" = 0 ]
		else
			check_status "$want" "$what"
		fi
	done <<<"$CREDENTIAL_RULES"

	KEY='' api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"conflict"}' \
		-H "X-API-Key: $ADMIN_KEY" -H "Authorization: Bearer $low"
	check_status 400 "a kill with two credentials is refused"
	api GET '/api/v1/kill-switch/check?target_type=agent&target_id=conflict'
	check_json '.is_killed' 'false' "the refused kill stored nothing"

	# a front proxy filtering X-API-Key lets X_API_KEY through: it must not
	# win over (nor stand beside) the key the proxy let in
	for order in before after; do
		if [ $order = before ]; then
			KEY='' api GET /v1/api-keys -H "X_API_KEY: $ADMIN_KEY" -H "X-API-Key: $low"
		else
			KEY='' api GET /v1/api-keys -H "X-API-Key: $low" -H "X_API_KEY: $ADMIN_KEY"
		fi
		case $SERVER in
		lighttpd) # both arrive as HTTP_X_API_KEY: two credentials
			check_problem 400 conflicting_credentials "X_API_KEY $order X-API-Key" ;;
		*) # Apache drops X_API_KEY: the check-only key is served
			check_problem 403 insufficient_scope "X_API_KEY $order X-API-Key" ;;
		esac
	done
}

bodies() {
	local big receipt r2 session delegation other kid
	register finalizer '["s"]'
	agents POST "/v1/agents/$AGENT_ID/receipts" '{"action":"export"}'
	receipt=$(jq -r .id <<<"$BODY")
	local fin="/v1/agents/$AGENT_ID/receipts/$receipt/finalize"

	agents POST "$fin" 'not json'
	check_problem 400 invalid_json "finalize with a body that is not JSON"
	agents POST "$fin" '{"force":true}'
	check_problem 400 unknown_field "finalize with an unknown field"
	check_json '.field' '"force"' "the 400 names the field"
	agents POST "$fin" $'{"note":"\xff\xfe"}'
	check_problem 400 invalid_utf8 "finalize with invalid UTF-8"
	agents POST "$fin" '[]'
	check_problem 400 invalid_json "finalize with an array"
	big=$DATA/big.json
	{ printf '{"x":"'; head -c 71680 /dev/zero | tr '\0' a; printf '"}'; } >"$big"
	agents POST "$fin" "@$big"
	check_problem 413 body_too_large "finalize with 70 KB"
	agents GET "/v1/agents/$AGENT_ID/receipts?status=pending"
	check_json '.count' '1' "the refused finalizes left the receipt pending"
	agents POST "$fin" '{}'
	check_status 200 "finalize with an empty object"
	check_json '.status' '"finalized"' "finalized"
	agents POST "/v1/agents/$AGENT_ID/receipts" '{"action":"export"}'
	r2=$(jq -r .id <<<"$BODY")
	agents POST "/v1/agents/$AGENT_ID/receipts/$r2/finalize"
	check_status 200 "finalize without a body"

	# DELETE routes: api-keys, sessions, delegations (kill switch and
	# emergency shutdown have none)
	create_key doomed '["killswitch:check"]'
	api DELETE "/v1/api-keys/$NEW_KEY_ID" '{"reason":"x"}'
	check_problem 400 body_not_allowed "DELETE an API key with a body"
	api DELETE "/v1/api-keys/$NEW_KEY_ID" '{}'
	check_problem 400 body_not_allowed "DELETE an API key with an empty object"
	api DELETE "/v1/api-keys/$NEW_KEY_ID" 'x' -H 'Transfer-Encoding: chunked'
	check_problem 400 body_not_allowed "DELETE an API key with a chunked body"
	KEY=$NEW_KEY api GET "$CHECK"
	check_status 200 "the key is not revoked"
	api DELETE "/v1/api-keys/$NEW_KEY_ID"
	check_status 200 "DELETE without a body revokes"

	agents POST "/v1/agents/$AGENT_ID/sessions" '{}'
	session=$(jq -r .id <<<"$BODY")
	agents DELETE "/v1/agents/$AGENT_ID/sessions/$session" '{"force":true}'
	check_problem 400 body_not_allowed "DELETE a session with a body"
	agents GET "/v1/agents/$AGENT_ID/sessions"
	check_json "[.data[] | select(.id == \"$session\") | .status]" '["active"]' "the session is not ended"
	agents DELETE "/v1/agents/$AGENT_ID/sessions/$session"
	check_status 200 "DELETE a session without a body"

	other=$AGENT_ID
	register delegate
	agents POST "/v1/agents/$other/delegations" "{\"delegate_agent_id\":\"$AGENT_ID\",\"scopes\":[\"s\"]}"
	[ "$STATUS" = 201 ] || fail "create a delegation (got $STATUS)"
	delegation=$(jq -r .id <<<"$BODY")
	agents DELETE "/v1/agents/$other/delegations/$delegation" 'null'
	check_problem 400 body_not_allowed "DELETE a delegation with a body"
	agents GET "/v1/agents/$other/delegations"
	check_json "[.data[] | select(.id == \"$delegation\") | .status]" '["active"]' "the delegation is not revoked"
	agents DELETE "/v1/agents/$other/delegations/$delegation"
	check_status 200 "DELETE a delegation without a body"

	# GET routes take no body either, in every family (lighttpd answers
	# a GET with a body 400 itself, before the application)
	local get
	for get in "$CHECK" /v1/emergency-shutdown /v1/transparency/sth /v1/api-keys; do
		agents GET "$get" '{}'
		if [ "$SERVER" = lighttpd ]; then
			check_status 400 "GET $get with a body"
		else
			check_problem 400 body_not_allowed "GET $get with a body"
		fi
	done
	api GET "$CHECK"
	check_status 200 "a check without a body"
}

patch_limit() {
	local i codes=""
	register patched
	for i in 1 2 3 4 5; do
		agents PATCH "/v1/agents/$AGENT_ID" "{\"description\":\"d$i\"}"
		codes="$codes $STATUS"
	done
	check "five PATCHes of the description ($codes)" [ "$codes" = " 200 200 200 200 200" ]
	codes=""
	for i in suspended active suspended; do
		agents PATCH "/v1/agents/$AGENT_ID" "{\"status\":\"$i\"}"
		codes="$codes $STATUS"
	done
	check "three status changes within the bucket of 3: the description spent none ($codes)" \
		[ "$codes" = " 200 200 200" ]
	agents PATCH "/v1/agents/$AGENT_ID" '{"status":"active","description":"back"}'
	check_problem 429 rate_limited "a fourth status change is limited"
	check_header 'retry-after' '^[1-9][0-9]*$' "429 carries Retry-After"
	agents GET "/v1/agents/$AGENT_ID"
	check_json '[.status, .description]' '["suspended","d5"]' "the limited PATCH stored nothing"
	agents PATCH "/v1/agents/$AGENT_ID" '{"description":"still"}'
	check_status 200 "a PATCH of the description is not limited"
	api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"after-patch"}'
	check_problem 429 rate_limited "the status changes spent the bucket kills use"
	agents PATCH "/v1/agents/$AGENT_ID" '{"status":"active","bogus":1}'
	check_status 400 "a refused body answers 400, not 429"
}

# A PATCH of status suspends or reactivates: agents:write alone is not enough.
patch_scope() {
	local writer
	register scoped
	create_key writer '["agents:write","agents:read"]'
	writer=$NEW_KEY
	KEY=$writer agents PATCH "/v1/agents/$AGENT_ID" '{"status":"suspended"}'
	check_problem 403 insufficient_scope "PATCH status without agents:suspend"
	check_json '.detail | test("agents:suspend")' true "403 names agents:suspend"
	KEY=$writer agents PATCH "/v1/agents/$AGENT_ID" '{"description":"fine"}'
	check_status 200 "PATCH of the description with agents:write"
	agents POST "/v1/agents/$AGENT_ID/suspend" '{"reason":"operator"}'
	check_status 200 "an operator suspends it"
	KEY=$writer agents PATCH "/v1/agents/$AGENT_ID" '{"status":"active"}'
	check_problem 403 insufficient_scope "agents:write cannot undo the suspension"
	agents GET "/v1/agents/$AGENT_ID"
	check_json '[.status, .description]' '["suspended","fine"]' "the refused PATCH stored nothing"
	agents PATCH "/v1/agents/$AGENT_ID" '{"status":"active"}'
	check_status 200 "a key with agents:suspend reactivates it"
}

# kills N KEY...: N kills by each key in turn, of targets t-1, t-2, ...;
# sets CODES to their statuses
kills() {
	local n=$1 key i t=0
	shift
	CODES=""
	for key; do
		for ((i = 0; i < n; i++)); do
			t=$((t + 1))
			KEY=$key api POST /api/v1/kill-switch/kill \
				"{\"target_type\":\"agent\",\"target_id\":\"t-$t\"}"
			CODES="$CODES $STATUS"
		done
	done
}

# Three keys of one tenant, minted without HTTP (no token spent minting),
# share the tenant's bucket: 3 kills in all, not 3 each.
tenant_limit() {
	local i children=()
	for i in 1 2 3; do
		children+=("$(ctl key-create "$TENANT" "child-$i" killswitch:write 2>/dev/null)")
	done
	kills 3 "${children[@]}"
	check "three keys share their tenant's 3 tokens ($CODES)" \
		[ "$CODES" = " 201 201 201 429 429 429 429 429 429" ]
	check_header 'retry-after' '^[1-9][0-9]*$' "429 carries Retry-After"
	check_json '.detail | test("tenant")' 'true' "the 429 says the tenant's limit"
	api GET '/api/v1/kill-switch/check?target_type=agent&target_id=t-4'
	check_json '.is_killed' 'false' "a limited kill stored nothing"
	KEY=$KEY_B api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"t-b"}'
	check_status 201 "another tenant has its own bucket"
}

# tenant_rate_limit_* set apart from the key's: the admin key mints three
# killers over HTTP (3 of its own tokens, 3 of the tenant's 6); they share
# the 3 left.
tenant_conf() {
	local i children=()
	for i in 1 2 3; do
		create_key "child-$i" '["killswitch:write"]'
		children+=("$NEW_KEY")
	done
	kills 2 "${children[@]}"
	check "minted keys share the tenant's 3 remaining tokens ($CODES)" \
		[ "$CODES" = " 201 201 201 429 429 429" ]
	check_json '.detail | test("tenant")' 'true' "the 429 says the tenant's limit"
}

for_each_server credentials
for_each_server bodies
for_each_server patch_scope
LIMIT="rate_limit_per_minute=1 rate_limit_burst=3"
CONF_OVERRIDES=$LIMIT for_each_server patch_limit
CONF_OVERRIDES=$LIMIT for_each_server tenant_limit
CONF_OVERRIDES="$LIMIT tenant_rate_limit_per_minute=1 tenant_rate_limit_burst=6" \
	for_each_server tenant_conf
finish
