#!/usr/bin/env bash
# t0990: the wall clock stepped back and forward by an hour (issue 19,
# faults).  libfaketime (Debian package faketime) is preloaded into the
# FastCGI executables (setup.sh: ANDON_TEST_PRELOAD); its offset is read
# from a file the test rewrites (FAKETIME_TIMESTAMP_FILE, cached 1 s), and
# the monotonic clock is left alone.  With a small rate limit (12 a minute,
# burst 2): a step back does not lock the key out for the hour (it did:
# 429 with Retry-After 3600), a step forward refills no more than the
# burst; kills across the steps keep distinct ids, the audit chain and the
# transparency log verify (seq order, whatever the timestamps say).
. "$(dirname "$0")/setup.sh"

FAKETIME_LIB=
for f in /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1; do
	[ -e "$f" ] && FAKETIME_LIB=$f && break
done
[ -n "$FAKETIME_LIB" ] || { echo "1..0 # SKIP libfaketime is not installed (./dev deps)"; exit 77; }

SCRATCH=$(mktemp -d /tmp/andon-fault.XXXXXX) || exit 99
trap 'stop_server; rm -rf "$SCRATCH"' EXIT
trap 'exit 143' TERM INT
chmod 755 "$SCRATCH"
export ANDON_TEST_PRELOAD=$FAKETIME_LIB
export FAKETIME_TIMESTAMP_FILE=$SCRATCH/offset FAKETIME_CACHE_DURATION=1
export FAKETIME_DONT_FAKE_MONOTONIC=1
CONF_OVERRIDES="rate_limit_per_minute=12 rate_limit_burst=2"

# step OFFSET: the application's wall clock is now OFFSET from the real one.
step() {
	echo "$1" >"$FAKETIME_TIMESTAMP_FILE"
	# past libfaketime's cache in every process: each re-reads the file
	# when a second (counted in whole seconds) has passed since its last
	# read, so up to 2 s after the change (1.5 s was not always enough)
	sleep 2.5
}

# kill TARGET: a kill of run TARGET; its id and killed_at kept in
# $DATA/ids when it is answered 201.
kill_run() {
	api POST /api/v1/kill-switch/kill "{\"target_type\":\"run\",\"target_id\":\"$1\"}"
	[ "$STATUS" = 201 ] && jq -r '"\(.id) \(.killed_at)"' <<<"$BODY" >>"$DATA/ids"
}

# the hour of a killed_at, from the last 201
killed_hour() {
	tail -n1 "$DATA/ids" | cut -d' ' -f2 | cut -c1-13
}

clock() {
	local hour_now hour_back retry
	step +0
	kill_run now-1
	check_status 201 "a kill at the real time"
	hour_now=$(killed_hour)
	kill_run now-2
	kill_run now-3
	check_status 429 "the burst of 2 is spent"
	check_header retry-after '^[1-5]$' "Retry-After within one token (5 s)"

	step -3600
	kill_run back-1
	check_status 201 "an hour back, the key is not locked out for the hour"
	hour_back=$(killed_hour)
	check "the application's clock went back an hour ($hour_now -> $hour_back)" \
		test "$(date -u -d "${hour_back}:00" +%s)" = "$(($(date -u -d "${hour_now}:00" +%s) - 3600))"
	kill_run back-2
	kill_run back-3
	check_status 429 "an hour back, the burst still holds"
	retry=$(grep -i '^retry-after:' <<<"$HEADERS" | tr -dc 0-9)
	check "an hour back, Retry-After is one token's wait (${retry:-none} s), not the hour" \
		test "${retry:-99}" -le 5
	sleep "$((${retry:-5} > 5 ? 5 : ${retry:-5}))"
	kill_run back-4
	check_status 201 "an hour back, the bucket refills at its rate"

	step +0
	kill_run forward-1
	check_status 201 "stepped forward an hour: the bucket is full"
	kill_run forward-2
	kill_run forward-3
	check_status 429 "stepped forward an hour: no more than the burst"

	check "every kill's id is distinct across the steps ($(wc -l <"$DATA/ids"))" \
		test "$(cut -d' ' -f1 "$DATA/ids" | sort -u | wc -l)" = "$(wc -l <"$DATA/ids")"
	api GET '/v1/audit/events?limit=1000'
	check_json '[.data[].seq] | . == (unique | reverse) or . == unique' true \
		"the audit lists its events in seq order, each seq once"
	check_json '[.data[].at] | . != (sort | reverse) and . != sort' true \
		"while their timestamps went back and forth"
	api GET '/api/v1/kill-switch/check?target_type=run&target_id=back-1'
	check_json .is_killed true "a kill made an hour back is there"
	check "andonctl verify: the audit chain and the transparency log" ctl verify
}

for_each_server clock
finish
