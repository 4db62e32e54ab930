#!/usr/bin/env bash
# t0820: secrets (issue 11, items 3 and 8).
#
# A secret (an API key, a session token) is shown in exactly one response:
# an Idempotency-Key replay of its creation answers the same status and
# record with the secret member null and "Secret-Withheld: <member>", and
# no secret this test created (nor its part behind the public prefix) is
# found in the data directory (Berkeley DB files, log.* files, __db.*
# regions), the servers' logs, the audit JSON-lines file or a hot backup,
# before and after a checkpoint.
#
# A created key never expires later than the key that created it: from an
# expiring creator, expires_at null or later than the creator's is 400
# (nothing stored) and an absent expires_at is the creator's.
. "$(dirname "$0")/setup.sh"

SECRETS=()

agents() {
	api "$1" "$2" "${3:-}" -H "X-Tenant-ID: $TENANT" "${@:4}"
}

# remember SECRET DESC: keeps the whole secret and its secret part (what
# follows the public "andon_<16 hex>_" or "ast_"), after checking its form
# so that an empty or odd value cannot make the search vacuous.
remember() {
	case $1 in
	andon_????????????????_*) SECRETS+=("$1" "${1:23}") ;;
	ast_*) SECRETS+=("$1" "${1:4}") ;;
	*) fail "$2: '$1' is not a key or a token"; return ;;
	esac
	if [ "${#SECRETS[-1]}" = 43 ]; then ok "$2"; else fail "$2: secret part of ${#SECRETS[-1]} characters"; fi
}

# secrets_absent DESC PATH...: no remembered secret in any file under the
# paths, read as bytes (grep -a -F); curl's own copies of the last answer
# (.body, .headers) excluded.
secrets_absent() {
	local desc=$1 s found
	local -a pats=()
	shift
	for s in "${SECRETS[@]}"; do pats+=(-e "$s"); done
	found=$(grep -r -a -F -l --exclude=.body --exclude=.headers "${pats[@]}" "$@" 2>/dev/null)
	if [ -z "$found" ]; then
		ok "$desc"
	else
		fail "$desc: found in $(tr '\n' ' ' <<<"$found")"
	fi
}

# present PATTERN DESC PATH...: the search does see the files (a public
# value written beside the secrets is found).
present() {
	local pattern=$1 desc=$2
	shift 2
	if grep -r -a -F -q --exclude=.body --exclude=.headers -e "$pattern" "$@" 2>/dev/null; then
		ok "$desc"
	else
		fail "$desc: $pattern not found"
	fi
}

# Audit events also go to a JSON-lines file in the log directory.
audit_to_file() {
	sed -i "s|^audit_jsonl *=.*|audit_jsonl = $DATA/log/audit.jsonl|" "$DATA/andon.conf"
	restart_server
}

