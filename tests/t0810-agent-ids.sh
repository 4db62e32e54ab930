#!/usr/bin/env bash
# t0810: a registry agent is one kill-switch target whichever of its two ids
# (id, agent_id) names it (issue 11, item 2).  Every combination of a kill by
# one id and an observation by each: the check, the context check
# (agent_id= alone and with a run and a mission), introspection of a session
# opened before the kill, and opening a new session; then a second kill by
# the other id (409), the active list and the history by either id, and a
# revive by the other id that lifts it everywhere.  Kills by both ids at
# once: exactly one switch.  A switch on an id-shaped target that no agent
# has yet stays that target's.  Another tenant naming this tenant's ids
# reaches none of it.
CONF_OVERRIDES="rate_limit_per_minute=100000 rate_limit_burst=100000"
. "$(dirname "$0")/setup.sh"

agents() {
	api "$1" "$2" "${3:-}" -H "X-Tenant-ID: $TENANT" "${@:4}"
}

# register NAME: sets ID (agent_id) and UUID (id).
register() {
	agents POST /v1/agents "{\"agent_type\":\"worker\",\"display_name\":\"$1\",\"scopes\":[\"s\"]}"
	[ "$STATUS" = 201 ] || fail "register $1 (got $STATUS)"
	ID=$(jq -r .agent_id <<<"$BODY")
	UUID=$(jq -r .id <<<"$BODY")
}

# session REF: opens a session, sets TOKEN ("" when refused).
session() {
	agents POST "/v1/agents/$1/sessions" '{}'
	TOKEN=$(jq -r '.token // empty' <<<"$BODY")
}

introspect() {
	agents POST /v1/sessions/introspect "{\"token\":\"$1\"}"
}

kill_by() {
	api POST /api/v1/kill-switch/kill "{\"target_type\":\"agent\",\"target_id\":\"$1\",\"reason\":\"${2:-ids}\"}"
}

revive_by() {
	api POST /api/v1/kill-switch/revive "{\"target_type\":\"agent\",\"target_id\":\"$1\"}"
}

# name REF: "id" or "agent_id", for the test descriptions.
name() {
	if [ "$1" = "$UUID" ]; then echo id; else echo agent_id; fi
}

# observe_killed KS: every way of looking at the agent sees switch KS.
observe_killed() {
	local ks=$1 ref n
	for ref in "$UUID" "$ID"; do
		n=$(name "$ref")
		api GET "/api/v1/kill-switch/check?target_type=agent&target_id=$ref"
		check_json '[.is_killed, .target_type, .target_id, .kill_switch_id, .source]' \
			"[true,\"agent\",\"$ref\",\"$ks\",\"kill_switch\"]" "$KILLED_BY: check by $n is killed"
		api GET "/api/v1/kill-switch/check?agent_id=$ref"
		check_json '[.is_killed, .target_type, .target_id, .kill_switch_id]' \
			"[true,\"agent\",\"$ref\",\"$ks\"]" "$KILLED_BY: context check agent_id=$n is killed"
		api GET "/api/v1/kill-switch/check?agent_id=$ref&run_id=r-$n&mission_id=m-$n&action=pay"
		check_json '[.is_killed, .target_type, .target_id, .kill_switch_id]' \
			"[true,\"agent\",\"$ref\",\"$ks\"]" "$KILLED_BY: context check agent_id=$n with a run and a mission is killed"
		agents POST "/v1/agents/$ref/sessions" '{}'
		check_status 409 "$KILLED_BY: a session cannot be opened by $n"
		check_json '.code' '"kill_switch_active"' "$KILLED_BY: ... refused as kill_switch_active"
		agents GET "/v1/agents/$ref"
		check_json '.session_count' '1' "$KILLED_BY: ... and none was stored (by $n)"
	done
	introspect "$OLD_TOKEN"
	check_json '.' '{"active":false}' "$KILLED_BY: a session opened before the kill is inactive"
}

