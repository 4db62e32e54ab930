#!/usr/bin/env bash
# t0980: a full disk (issue 19, faults; contract section 10: "A full disk
# answers 5xx storage_full with Retry-After; nothing acknowledged is ever
# lost").  The database directory ($DATA/db) moves onto a tmpfs the test
# mounts (64 MiB: most of it the environment's region files, lib/store.c),
# kills run under load while a ballast file fills what is left; then:
# writes answer 503 storage_full with Retry-After, checks keep answering
# from the committed state, no process dies, every 2xx kill is there
# (also after a restart: on disk, not only in memory), and once the
# ballast is deleted writes succeed again without restarting anything;
# andonctl verify passes.  Needs root (mount).
. "$(dirname "$0")/setup.sh"

is_root || { echo "1..0 # SKIP mounting a tmpfs needs root"; exit 77; }

CONF_OVERRIDES="db_cache_mb=1 rate_limit_per_minute=1000000 rate_limit_burst=1000000"
WORKERS=4
MNT=
LOAD_PIDS=()

cleanup() {
	local pid
	for pid in "${LOAD_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
	wait 2>/dev/null
	if [ -n "$MNT" ]; then
		halt_server
		umount "$MNT" || umount -l "$MNT"
		MNT=
	fi
}
trap 'cleanup; stop_server' EXIT

# Moves $DATA/db onto a tmpfs of $1, the server stopped meanwhile.
db_on_tmpfs() {
	halt_server
	mv "$DATA/db" "$DATA/db.disk"
	mkdir "$DATA/db"
	mount -t tmpfs -o "size=$1,mode=0770" tmpfs "$DATA/db" || {
		fail "mount a tmpfs on $DATA/db"
		return 1
	}
	MNT=$DATA/db
	cp -a "$DATA/db.disk/." "$DATA/db/" && rm -rf "$DATA/db.disk"
	chown www-data: "$DATA/db"
	launch_server
}

# kill_one TARGET: one kill, its outcome a line in $DATA/load/rec.$BASHPID:
# "target status code retry-after content-type".
kill_one() {
	local out=$DATA/load/tmp.$BASHPID status code ra type
	status=$(curl -s -o "$out.body" -D "$out.hdr" -w '%{http_code}' --max-time 30 \
		-H "X-API-Key: $ADMIN_KEY" -H 'Content-Type: application/json' \
		--data-binary "{\"target_type\":\"run\",\"target_id\":\"$1\",\"reason\":\"disk-full load $1\"}" \
		"$BASE/api/v1/kill-switch/kill")
	code=$(jq -r '.code // "-"' "$out.body" 2>/dev/null) || code=not-json
	ra=$(tr -d '\r' <"$out.hdr" | sed -n 's/^[Rr]etry-[Aa]fter: *//p' | head -n1)
	type=$(tr -d '\r' <"$out.hdr" | sed -n 's/^[Cc]ontent-[Tt]ype: *//p' | tail -n1)
	echo "$1 $status $code ${ra:--} ${type:--}" >>"$DATA/load/rec.$BASHPID"
}

# A writer of the load: kills of distinct targets until $DATA/load/stop.
writer() {
	local i=0
	while [ ! -e "$DATA/load/stop" ]; do
		i=$((i + 1))
		kill_one "w$1-$i"
	done
}

# A checker of the load: the target killed before the disk filled says
# killed, one never killed says not killed; a wrong answer or an error
# is a line in $DATA/load/wrong.
checker() {
	local status body
	while [ ! -e "$DATA/load/stop" ]; do
		for t in before-full never-killed; do
			body=$(curl -s -w '\n%{http_code}' --max-time 30 -H "X-API-Key: $ADMIN_KEY" \
				"$BASE/api/v1/kill-switch/check?target_type=run&target_id=$t")
			status=${body##*$'\n'}
			body=${body%$'\n'*}
			case $t:$status:$(jq -r .is_killed <<<"$body" 2>/dev/null) in
			before-full:200:true | never-killed:200:false) echo ok >>"$DATA/load/checks" ;;
			*) echo "$t $status $body" >>"$DATA/load/wrong" ;;
			esac
		done
	done
}

storage_full_seen() {
	[ "$(cat "$DATA"/load/rec.* 2>/dev/null | grep -c ' 503 storage_full ')" -ge 20 ]
}

