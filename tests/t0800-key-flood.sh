#!/usr/bin/env bash
# t0800: a known key id with wrong secrets costs what an unknown key id
# costs (issue 11.1).  Key ids are public (killed_by, activated_by,
# receipts), so an attacker can send them with any secret; each wrong
# secret is refused by the pepper's keyed hash (lib/pepper.h), never by an
# Argon2 run.  Measured as the FastCGI processes' CPU time for the same
# number of requests, against unknown key ids in the same run.
. "$(dirname "$0")/setup.sh"

CHECK='/api/v1/kill-switch/check?target_type=agent&target_id=flood'
N=100

# CPU time (clock ticks) of the kill-switch processes of this instance.
app_cpu() {
	local pid total=0 stat
	for pid in $(app_pids killswitch.fcgi); do
		stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
		stat=${stat##*) }
		set -- $stat
		total=$((total + ${12} + ${13}))
	done
	echo "$total"
}

random_secret() {
	head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' | head -c 43
}

# flood HEX-ID-OR-"random": N checks, one curl, a fresh secret each; sets
# FLOOD_CPU (ticks) and FLOOD_CODES (sorted unique statuses with counts).
flood() {
	local id=$1 i hex before after
	local -a args=()
	for ((i = 0; i < N; i++)); do
		hex=$id
		[ "$id" = random ] && hex=$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
		args+=(-s -o /dev/null -w '%{http_code}\n' -H "X-API-Key: andon_${hex}_$(random_secret)" "$BASE$CHECK")
		((i < N - 1)) && args+=(--next)
	done
	before=$(app_cpu)
	FLOOD_CODES=$(curl -s ${PARALLEL:+--parallel --parallel-max 8} "${args[@]}" |
		sort | uniq -c | tr -s ' ' | tr '\n' ';')
	after=$(app_cpu)
	FLOOD_CPU=$((after - before))
}

# assert COMMAND... DESC
assert() {
	local desc=${*: -1}
	check "$desc" "${@:1:$#-1}"
}

key_hex() {
	local k=$1
	k=${k#andon_}
	echo "${k%%_*}"
}

flood_costs_like_unknown_ids() {
	local admin_hex revoked revoked_hex unknown_cpu body_unknown body_wrong
	admin_hex=$(key_hex "$ADMIN_KEY")
	api GET "$CHECK"
	check_status 200 "the admin key works"

	# warm both processes' caches, then the baseline: unknown key ids
	flood random
	flood random
	unknown_cpu=$FLOOD_CPU
	assert test "$FLOOD_CODES" = " $N 401;" "$N unknown key ids: all 401 ($FLOOD_CODES)"

	flood "$admin_hex"
	assert test "$FLOOD_CODES" = " $N 401;" "$N wrong secrets for a real key id: all 401 ($FLOOD_CODES)"
	# Argon2id at the shipped cost is ~20 ms of CPU: $N of them would be
	# about 200 ticks; the keyed hash is far below a tick each.
	assert test "$FLOOD_CPU" -le $((2 * unknown_cpu + 25)) \
		"wrong secrets for a real key id cost no more than unknown ids ($FLOOD_CPU vs $unknown_cpu ticks for $N)"

	api POST /v1/api-keys '{"name":"soon-revoked","scopes":["killswitch:check"]}'
	check_status 201 "a key to revoke"
	revoked=$(jq -r .key <<<"$BODY")
	api DELETE "/v1/api-keys/$(jq -r .id <<<"$BODY")"
	check_status 200 "revoked"
	revoked_hex=$(key_hex "$revoked")
	flood "$revoked_hex"
	assert test "$FLOOD_CODES" = " $N 401;" "wrong secrets for a revoked key: all 401"
	assert test "$FLOOD_CPU" -le $((2 * unknown_cpu + 25)) \
		"wrong secrets for a revoked key cost no more than unknown ids ($FLOOD_CPU vs $unknown_cpu ticks)"

	# the two refusals say the same thing (no oracle in the answer)
	KEY="andon_0123456789abcdef_$(random_secret)" api GET "$CHECK"
	body_unknown=$(jq -c 'del(.instance, .request_id)' <<<"$BODY")
	KEY="andon_${admin_hex}_$(random_secret)" api GET "$CHECK"
	body_wrong=$(jq -c 'del(.instance, .request_id)' <<<"$BODY")
	assert test "$body_unknown" = "$body_wrong" "unknown id and wrong secret answer alike ($body_wrong)"

	# the valid key still works, and its record never shows the verifier
	api GET "$CHECK"
	check_status 200 "the admin key still works after the floods"
	api GET /v1/api-keys
	check_json '[.data[] | select(has("verifier") or has("hash"))] | length' 0 \
		"listed keys carry neither hash nor verifier"
}

# A key made without the pepper (before it existed, or a restored backup
# under another pepper) is checked by Argon2 within a per-process budget,
# then gains the verifier on its first good use.
key_without_verifier() {
	local legacy legacy_hex pepper=$DATA/andon.pepper
	mv "$pepper" "$pepper.away"
	legacy=$(ctl key-create "$TENANT" legacy 'killswitch:check' 2>/dev/null)
	mv "$pepper.away" "$pepper"
	assert test -n "$legacy" "a key created while the pepper was away"
	legacy_hex=$(key_hex "$legacy")

	# at once, as an attacker would: the budget, not the pace, decides
	N=60 PARALLEL=1 flood "$legacy_hex"
	case $FLOOD_CODES in
	*200*) fail "a wrong secret was accepted ($FLOOD_CODES)" ;;
	*503*) ok "past the Argon2 budget a wrong secret is 503 at once ($FLOOD_CODES)" ;;
	*) fail "no budget: every wrong secret ran Argon2 ($FLOOD_CODES)" ;;
	esac
	KEY="andon_${legacy_hex}_$(random_secret)" api GET "$CHECK"
	if [ "$STATUS" = 503 ]; then
		check_json .code '"key_verification_busy"' "503 names the reason"
		check_header retry-after '^1$' "503 carries Retry-After"
	fi
	# as a client would, honouring Retry-After: the budget is charged by
	# each Argon2 run's measured length, longer on a loaded machine
	local i
	for ((i = 0; i < 10; i++)); do
		sleep 1
		KEY=$legacy api GET "$CHECK"
		[ "$STATUS" = 503 ] || break
	done
	check_status 200 "the key itself works (Argon2, within the budget)"
	sleep 1
	# now it has the pepper's verifier: wrong secrets are cheap 401s
	N=60 PARALLEL=1 flood "$legacy_hex"
	assert test "$FLOOD_CODES" = " 60 401;" "after its first use, wrong secrets are plain 401s ($FLOOD_CODES)"
	KEY=$legacy api GET "$CHECK"
	check_status 200 "and the key still works"
}

run() {
	flood_costs_like_unknown_ids
	key_without_verifier
}

for_each_server run
finish
