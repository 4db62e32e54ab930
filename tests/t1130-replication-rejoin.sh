#!/usr/bin/env bash
# t1130: sites that come back (issue 18).  Three sites in network
# namespaces (tests/replication-sites.sh); site 1 is the master.
# Asserts: every process of the master site is SIGKILLed, a survivor is
# elected and takes a kill; the old master started again (its andonctl
# replicate and web server, same data directory) rejoins as a replica of
# the new master and catches up (checks on it see the kill made while it
# was down, and the one made before); then a replica restarted with an
# emptied data directory (only its conf and key pepper kept) is rebuilt
# from the group by Berkeley DB's internal initialisation: it answers
# checks for the kills made before, sees one made after, and andonctl
# verify on it agrees with the master's.
# Needs root and ip(8); skipped (77) otherwise.
. "$(dirname "$0")/setup.sh"
. "$(dirname "$0")/replication-sites.sh"

new_master() {
	rep_status_has 2 '^role: master$' || rep_status_has 3 '^role: master$'
}

# Site $1 is a replica of site $2.
follows() {
	rep_status_has "$1" '^role: replica$' &&
		rep_status_has "$1" "^master: 10\.231\.0\.$2:$REP_PORT "
}

# A kill of agent $2 sent to site $1, redirect followed, answers 201.
kill_via() {
	use_site "$1"
	api POST /api/v1/kill-switch/kill "{\"target_type\":\"agent\",\"target_id\":\"$2\"}" \
		-L -H "Idempotency-Key: $2"
	[ "$STATUS" = 201 ]
}

# Empties site $1's data directory but for its conf and key pepper.
empty_site() {
	local d=${SDATA[$1]}
	find "$d" -mindepth 1 -maxdepth 1 ! -name andon.conf ! -name andon.pepper \
		-exec rm -rf {} +
	mkdir -p "$d/run" "$d/log"
	chown -R www-data: "$d"
}

rejoin() {
	local master v1 vm
	start_group
	use_site 1
	api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"before-bot"}'
	check_status 201 "the master takes a kill"

	kill_site 1
	wait_until 30 "a survivor is elected master" new_master
	rep_status_has 2 '^role: master$' && master=2 || master=3
	wait_until 30 "the new master takes a kill" kill_via "$master" while-bot

	# the old master returns
	restart_replicate 1
	wait_until 60 "the old master rejoins as a replica of site $master" follows 1 "$master"
	start_web 1
	wait_until 30 "the old master catches up: it sees the kill made while it was down" \
		is_killed 1 while-bot true
	is_killed 1 before-bot true && ok "the old master still has the kill made before" ||
		fail "the old master still has the kill made before"

	# a replica emptied and restarted is rebuilt from the group
	halt_site 1
	empty_site 1
	[ -z "$(ls -A "${SDATA[1]}" | grep -vxE 'andon\.conf|andon\.pepper|run|log')" ] &&
		ok "site 1's data directory holds only its conf and pepper" ||
		fail "site 1's data directory holds only its conf and pepper: $(ls "${SDATA[1]}")"
	restart_replicate 1
	wait_until 60 "the emptied site is rebuilt as a replica of site $master" follows 1 "$master"
	start_web 1
	wait_until 30 "the rebuilt site answers a check for the kill made before" \
		is_killed 1 before-bot true
	is_killed 1 while-bot true && ok "the rebuilt site has the kill made while site 1 was down" ||
		fail "the rebuilt site has the kill made while site 1 was down"
	is_killed 1 never-bot false && ok "the rebuilt site answers not killed for another target" ||
		fail "the rebuilt site answers not killed for another target"
	kill_via "$master" after-bot && ok "the master takes a kill after the rebuild" ||
		fail "the master takes a kill after the rebuild"
	wait_until 15 "the rebuilt site sees it" is_killed 1 after-bot true
	v1=$(site_ctl 1 verify 2>&1)
	vm=$(site_ctl "$master" verify 2>&1)
	[[ "$v1" == ok:* ]] && [ "$v1" = "$vm" ] &&
		ok "the rebuilt site verifies and agrees with the master" ||
		fail "the rebuilt site verifies and agrees with the master: $v1 / $vm"
	stop_sites
	del_net
}

for SERVER in ${ANDON_TEST_SERVERS:-lighttpd apache}; do
	rejoin
done
finish