# observe_running: every way of looking at the agent sees no switch.
observe_running() {
	local what=$1 ref n
	for ref in "$UUID" "$ID"; do
		n=$(name "$ref")
		api GET "/api/v1/kill-switch/check?target_type=agent&target_id=$ref"
		check_json '[.is_killed, .target_id]' "[false,\"$ref\"]" "$what: check by $n is not killed"
		api GET "/api/v1/kill-switch/check?agent_id=$ref&run_id=r-$n"
		check_json '.is_killed' 'false' "$what: context check agent_id=$n is not killed"
	done
	introspect "$OLD_TOKEN"
	check_json '.active' 'true' "$what: the session opened before is active"
	session "$UUID"
	check_status 201 "$what: a session opens"
	agents DELETE "/v1/agents/$UUID/sessions/$(jq -r .id <<<"$BODY")"
}

active_count() {
	api GET /metrics
	sed -n 's/^andon_kill_switches_active //p' <<<"$BODY"
}

# One kill by id or agent_id, observed by both, revived by the other.
combination() {
	local by=$1 ks ks2 kill_ref other_ref before ref
	register "combo-$by"
	if [ "$by" = id ]; then kill_ref=$UUID other_ref=$ID; else kill_ref=$ID other_ref=$UUID; fi
	KILLED_BY="kill by $by"
	session "$kill_ref"
	OLD_TOKEN=$TOKEN
	before=$(active_count)
	observe_running "before the $KILLED_BY"

	kill_by "$kill_ref" "compromised"
	check_status 201 "$KILLED_BY"
	check_json '.target_id' "\"$kill_ref\"" "$KILLED_BY: the record keeps the id the kill named"
	ks=$(jq -r .id <<<"$BODY")
	observe_killed "$ks"

	kill_by "$other_ref"
	check_status 409 "$KILLED_BY: a kill by the other id is already_killed"
	check_json '.code' '"already_killed"' "$KILLED_BY: ... with code already_killed"
	api GET '/api/v1/kill-switch/active?limit=1000'
	check_json "[.data[] | select(.target_id == \"$UUID\" or .target_id == \"$ID\") | .id]" \
		"[\"$ks\"]" "$KILLED_BY: one active switch for the agent"
	check "$KILLED_BY: /metrics counts one more active switch" [ "$(active_count)" = $((before + 1)) ]
	for ref in "$UUID" "$ID"; do
		api GET "/api/v1/kill-switch/history?target_type=agent&target_id=$ref"
		check_json '[.count, .data[0].id, .data[0].is_active]' "[1,\"$ks\",true]" \
			"$KILLED_BY: history by $(name "$ref") shows the switch"
	done

	revive_by "$other_ref"
	check_status 200 "$KILLED_BY: revive by the other id"
	check_json '[.id, .is_active, .target_id]' "[\"$ks\",false,\"$kill_ref\"]" \
		"$KILLED_BY: ... revives the same switch"
	observe_running "after the revive by the other id"
	check "$KILLED_BY: /metrics back to its count" [ "$(active_count)" = "$before" ]
	revive_by "$kill_ref"
	check_status 404 "$KILLED_BY: nothing left to revive by the id the kill named"
	revive_by "$other_ref"
	check_status 404 "$KILLED_BY: nor by the other"

	# a second switch, killed by the other id and revived by the same
	kill_by "$other_ref"
	check_status 201 "$KILLED_BY: a new kill by the other id"
	ks2=$(jq -r .id <<<"$BODY")
	KILLED_BY="second kill, by the other id"
	observe_killed "$ks2"
	revive_by "$other_ref"
	check_status 200 "$KILLED_BY: revived by the id it named"
	observe_running "after the second revive"
	for ref in "$UUID" "$ID"; do
		api GET "/api/v1/kill-switch/history?target_type=agent&target_id=$ref"
		check_json '[.count, ([.data[].id] | sort), ([.data[].is_active] | any)]' \
			"[2,$(jq -cn --arg a "$ks" --arg b "$ks2" '[$a,$b] | sort'),false]" \
			"history by $(name "$ref") shows both switches, neither active"
	done
}

combinations() {
	combination id
	combination agent_id
	check "chain and log verify" ctl verify
}

