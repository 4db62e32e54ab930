#!/usr/bin/env bash
# t0750: a killed agent checking with a new action on every call does not
# open a stored intervention per call (issue 12).  Each kill switch opens at
# most 16 new aggregation slots per process and flush interval; the rest of
# the new combinations are counted in the switch's one overflow slot
# ("overflow": true), and every blocked check is counted somewhere: the
# counts of the switch's interventions add up to the checks sent.
CONF_OVERRIDES="intervention_flush_ms=2000"
. "$(dirname "$0")/setup.sh"

N=200
# processes per executable: 2 (lighttpd), at most 4 (mod_fcgid); a burst
# of checks spans at most two flush intervals of each
MAX_RECORDS=$((2 * 16 * 4 + 1))

# checks URL: sends the N checks over one connection, prints how many
# answered 200 with is_killed true
checks() {
	curl -s --max-time 60 -H "X-API-Key: $ADMIN_KEY" \
		-w '\n' "$1" | jq -s '[.[] | select(.is_killed == true)] | length'
}

run() {
	api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"hammer-bot","reason":"t0750"}'
	check_status 201 "kill"
	KS=$(jq -r .id <<<"$BODY")

	got=$(checks "$BASE/api/v1/kill-switch/check?target_type=agent&target_id=hammer-bot&action=act-[1-$N]")
	[ "$got" = "$N" ] && ok "$N checks with distinct actions answered killed" ||
		fail "$N checks with distinct actions answered killed (got $got)"
	# the other process(es) write on their idle tick once the interval passed
	sleep 3.5
	api GET '/api/v1/interventions?type=hard_block&limit=1000'
	check_status 200 "interventions listed"
	local mine total records overflow
	mine=$(jq --arg ks "$KS" '[.interventions[] | select(.kill_switch_id == $ks)]' <<<"$BODY")
	total=$(jq '[.[].count] | add' <<<"$mine")
	records=$(jq 'length' <<<"$mine")
	overflow=$(jq '[.[] | select(.overflow == true)] | length' <<<"$mine")
	[ "$total" = "$N" ] && ok "the counts add up to the $N blocked checks" ||
		fail "the counts add up to the $N blocked checks (got $total)"
	[ "$records" -le "$MAX_RECORDS" ] && ok "at most $MAX_RECORDS interventions stored ($records)" ||
		fail "at most $MAX_RECORDS interventions stored (got $records)"
	[ "$overflow" = 1 ] && ok "one overflow intervention" ||
		fail "one overflow intervention (got $overflow)"
	jq -e '.[] | select(.overflow == true) | .action_name == null and .agent_id == null and .count > 0 and .kill_switch_id != null' \
		<<<"$mine" >/dev/null && ok "the overflow names the switch, not one action" ||
		fail "the overflow names the switch, not one action: $(jq -c '.[] | select(.overflow == true)' <<<"$mine")"

	# the same action again is counted in its own slot, not the overflow
	api GET '/api/v1/kill-switch/check?target_type=agent&target_id=hammer-bot&action=act-1'
	check_json '.is_killed' 'true' "a repeated action still answers killed"
	sleep 3.5
	api GET '/api/v1/interventions?type=hard_block&limit=1000'
	total=$(jq --arg ks "$KS" '[.interventions[] | select(.kill_switch_id == $ks) | .count] | add' <<<"$BODY")
	[ "$total" = "$((N + 1))" ] && ok "one more check, one more count" ||
		fail "one more check, one more count (got $total)"
}

for_each_server run
finish