secrets_nowhere() {
	local first id prefix sid agent n minter
	audit_to_file
	remember "$ADMIN_KEY" "the setup's first key (andonctl)"
	remember "$KEY_B" "the setup's second key (andonctl)"
	remember "$(ctl key-create "$TENANT" cli 'killswitch:check' 2>/dev/null)" "andonctl key-create"

	# API keys
	api POST /v1/api-keys '{"name":"plain","scopes":["killswitch:check"]}'
	check_status 201 "a key without Idempotency-Key"
	remember "$(jq -r .key <<<"$BODY")" "its secret is shown"
	api POST /v1/api-keys '{"name":"retried","scopes":["killswitch:check"]}' -H 'Idempotency-Key: key-1'
	check_status 201 "a key with an Idempotency-Key"
	first=$(jq -r .key <<<"$BODY")
	id=$(jq -r .id <<<"$BODY")
	prefix=$(jq -r .prefix <<<"$BODY")
	remember "$first" "its secret is shown the first time"
	check_header 'secret-withheld' '^$' "the first answer withholds nothing"
	for n in 1 2; do
		api POST /v1/api-keys '{"name":"retried","scopes":["killswitch:check"]}' -H 'Idempotency-Key: key-1'
		check_status 201 "replay $n: the same status"
		check_header 'idempotent-replayed' '^true$' "replay $n: Idempotent-Replayed"
		check_header 'secret-withheld' '^key$' "replay $n: Secret-Withheld: key"
		check_json '.key' 'null' "replay $n: the key is null"
		check_json "[.id, .prefix, .name]" "[\"$id\",\"$prefix\",\"retried\"]" "replay $n: the same record"
		check "replay $n: the secret is nowhere in the answer" \
			bash -c '! grep -qF -- "$1" <<<"$2$3"' _ "${first:23}" "$BODY" "$HEADERS"
	done
	api POST /v1/api-keys '{"name":"other","scopes":["killswitch:check"]}' -H 'Idempotency-Key: key-1'
	check_status 422 "the same Idempotency-Key with another body is still 422"
	api GET /v1/api-keys
	check_json "[.data[] | select(.name == \"retried\")] | length" '1' "the replays created no key"
	KEY=$first api GET '/api/v1/kill-switch/check?target_type=agent&target_id=x'
	check_status 200 "the key shown the first time works"

	# a key made by a key
	api POST /v1/api-keys '{"name":"minter","scopes":["keys:admin","killswitch:check"]}'
	minter=$(jq -r .key <<<"$BODY")
	remember "$minter" "a keys:admin key"
	KEY=$minter api POST /v1/api-keys '{"name":"minted","scopes":["killswitch:check"]}' -H 'Idempotency-Key: key-2'
	check_status 201 "a key made by a key, with an Idempotency-Key"
	remember "$(jq -r .key <<<"$BODY")" "its secret is shown"
	KEY=$minter api POST /v1/api-keys '{"name":"minted","scopes":["killswitch:check"]}' -H 'Idempotency-Key: key-2'
	check_json '.key' 'null' "its replay withholds it"

	# sessions
	agents POST /v1/agents '{"agent_type":"bot","display_name":"holder"}'
	agent=$(jq -r .id <<<"$BODY")
	agents POST "/v1/agents/$agent/sessions" '{}'
	check_status 201 "a session without Idempotency-Key"
	remember "$(jq -r .token <<<"$BODY")" "its token is shown"
	agents POST "/v1/agents/$agent/sessions" '{"ttl_seconds":600}' -H 'Idempotency-Key: ses-1'
	check_status 201 "a session with an Idempotency-Key"
	first=$(jq -r .token <<<"$BODY")
	sid=$(jq -r .id <<<"$BODY")
	remember "$first" "its token is shown the first time"
	agents POST "/v1/agents/$agent/sessions" '{"ttl_seconds":600}' -H 'Idempotency-Key: ses-1'
	check_status 201 "session replay: the same status"
	check_header 'idempotent-replayed' '^true$' "session replay: Idempotent-Replayed"
	check_header 'secret-withheld' '^token$' "session replay: Secret-Withheld: token"
	check_json '.token' 'null' "session replay: the token is null"
	check_json "[.id, .token_type, .expires_in]" "[\"$sid\",\"Bearer\",600]" "session replay: the same session"
	check "session replay: the token is nowhere in the answer" \
		bash -c '! grep -qF -- "$1" <<<"$2$3"' _ "${first:4}" "$BODY" "$HEADERS"
	agents GET "/v1/agents/$agent/sessions"
	check_json '.count' '2' "the replay opened no session"
	agents POST /v1/sessions/introspect "{\"token\":\"$first\"}"
	check_json '.active' 'true' "the token shown the first time is active"

	# where secrets could land (andonctl siem writes the audit file)
	check "andonctl siem --once writes the audit file" ctl siem --once
	check "the audit file is written" test -s "$DATA/log/audit.jsonl"
	present "$prefix" "the search sees the database (a key's public prefix)" "$DATA"
	present "$sid" "the search sees the audit file" "$DATA/log/audit.jsonl"
	check "the data directory holds Berkeley DB log files and regions" \
		test -n "$(find "$DATA" -name 'log.*')" -a -n "$(find "$DATA" -name '__db.*')"
	secrets_absent "no secret in the data directory, its logs and regions" "$DATA"
	check "andonctl checkpoint" ctl checkpoint
	secrets_absent "no secret in the data directory after a checkpoint" "$DATA"
	check "hot backup" ctl backup "$DATA/backup"
	present "$prefix" "the search sees the backup" "$DATA/backup"
	secrets_absent "no secret in the backup" "$DATA/backup"
	secrets_absent "no secret in the servers' logs and the audit file" "$DATA/log"
}

# RFC 3339 UTC of $2 (default: now) + $1 seconds
at() {
	date -u -d "@$(($(date -u -d "${2:-now}" +%s) + $1))" +%Y-%m-%dT%H:%M:%SZ
}