# Kills by both ids at once: exactly one switch.
concurrent() {
	local i ref created conflicts
	register raced
	for i in $(seq 16); do
		if ((i % 2)); then ref=$UUID; else ref=$ID; fi
		curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 -X POST \
			-H "X-API-Key: $ADMIN_KEY" -H 'Content-Type: application/json' \
			-d "{\"target_type\":\"agent\",\"target_id\":\"$ref\"}" \
			"$BASE/api/v1/kill-switch/kill" >"$DATA/race.$i" &
	done
	wait
	created=$(cat "$DATA"/race.* | grep -c '^201$')
	conflicts=$(cat "$DATA"/race.* | grep -c '^409$')
	check "16 concurrent kills by both ids: exactly one 201 (got $created)" [ "$created" = 1 ]
	check "... and 15 409s (got $conflicts)" [ "$conflicts" = 15 ]
	api GET "/api/v1/kill-switch/history?target_type=agent&target_id=$UUID"
	check_json '.count' '1' "one switch in the history"
}

# Both ids are minted at registration, so no kill can name an agent before
# it exists: a switch on an id-shaped target stays that target's, and a new
# agent starts unswitched.
before_register() {
	local uuid=7d1f6c1e-8a4b-4c2d-9e3f-0a1b2c3d4e5f ref
	local maip="maip:$TENANT:01J00000000000000000000000"
	kill_by "$uuid"
	check_status 201 "a kill of an id-shaped target no agent has"
	kill_by "$maip"
	check_status 201 "a kill of an agent_id-shaped target no agent has"
	register fresh
	for ref in "$UUID" "$ID"; do
		api GET "/api/v1/kill-switch/check?target_type=agent&target_id=$ref"
		check_json '.is_killed' 'false' "the new agent is not killed (by $(name "$ref"))"
	done
	session "$ID"
	check_status 201 "the new agent opens sessions"
	for ref in "$uuid" "$maip"; do
		api GET "/api/v1/kill-switch/check?target_type=agent&target_id=$ref"
		check_json '[.is_killed, .target_id]' "[true,\"$ref\"]" "the id-shaped target $ref is still killed"
	done
	revive_by "$uuid"
	check_status 200 "and revived by its own name"
}

# Tenant B names tenant A's ids: its own targets, never A's agent.
tenants() {
	local a_uuid a_id ks_b
	register isolated
	a_uuid=$UUID
	a_id=$ID
	session "$a_id"
	OLD_TOKEN=$TOKEN

	KEY=$KEY_B kill_by "$a_uuid" "tenant b"
	check_status 201 "tenant B kills a target named like A's agent id"
	ks_b=$(jq -r .id <<<"$BODY")
	KEY=$KEY_B api GET "/api/v1/kill-switch/check?target_type=agent&target_id=$a_id"
	check_json '.is_killed' 'false' "B's switch on A's id does not reach A's agent_id in B"
	KILLED_BY="tenant B's kill"
	observe_running "after tenant B's kill of A's id"
	KEY=$KEY_B kill_by "$a_id" "tenant b"
	check_status 201 "B's kill of A's agent_id is another target of B's (no registry agent in B)"
	observe_running "after tenant B's kills of both of A's ids"

	kill_by "$a_uuid" "tenant a"
	check_status 201 "A kills its agent by id"
	KEY=$KEY_B api GET "/api/v1/kill-switch/check?target_type=agent&target_id=$a_uuid"
	check_json '[.is_killed, .kill_switch_id]' "[true,\"$ks_b\"]" "B's check of A's id sees B's own switch only"
	KEY=$KEY_B revive_by "$a_id"
	check_status 200 "B revives its own target named like A's agent_id"
	KEY=$KEY_B api GET "/api/v1/kill-switch/check?target_type=agent&target_id=$a_id"
	check_json '.is_killed' 'false' "A's switch is not seen by B through A's other id"
	KEY=$KEY_B api GET "/api/v1/kill-switch/history?target_type=agent&target_id=$a_id"
	check_json '[.data[].organization_id] | unique' "[\"$TENANT_B\"]" "B's history of A's agent_id holds B's records only"
	api GET "/api/v1/kill-switch/check?target_type=agent&target_id=$a_id"
	check_json '.is_killed' 'true' "A's switch still holds A's agent by agent_id"
	KEY=$KEY_B revive_by "$a_uuid"
	check_status 200 "B revives its target named like A's id"
	api GET "/api/v1/kill-switch/check?target_type=agent&target_id=$a_id"
	check_json '.is_killed' 'true' "B's revive leaves A's switch"
	revive_by "$a_id"
	check_status 200 "A revives by agent_id"
	KILLED_BY="A's revive"
	observe_running "after A's revive"
}

run() {
	combinations
	concurrent
	before_register
	tenants
}

for_each_server run
finish