disk_full() {
	local avail pids_before pids_after t status start secs lost=0 acked
	mkdir -p "$DATA/load"
	db_on_tmpfs 64m || return
	api POST /api/v1/kill-switch/kill '{"target_type":"run","target_id":"before-full"}'
	check_status 201 "a kill before the disk fills"
	pids_before=$(app_pids '' all | sort | tr '\n' ' ')

	for ((t = 1; t <= WORKERS; t++)); do
		writer "$t" &
		LOAD_PIDS+=($!)
	done
	checker &
	LOAD_PIDS+=($!)
	sleep 1
	# the ballast: all but 128 KiB of what is left
	avail=$(df -k --output=avail "$DATA/db" | tail -n1)
	dd if=/dev/zero of="$DATA/db/ballast" bs=1k count=$((avail - 128)) status=none 2>/dev/null
	wait_until 60 "writes meet the full disk (20 storage_full answers) under a kill load" \
		storage_full_seen
	# checks go on answering while the disk stays full
	sleep 2
	touch "$DATA/load/stop"
	wait "${LOAD_PIDS[@]}" 2>/dev/null
	LOAD_PIDS=()

	cat "$DATA"/load/rec.* >"$DATA/load/all"
	acked=$(awk '$2 == 201' "$DATA/load/all" | wc -l)
	((acked > 0)) && ok "the load had kills acknowledged before the disk filled ($acked)" ||
		fail "no kill of the load was acknowledged"
	check "every refused write is 503 storage_full with Retry-After, as problem+json" \
		test -z "$(awk '$2 != 201 && !($2 == 503 && $3 == "storage_full" && $4 ~ /^[0-9]+$/ &&
			$5 ~ /^application\/problem\+json/)' "$DATA/load/all")"
	awk '$2 != 201 && !($2 == 503 && $3 == "storage_full")' "$DATA/load/all" | head -5
	check "checks of a killed and an unkilled target answered right throughout ($(wc -l <"$DATA/load/checks" 2>/dev/null || echo 0))" \
		test ! -s "$DATA/load/wrong"
	head -5 "$DATA/load/wrong" 2>/dev/null

	# one more, through api(): the record the OpenAPI validator sees
	api POST /api/v1/kill-switch/kill '{"target_type":"run","target_id":"while-full"}'
	check_status 503 "a kill on the full disk answers 503"
	check_json .code '"storage_full"' "code storage_full"
	check_header retry-after '^[0-9]+$' "with Retry-After"
	check_header content-type '^application/problem\+json' "as problem+json"
	api GET '/api/v1/kill-switch/check?target_type=run&target_id=before-full'
	check_json .is_killed true "a check on the full disk answers from the committed state"

	# space comes back: writes succeed without a restart
	rm -f "$DATA/db/ballast"
	start=$(date +%s%N)
	for ((t = 0; t < 300; t++)); do
		api POST /api/v1/kill-switch/kill "{\"target_type\":\"run\",\"target_id\":\"after-$t\"}"
		[ "$STATUS" = 201 ] && break
		sleep 0.1
	done
	secs=$(( ($(date +%s%N) - start) / 1000000 ))
	check_status 201 "once space is freed a kill succeeds again (after ${secs} ms), nothing restarted"
	pids_after=$(app_pids '' all | sort | tr '\n' ' ')
	if [ "$pids_before" = "$pids_after" ]; then
		ok "no application process died or was restarted"
	else
		fail "application processes changed: before $pids_before, after $pids_after"
	fi

	# nothing acknowledged is lost, in memory nor on disk
	for pass in running restarted; do
		lost=$(lost_kills "$DATA/load/all")
		check "every acknowledged kill is there, $pass ($acked, lost $lost)" test "$lost" = 0
		[ "$pass" = running ] && restart_server
	done
	api GET '/api/v1/kill-switch/check?target_type=run&target_id=never-killed'
	check_json .is_killed false "a target never killed is not killed"
	check "andonctl verify: the audit chain and the transparency log" ctl verify
	echo "# figures: $SERVER acked=$acked refused=$(awk '$2 != 201' "$DATA/load/all" | wc -l) lost=$lost wrong=$(cat "$DATA/load/wrong" 2>/dev/null | wc -l) recovery_ms=$secs"
	cleanup
}

for_each_server disk_full
trap - EXIT
finish
