#!/usr/bin/env bash
# t1100: high availability on Berkeley DB's replication manager (issue 18).
# Three sites on one machine, each in a network namespace of its own (veth
# links to a bridge in a fourth namespace, addresses 10.231.0.1-3/24 that
# exist only inside them), each with its data directory, its "andonctl
# replicate" and its web server (the shipped conf) on its own loopback.
# Asserts: a master is elected and every site names it (rep-status); a
# check on a replica, its copies warm, sees a kill made on the master, and
# then its revival (replicated writes invalidate the per-process copies);
# a write sent to a replica answers 307 to the master's base URL with the
# same path and query, stores nothing there, and followed (curl -L, one
# Idempotency-Key, sent through both replicas) succeeds once; with the
# master's and the other replica's replication processes stopped, a write
# (a revival: a kill is kept, t1140) to the lone replica answers 503
# no_master with Retry-After.
# Failover (in its own group): under a steady kill load sent through a
# replica (curl -L), every process of the master site is SIGKILLed; one of
# the others is elected, writes resume, every kill answered 201 before,
# during or after is seen by checks on both survivors, and the audit chain
# and transparency log verify on both (andonctl verify) with the same count.
# tests/tcp-forward.py makes each site's server answer on its address too
# (the shipped confs listen on 127.0.0.1), so that redirects can be followed.
# Needs root and ip(8); skipped (77) otherwise.
. "$(dirname "$0")/setup.sh"

# the failover load makes more kills than the admin rate limit allows
CONF_OVERRIDES="rate_limit_per_minute=0 tenant_rate_limit_per_minute=0"
. "$(dirname "$0")/replication-sites.sh"

# site 3's andonctl verify says what site 2's said ($V2)
site3_agrees() {
	[ "$(site_ctl 3 verify 2>&1)" = "$V2" ]
}

group() {
	local i
	start_group
	for i in 2 3; do
		rep_status_has "$i" '^role: replica$' && ok "site $i says it is a replica" ||
			fail "site $i says it is a replica"
	done

	# the replicas' copies are warm: the target is not killed
	for i in 2 3; do
		is_killed "$i" rep-bot false && is_killed "$i" rep-bot false &&
			ok "site $i: a check before the kill says not killed" ||
			fail "site $i: a check before the kill says not killed"
	done
	use_site 1
	api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"rep-bot","reason":"replicated"}'
	check_status 201 "the master takes the kill"
	for i in 2 3; do
		wait_until 10 "site $i: a check sees the master's kill" is_killed "$i" rep-bot true
	done
	use_site 1
	api POST /api/v1/kill-switch/revive '{"target_type":"agent","target_id":"rep-bot"}'
	check_status 200 "the master takes the revival"
	for i in 2 3; do
		wait_until 10 "site $i: a check sees the revival" is_killed "$i" rep-bot false
	done
	redirects
	no_master
	stop_sites
	del_net
}

redirects() {
	local i want=http://10.231.0.1:$WEB_PORT first
	use_site 2
	api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"moved-bot"}' \
		-H 'Idempotency-Key: rep-once'
	check_status 307 "a write sent to a replica answers 307"
	check_header location "^$want/api/v1/kill-switch/kill\$" \
		"Location: the master's base URL and the same path"
	check_json .code '"not_master"' "the 307 says not_master"
	api POST '/api/v1/kill-switch/kill?note=a%20b&x=1' '{"target_type":"agent","target_id":"moved-bot"}'
	check_header location "^$want/api/v1/kill-switch/kill\\?note=a%20b&x=1\$" \
		"the Location keeps the query"
	api GET '/api/v1/kill-switch/check?target_type=agent&target_id=moved-bot'
	check_json .is_killed false "the replica stored nothing"
	is_killed 1 moved-bot false && ok "the master has no kill yet" ||
		fail "the master has no kill yet"

	use_site 2
	api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"moved-bot"}' \
		-L -H 'Idempotency-Key: rep-once'
	check_status 201 "followed (curl -L), the write succeeds on the master"
	first=$(jq -r .id <<<"$BODY")
	use_site 3
	api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"moved-bot"}' \
		-L -H 'Idempotency-Key: rep-once'
	check_status 201 "the same write through the other replica is replayed"
	check_json .id "\"$first\"" "the replay answers the first kill"
	is_killed 1 moved-bot true && ok "the master has the kill" ||
		fail "the master has the kill"
	use_site 1
	api GET '/api/v1/kill-switch/history?target_type=agent&target_id=moved-bot'
	check_json .count 1 "the master holds one kill, not two"
	for i in 2 3; do
		wait_until 10 "site $i sees the redirected kill" is_killed "$i" moved-bot true
	done
}

no_master_503() {   # a write that is not a kill (t1140: a kill is kept)
	use_site 2
	api POST /api/v1/kill-switch/revive '{"target_type":"agent","target_id":"moved-bot"}'
	[ "$STATUS" = 503 ] && [ "$(jq -r .code <<<"$BODY")" = no_master ]
}

no_master() {
	local i
	for i in 1 3; do
		end_pid "${REPPID[i]}"
		REPPID[i]=
	done
	wait_until 30 "a lone replica answers 503 no_master to a write" no_master_503
	check_header retry-after '^[0-9]+$' "the 503 carries Retry-After"
	is_killed 2 moved-bot true && ok "the lone replica still answers checks" ||
		fail "the lone replica still answers checks"
}

new_master() {   # a survivor says it is the master
	rep_status_has 2 '^role: master$' || rep_status_has 3 '^role: master$'
}

failover() {
	local i before t lost=0 v2
	start_group
	DATA_LOAD=$(mktemp -d /tmp/andon-t.XXXXXX) || exit 99
	kill_load 2 load "$DATA_LOAD" &
	LOADPID=$!
	wait_until 20 "failover: kills are acknowledged through a replica" \
		eval '[ "$(acked_count "$DATA_LOAD")" -ge 5 ]'
	before=$(acked_count "$DATA_LOAD")
	# every process of the master site, at once
	kill_site 1
	wait_until 30 "failover: a survivor is elected master" new_master
	wait_until 30 "failover: writes resume after the failover" \
		eval '[ "$(acked_count "$DATA_LOAD")" -ge $((before + 5)) ]'
	: >"$DATA_LOAD/stop"
	wait "$LOADPID"
	for t in $(cut -d' ' -f1 "$DATA_LOAD/acked"); do
		for i in 2 3; do
			is_killed "$i" "$t" true || { lost=$((lost + 1)); echo "# $t missing on site $i"; }
		done
	done
	((lost == 0)) && ok "failover: all $(acked_count "$DATA_LOAD") acknowledged kills are on both survivors" ||
		fail "failover: $lost acknowledged kills missing on a survivor"
	v2=$(site_ctl 2 verify 2>&1)
	[[ "$v2" == ok:* ]] && ok "failover: site 2's audit chain and log verify" ||
		fail "failover: site 2's audit chain and log verify: $v2"
	# site 3 may hold commits of the dead master that no quorum
	# acknowledged (so none was answered 2xx): it rolls them back to the
	# new master's history as it synchronises, and a verify in the middle
	# of that sees a trail and a head from different moments
	V2=$v2
	wait_until 30 "failover: site 3 verifies and agrees" site3_agrees ||
		echo "# site 3: $(site_ctl 3 verify 2>&1) / site 2: $v2"
	rm -rf "$DATA_LOAD"
	# site 1's server is gone: nothing of it to stop but its data
	SPIDF[1]=
	stop_sites
	del_net
}

for SERVER in ${ANDON_TEST_SERVERS:-lighttpd apache}; do
	group
	failover
done
finish
