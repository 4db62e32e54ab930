#!/usr/bin/env bash
# t1140: a halt never blocks a stop (issue 18).  Three sites in network
# namespaces (tests/replication-sites.sh); site 1 is the master.  Every
# site's link goes down: no quorum anywhere, no master can be elected.
# Asserts: a kill sent to replica site 2 (once it knows it has no master)
# answers 202 with status "pending" and is kept in site 2's own store
# (DATA/stops), and a check on site 2 answers killed at once (source
# local_stop), by target_type/target_id and in a context check; the same
# kill sent again with its Idempotency-Key answers the same 202; another
# kill of the target answers 409 already_killed; a revival is still
# refused (503, writes need a master); a check of another target on site
# 2 is not killed.  Healed: site 2 hands the kill to the master, the
# master's history of the target holds exactly one kill, site 2's store is
# empty again and its check answers killed from the replicated record;
# the kill sent once more through site 2 with its Idempotency-Key (curl
# -L) is replayed by the master: 201 with the same id, still one kill.
# Needs root and ip(8); skipped (77) otherwise.
. "$(dirname "$0")/setup.sh"
. "$(dirname "$0")/replication-sites.sh"

KILL_BODY='{"target_type":"agent","target_id":"lonely-bot","reason":"cut off"}'

kill_on_2() {   # until site 2 keeps it
	use_site 2
	api POST /api/v1/kill-switch/kill "$KILL_BODY" -H 'Idempotency-Key: stop-1'
	[ "$STATUS" = 202 ]
}

stops_empty() {
	[ -z "$(ls -A "${SDATA[2]}/stops" 2>/dev/null | grep -v '^\.')" ]
}

master_has_one() {
	use_site 1
	api GET '/api/v1/kill-switch/history?target_type=agent&target_id=lonely-bot'
	[ "$STATUS" = 200 ] && [ "$(jq -r .count <<<"$BODY")" = 1 ]
}

stop() {
	local i id
	start_group
	for i in 1 2 3; do ip -n "${NS[i]}" link set eth0 down; done
	wait_until 30 "no master: a kill sent to site 2 answers 202" kill_on_2
	check_json .status '"pending"' "the 202 says pending"
	check_json .target_id '"lonely-bot"' "the 202 names the target"
	check_json '.id | startswith("lks_")' true "the 202 carries the kept kill's id"
	id=$(jq -r .id <<<"$BODY")
	[ -n "$(ls "${SDATA[2]}/stops/" 2>/dev/null)" ] && ok "site 2 keeps it in DATA/stops" ||
		fail "site 2 keeps it in DATA/stops"
	use_site 2
	api GET '/api/v1/kill-switch/check?target_type=agent&target_id=lonely-bot'
	check_json .is_killed true "a check on site 2 answers killed at once"
	check_json .source '"local_stop"' "... from the kept kill"
	check_json .reason '"cut off"' "... with its reason"
	api GET '/api/v1/kill-switch/check?agent_id=lonely-bot&run_id=r1'
	check_json .is_killed true "a context check on site 2 answers killed"
	api GET '/api/v1/kill-switch/check?target_type=agent&target_id=other-bot'
	check_json .is_killed false "another target is not killed"
	api POST /api/v1/kill-switch/kill "$KILL_BODY" -H 'Idempotency-Key: stop-1'
	check_status 202 "the same kill with its Idempotency-Key answers 202 again"
	check_json .id "\"$id\"" "... the same kept kill"
	api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"lonely-bot"}'
	check_status 409 "another kill of the target answers 409"
	check_json .code '"already_killed"' "... already_killed"
	api POST /api/v1/kill-switch/kill '{"target_type":"agent"}'
	check_status 400 "a bad kill is still refused (400), nothing kept"
	api POST /api/v1/kill-switch/revive '{"target_type":"agent","target_id":"lonely-bot"}'
	check_status 503 "a revival without a master is refused (503)"
	[ "$(ls -A "${SDATA[2]}/stops" | grep -vc '^\.')" = 1 ] &&
		ok "site 2 keeps one kill" || fail "site 2 keeps one kill: $(ls -A "${SDATA[2]}/stops")"

	# heal: the kept kill reaches the master, once
	for i in 1 2 3; do ip -n "${NS[i]}" link set eth0 up; done
	wait_until 60 "healed: the master has the kill, once" master_has_one
	wait_until 30 "site 2 forgets the kept kill" stops_empty
	use_site 2
	api GET '/api/v1/kill-switch/check?target_type=agent&target_id=lonely-bot'
	check_json .is_killed true "site 2's check answers killed from the replicated record"
	check_json .source '"kill_switch"' "... the master's kill switch"
	use_site 2
	api POST /api/v1/kill-switch/kill "$KILL_BODY" -L -H 'Idempotency-Key: stop-1'
	check_status 201 "the kill resent with its Idempotency-Key is replayed by the master"
	master_has_one && ok "still one kill on the master" || fail "still one kill on the master"
	stop_sites
	del_net
}

for SERVER in ${ANDON_TEST_SERVERS:-lighttpd apache}; do
	stop
done
finish
