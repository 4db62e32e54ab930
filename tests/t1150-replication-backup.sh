#!/usr/bin/env bash
# t1150: a hot backup taken from a replica (issue 18).  Three sites in
# network namespaces (tests/replication-sites.sh); site 1 is the master.
# Asserts: "andonctl backup" run on replica site 2 while the group serves
# succeeds; restored ("andonctl restore") into a fresh data directory with
# replication off (the group's conf without its replication keys, and its
# key pepper), the single site's web server answers: the kills made on the
# master before the backup are killed, one made after is not, the group's
# keys authenticate, it takes a write, and "andonctl verify" passes.
# Needs root and ip(8); skipped (77) otherwise.
. "$(dirname "$0")/setup.sh"
. "$(dirname "$0")/replication-sites.sh"

backup_from_replica() {
	local i new
	start_group
	use_site 1
	for i in 1 2 3; do
		api POST /api/v1/kill-switch/kill "{\"target_type\":\"agent\",\"target_id\":\"rb-$i\"}"
		check_status 201 "the master takes kill rb-$i"
	done
	wait_until 15 "replica site 2 has the kills" is_killed 2 rb-3 true
	site_ctl 2 backup "${SDATA[2]}/backup" >/dev/null &&
		ok "a hot backup runs on the replica" || fail "a hot backup runs on the replica"
	use_site 1
	api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"rb-after"}'
	check_status 201 "the master takes a kill after the backup"

	# a fresh single site, replication off, from the replica's backup
	new=$(mktemp -d /tmp/andon-t.XXXXXX) || exit 99
	chmod 755 "$new"
	mkdir -p "$new/run" "$new/log"
	grep -v '^replication' "${SDATA[2]}/andon.conf" >"$new/andon.conf"
	cp "${SDATA[2]}/andon.pepper" "$new/"
	"$ANDONCTL" -c "$new/andon.conf" -d "$new" restore "${SDATA[2]}/backup" >/dev/null &&
		ok "the replica's backup restores into an empty data directory" ||
		fail "the replica's backup restores into an empty data directory"
	chown -R www-data: "$new"
	stop_sites
	del_net

	# the restored site, on the host's loopback like every other test
	DATA=$new
	CUR_NS=
	pick_port || { echo "setup: no free port" >&2; exit 99; }
	BASE=http://127.0.0.1:$PORT
	launch_server
	for i in 1 2 3; do
		api GET "/api/v1/kill-switch/check?target_type=agent&target_id=rb-$i"
		check_json .is_killed true "restored: rb-$i is killed"
	done
	api GET '/api/v1/kill-switch/check?target_type=agent&target_id=rb-after'
	check_json .is_killed false "restored: the kill after the backup is not in it"
	api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"rb-restored"}'
	check_status 201 "the restored single site takes writes (the group's key authenticates)"
	check "the restored site's audit chain and transparency log verify" ctl verify
	stop_server
}

for SERVER in ${ANDON_TEST_SERVERS:-lighttpd apache}; do
	backup_from_replica
done
finish