# keys and audit events, to show a refusal stored nothing
state() {
	KEY=$ADMIN_KEY api GET /v1/api-keys
	printf '%s keys, %s events' "$(jq .count <<<"$BODY")" \
		"$(ctl verify | sed -n 's/^ok: \([0-9]*\) audit events.*/\1/p')"
}

# refused DESC BODY: 400 invalid_field naming expires_at, nothing stored
refused() {
	local before
	before=$(state)
	KEY=$CREATOR api POST /v1/api-keys "$2"
	check_status 400 "$1: 400"
	check_json '[.code, .field]' '["invalid_field","expires_at"]' "$1: invalid_field, field expires_at"
	check_json '.detail | test("expires")' 'true' "$1: the detail says why"
	check "$1: nothing stored" test "$(state)" = "$before"
}

expiry_bounded() {
	local exp child
	api POST /v1/api-keys "{\"name\":\"hour\",\"scopes\":[\"keys:admin\",\"killswitch:check\"],\"expires_at\":\"$(at 3600)\"}"
	check_status 201 "a key that expires in an hour"
	CREATOR=$(jq -r .key <<<"$BODY")
	exp=$(jq -r .expires_at <<<"$BODY")

	refused "expires_at null from an expiring key" '{"name":"c","scopes":["killswitch:check"],"expires_at":null}'
	refused "expires_at in year 9999" '{"name":"c","scopes":["killswitch:check"],"expires_at":"9999-12-31T23:59:59Z"}'
	refused "expires_at one second after the creator's" \
		"{\"name\":\"c\",\"scopes\":[\"killswitch:check\"],\"expires_at\":\"$(at 1 "$exp")\"}"
	refused "expires_at in two hours" "{\"name\":\"c\",\"scopes\":[\"killswitch:check\"],\"expires_at\":\"$(at 7200)\"}"

	KEY=$CREATOR api POST /v1/api-keys "{\"name\":\"c\",\"scopes\":[\"killswitch:check\"],\"expires_at\":\"$exp\"}"
	check_status 201 "expires_at equal to the creator's"
	check_json '.expires_at' "\"$exp\"" "kept as given"
	KEY=$CREATOR api POST /v1/api-keys "{\"name\":\"c\",\"scopes\":[\"killswitch:check\"],\"expires_at\":\"$(at 1800)\"}"
	check_status 201 "expires_at before the creator's"
	KEY=$CREATOR api POST /v1/api-keys '{"name":"c","scopes":["keys:admin","killswitch:check"]}'
	check_status 201 "expires_at absent"
	check_json '.expires_at' "\"$exp\"" "an absent expires_at is the creator's"
	child=$(jq -r .key <<<"$BODY")
	CREATOR=$child refused "a grandchild asking for null" '{"name":"g","scopes":["killswitch:check"],"expires_at":null}'
	KEY=$child api POST /v1/api-keys '{"name":"g","scopes":["killswitch:check"]}'
	check_json '.expires_at' "\"$exp\"" "a grandchild inherits the same bound"

	# creators that do not expire are unaffected
	api POST /v1/api-keys '{"name":"n","scopes":["killswitch:check"],"expires_at":null}'
	check_status 201 "a key that never expires may create one with null"
	check_json '.expires_at' 'null' "which never expires"
	api POST /v1/api-keys '{"name":"n","scopes":["keys:admin","killswitch:check"],"expires_at":"9999-12-31T23:59:59Z"}'
	check_status 201 "or one in year 9999"
	KEY=$(jq -r .key <<<"$BODY") api POST /v1/api-keys '{"name":"n","scopes":["killswitch:check"]}'
	check_status 201 "a key expiring in 9999 may create one without expires_at"
	check_json '.expires_at' '"9999-12-31T23:59:59.000Z"' "which expires with it"
	api POST /v1/api-keys '{"name":"n","scopes":["killswitch:check"]}'
	check_json '.expires_at' 'null' "a key that never expires, without expires_at, creates one that never expires"
	check "andonctl key-create is unaffected" bash -c '"$@" >/dev/null 2>&1' _ \
		"$ANDONCTL" -c "$DATA/andon.conf" -d "$DATA" key-create "$TENANT" cli 'killswitch:check' --expires 9999-12-31T23:59:59Z
}

export CONF_OVERRIDES="rate_limit_per_minute=100000 rate_limit_burst=100000"
for_each_server secrets_nowhere
for_each_server expiry_bounded
finish
