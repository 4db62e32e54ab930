#!/usr/bin/env bash
# t1110: replication state for operators (issue 18): lag in rep-status,
# the role and the lag in /metrics and /healthz.  Three sites in network
# namespaces (tests/replication-sites.sh); site 1 is the master.
# Asserts: each replica's rep-status says how far it is behind its master
# (bytes and seconds, measured lately), and the master's lists each
# replica caught up; /healthz answers 200 with the role, the master's base
# URL and the lag on both sides; /metrics has the role, a master known and
# the lag.  With a replica's replication process stopped (SIGSTOP) while
# the master takes a kill, the master's rep-status shows that replica
# behind, in bytes and in growing seconds, then caught up once it runs
# again.  With the master's and the other replica's replication processes
# stopped, the lone replica's /healthz answers 503 no_master (problem+json,
# Retry-After), /metrics says no master is known and drops the lag, and
# rep-status says the lag is unknown.
# Needs root and ip(8); skipped (77) otherwise.
. "$(dirname "$0")/setup.sh"
. "$(dirname "$0")/replication-sites.sh"

# The master's rep-status line for replica site $1 matches $2 (after
# "lag: ").
master_sees() {
	site_ctl 1 rep-status 2>/dev/null |
		grep -qE "^replica: 10\.231\.0\.$1:$REP_PORT lag: $2"
}

# Seconds of lag the master shows for replica site $1 (integer part).
master_lag_seconds() {
	site_ctl 1 rep-status 2>/dev/null |
		sed -nE "s/^replica: 10\.231\.0\.$1:$REP_PORT lag: [0-9]+ bytes ([0-9]+)\.[0-9] s .*/\1/p"
}

lag3_2s() {
	local s
	s=$(master_lag_seconds 3)
	[ "${s:-0}" -ge 2 ]
}

metrics_has() {   # SITE ERE
	use_site "$1"
	api GET /metrics
	[ "$STATUS" = 200 ] && grep -qE "$2" <<<"$BODY"
}

healthz_no_master() {
	use_site 2
	api GET /healthz
	[ "$STATUS" = 503 ] && [ "$(jq -r .code <<<"$BODY")" = no_master ]
}

status() {
	local i secs
	start_group

	# rep-status: every replica says how far it is behind, the master lists
	# each replica caught up (a quiet group)
	for i in 2 3; do
		wait_until 15 "site $i: rep-status says its lag behind the master" \
			rep_status_has "$i" '^lag: [0-9]+ bytes [0-9]+\.[0-9] s \(measured [0-9]+\.[0-9] s ago\)$'
		wait_until 15 "the master's rep-status shows site $i caught up" \
			master_sees "$i" '0 bytes 0\.0 s \(measured [0-9]+\.[0-9] s ago\)$'
	done
	rep_status_has 1 '^lag: 0 bytes 0\.0 s' && ok "the master is not behind itself" ||
		fail "the master is not behind itself"

	# /healthz: the role, the master, the lag
	use_site 2
	wait_until 15 "site 2: /healthz has a lag" \
		eval 'api GET /healthz; [ "$(jq -r .replication.lag_seconds <<<"$BODY")" != null ]'
	check_status 200 "site 2: /healthz answers 200"
	check_json .replication.role '"replica"' "site 2: /healthz says replica"
	check_json .replication.master "\"http://10.231.0.1:$WEB_PORT\"" \
		"site 2: /healthz names the master's base URL"
	check_json '.replication.lag_bytes | type' '"number"' "site 2: /healthz has the lag in bytes"
	check_json '.replication.lag_seconds >= 0' true "site 2: /healthz has the lag in seconds"
	use_site 1
	api GET /healthz
	check_status 200 "site 1: /healthz answers 200"
	check_json .replication '{"role":"master","master":"http://10.231.0.1:'"$WEB_PORT"'","lag_bytes":0,"lag_seconds":0.0}' \
		"site 1: /healthz says master, not behind"

	# /metrics
	metrics_has 1 '^andon_replication_master 1$' && ok "site 1: /metrics says master" ||
		fail "site 1: /metrics says master"
	metrics_has 2 '^andon_replication_master 0$' &&
		grep -qE '^andon_replication_master_known 1$' <<<"$BODY" &&
		grep -qE '^andon_replication_lag_bytes [0-9]+$' <<<"$BODY" &&
		grep -qE '^andon_replication_lag_seconds [0-9]+\.[0-9]{3}$' <<<"$BODY" &&
		ok "site 2: /metrics says replica, a master known, and the lag" ||
		fail "site 2: /metrics says replica, a master known, and the lag"

	# a replica held back: the master sees it fall behind, then catch up
	kill -STOP "${REPPID[3]}"
	use_site 1
	api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"lag-bot"}'
	check_status 201 "the master takes a kill while site 3 is stopped (site 2 acknowledges)"
	wait_until 10 "the master shows site 3 behind in bytes" master_sees 3 '[1-9][0-9]* bytes'
	wait_until 10 "the master shows site 3 behind by 2 s or more" lag3_2s
	secs=$(master_lag_seconds 3)
	kill -CONT "${REPPID[3]}"
	wait_until 15 "site 3 runs again: the master shows it caught up" \
		master_sees 3 '0 bytes 0\.0 s'
	wait_until 15 "site 3 has the kill" is_killed 3 lag-bot true
	echo "# site 3 was ${secs}+ s behind while stopped"

	# the master and the other replica gone: the lone replica says so
	end_pid "${REPPID[1]}"
	end_pid "${REPPID[3]}"
	REPPID[1]=
	REPPID[3]=
	wait_until 30 "site 2 without a master: /healthz answers 503 no_master" healthz_no_master
	check_header content-type '^application/problem\+json' "the 503 is problem+json"
	check_header retry-after '^[0-9]+$' "the 503 carries Retry-After"
	wait_until 10 "site 2 without a master: /metrics says no master and drops the lag" \
		eval 'metrics_has 2 "^andon_replication_master_known 0\$" && ! grep -q "^andon_replication_lag" <<<"$BODY"'
	rep_status_has 2 '^lag: unknown' && ok "site 2: rep-status says the lag is unknown" ||
		fail "site 2: rep-status says the lag is unknown"
	is_killed 2 lag-bot true && ok "site 2 still answers checks" ||
		fail "site 2 still answers checks"
	stop_sites
	del_net
}

for SERVER in ${ANDON_TEST_SERVERS:-lighttpd apache}; do
	status
done
finish
