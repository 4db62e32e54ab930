#!/usr/bin/env bash
# t0985: I/O errors (issue 19, faults).  An LD_PRELOAD shim
# (tests/faults/iofail.c, built here with cc into the test's scratch
# directory) makes every write and fsync/fdatasync of the database files
# fail with EIO while $DATA/iofail.on exists; it reaches the FastCGI
# executables through the web server's environment (setup.sh:
# ANDON_TEST_PRELOAD).  Kills run before, during and after the fault:
# no kill is acknowledged (2xx) while the disk fails, every one that was
# is there after the processes are killed and recover from the log alone,
# writes succeed again once the fault ends, andonctl verify passes.
. "$(dirname "$0")/setup.sh"

SCRATCH=$(mktemp -d /tmp/andon-fault.XXXXXX) || exit 99
trap 'rm -rf "$SCRATCH"' EXIT
command -v cc >/dev/null || { echo "1..0 # SKIP no C compiler"; exit 77; }
cc -shared -fPIC -o "$SCRATCH/iofail.so" "$TOP/tests/faults/iofail.c" -ldl || {
	echo "setup: cannot build the shim" >&2
	exit 99
}
chmod 755 "$SCRATCH" "$SCRATCH/iofail.so"
export ANDON_TEST_PRELOAD=$SCRATCH/iofail.so
CONF_OVERRIDES="rate_limit_per_minute=1000000 rate_limit_burst=1000000"

# kills TAG N: N kills of targets TAG-1..TAG-N, 4 at a time; each
# outcome a line "target status code" in $DATA/io/TAG.
kills() {
	local i
	for ((i = 1; i <= $2; i++)); do
		(
			local out=$DATA/io/tmp.$BASHPID status
			status=$(curl -s -o "$out" -w '%{http_code}' --max-time 30 \
				-H "X-API-Key: $ADMIN_KEY" -H 'Content-Type: application/json' \
				--data-binary "{\"target_type\":\"run\",\"target_id\":\"$1-$i\"}" \
				"$BASE/api/v1/kill-switch/kill")
			echo "$1-$i $status $(jq -r '.code // "-"' "$out" 2>/dev/null || echo not-json)" \
				>>"$DATA/io/$1"
			rm -f "$out"
		) &
		((i % 4 == 0)) && wait
	done
	wait
}

io_errors() {
	local acked lost t failed
	mkdir -p "$DATA/io"
	kills before 20
	check "kills before the fault are acknowledged" \
		test "$(awk '$2 == 201' "$DATA/io/before" | wc -l)" = 20

	touch "$DATA/iofail.on"
	kills during 40
	api POST /api/v1/kill-switch/kill '{"target_type":"run","target_id":"during-api"}'
	rm -f "$DATA/iofail.on"
	failed=$(stat -c %s "$DATA/iofail.count" 2>/dev/null || echo 0)
	check "the shim failed the database's writes or syncs ($failed calls)" test "$failed" -gt 0
	check "no kill is acknowledged while the disk fails" \
		test -z "$(awk '$2 ~ /^2/' "$DATA/io/during")"
	awk '$2 ~ /^2/' "$DATA/io/during" | head -3
	check_status 500 "a kill on the failing disk answers 500"
	check_json .code '"internal"' "code internal"
	check_header content-type '^application/problem\+json' "as problem+json"
	api GET '/api/v1/kill-switch/check?target_type=run&target_id=before-1'
	check_json .is_killed true "checks answer while the disk fails"

	# the fault ends: writes succeed again without a restart
	for ((t = 0; t < 100; t++)); do
		api POST /api/v1/kill-switch/kill "{\"target_type\":\"run\",\"target_id\":\"after-$t\"}"
		[ "$STATUS" = 201 ] && break
		sleep 0.1
	done
	check_status 201 "once the disk works again a kill succeeds"
	kills after 20

	# every process killed: what recovery finds is what reached the log
	for pid in $(app_pids '' all); do kill -KILL "$pid" 2>/dev/null; done
	restart_server
	cat "$DATA"/io/before "$DATA"/io/during "$DATA"/io/after >"$DATA/io/all"
	acked=$(awk '$2 ~ /^2/' "$DATA/io/all" | wc -l)
	lost=$(lost_kills "$DATA/io/all")
	check "every acknowledged kill survives a crash ($acked, lost $lost)" test "$lost" = 0
	api POST /api/v1/kill-switch/kill '{"target_type":"run","target_id":"after-recovery"}'
	check_status 201 "a kill after the recovery"
	check "andonctl verify: the audit chain and the transparency log" ctl verify
	echo "# figures: $SERVER acked=$acked refused=$(awk '$2 !~ /^2/' "$DATA/io/all" | wc -l) failed_calls=$failed lost=$lost"
}

for_each_server io_errors
finish
