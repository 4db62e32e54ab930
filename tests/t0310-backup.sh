#!/usr/bin/env bash
# t0310: a hot backup taken while the server writes, restored into a new
# data directory with catastrophic recovery, serves the same state; the
# audit chain and the transparency log verify after the restore.
. "$(dirname "$0")/setup.sh"

backup_restore() {
	local i old new user
	for i in 1 2 3 4 5; do
		api POST /api/v1/kill-switch/kill "{\"target_type\":\"agent\",\"target_id\":\"b-$i\",\"reason\":\"before backup\"}"
	done
	check "hot backup while the server runs" ctl backup "$DATA/backup"
	api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"after-backup"}'
	check_status 201 "a kill after the backup"

	halt_server
	old=$DATA
	new=$(mktemp -d /tmp/andon-t.XXXXXX)
	chmod 755 "$new"
	mkdir -p "$new/run" "$new/log"
	cp "$old/andon.conf" "$new/andon.conf"
	check "restore into an empty data directory" \
		"$ANDONCTL" -c "$new/andon.conf" -d "$new" restore "$old/backup"
	check "a second restore over a database is refused" bash -c '! "$@" 2>/dev/null' _ \
		"$ANDONCTL" -c "$new/andon.conf" -d "$new" restore "$old/backup"
	user=$(id -un)
	is_root && user=www-data
	is_root && chown -R "$user:" "$new"
	DATA=$new
	rm -rf "$old"
	launch_server

	for i in 1 2 3 4 5; do
		api GET "/api/v1/kill-switch/check?target_type=agent&target_id=b-$i"
		check_json '.is_killed' 'true' "b-$i is killed after the restore"
	done
	api GET '/api/v1/kill-switch/check?target_type=agent&target_id=after-backup'
	check_json '.is_killed' 'false' "the kill after the backup is not in it"
	KEY='' api GET '/api/v1/kill-switch/check?target_type=agent&target_id=b-1' -H "Authorization: Bearer $ADMIN_KEY"
	check_status 200 "the keys of the backup authenticate"
	api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"after-restore"}'
	check_status 201 "the restored instance takes writes"
	check "audit chain and transparency log verify after the restore" ctl verify
}

for_each_server backup_restore
finish
