#!/usr/bin/env bash
# t0940: SIEM delivery (issue 14; issue 16 defect 2): "andonctl siem" reads
# every committed audit event from the trail and sends it to syslog as an
# RFC 5424 datagram on a Unix socket (tests/siem-listener.py stands in for
# /dev/log) and to a JSON-lines file.
#
# Asserts: the events of the setup's andonctl calls, of a kill (non-ASCII
# reason) and of andonctl tenant-create and key-create all reach both
# sinks, once each, in seq order; every syslog line parses as RFC 5424
# (PRI of the conf's facility, version 1, timestamp, APP-NAME the conf's
# ident, MSGID the type) with an ASCII MSG that is JSON equal to the stored
# event (the JSON-lines line, and the API's answer); a logger that is not
# there yet loses nothing; the file moved away (logrotate) is followed by a
# new one with no line lost or repeated; SIGHUP reopens and the sink lives
# on; SIGKILL mid-burst and a restart lose nothing; a second siem on the
# same data directory is refused; --once sends everything and exits; no
# API key secret appears in any sink or the siem's log.
. "$(dirname "$0")/setup.sh"

command -v python3 >/dev/null || { echo "t0940: python3 is needed" >&2; exit 99; }
LISTENER=$TOP/tests/siem-listener.py
FACILITY=19     # local3
APP=andon-t0940

# the burst below is more kills than one minute's tokens
CONF_OVERRIDES="rate_limit_per_minute=0 tenant_rate_limit_per_minute=0"

SIEM=
RECV=
stop_siem() {
	[ -n "$SIEM" ] && { kill -TERM "$SIEM" 2>/dev/null; wait "$SIEM" 2>/dev/null; }
	SIEM=
}
stop_listener() {
	[ -n "$RECV" ] && { kill -TERM "$RECV" 2>/dev/null; wait "$RECV" 2>/dev/null; }
	RECV=
}
trap 'stop_siem; stop_listener; stop_server' EXIT

# Not through ctl: $! must be andonctl's own pid (SIGKILL below).
start_siem() {
	"$ANDONCTL" -c "$DATA/andon.conf" -d "$DATA" siem >>"$DATA/log/siem.log" 2>&1 &
	SIEM=$!
}

start_listener() {
	local i
	python3 "$LISTENER" listen "$SOCK" "$SYSLOG" 2>>"$DATA/log/listener.err" &
	RECV=$!
	for ((i = 0; i < 100; i++)); do
		[ -S "$SOCK" ] && return 0
		sleep 0.1
	done
	fail "the test listener did not bind $SOCK"
}

# The sinks, after the setup's andonctl calls (their events wait).
siem_conf() {
	SOCK=$DATA/run/syslog.sock
	SYSLOG=$DATA/log/syslog.txt
	JSONL=$DATA/log/siem/audit.jsonl
	mkdir -p "$DATA/log/siem"
	# andonctl runs as the data directory's owner
	chown --reference="$DATA" "$DATA/log/siem"
	: >"$SYSLOG"
	cat >>"$DATA/andon.conf" <<EOF
audit_syslog = yes
audit_syslog_socket = $SOCK
audit_syslog_ident = $APP
audit_syslog_facility = local3
audit_jsonl = $JSONL
EOF
}

head_seq() {
	ctl verify | sed -n 's/^ok: \([0-9]*\) audit events.*/\1/p'
}

# The seqs in the JSON-lines files / the syslog capture, one a line.
jsonl_seqs() {
	cat "$@" 2>/dev/null | jq -r .seq
}
syslog_seqs() {
	python3 "$LISTENER" check "$SYSLOG" "$APP" "$FACILITY" | jq -r .seq
}

# seqs_are N WHAT...: the seqs read by WHAT are 1..N, each exactly once.
seqs_are() {
	local n=$1
	shift
	[ "$("$@" | tr '\n' ' ')" = "$(seq 1 "$n" | tr '\n' ' ')" ]
}
# seqs_cover N WHAT...: every seq 1..N, some maybe repeated (at least once).
seqs_cover() {
	local n=$1
	shift
	[ "$("$@" | sort -n -u | tr '\n' ' ')" = "$(seq 1 "$n" | tr '\n' ' ')" ]
}

# kills N PREFIX: N kills of distinct agents over one connection.
kills() {
	local i
	for ((i = 0; i < $1; i++)); do
		((i == 0)) || echo next
		printf 'url = "%s/api/v1/kill-switch/kill"\nheader = "X-API-Key: %s"\n' "$BASE" "$ADMIN_KEY"
		printf 'header = "Content-Type: application/json"\n'
		printf 'data = "{\\"target_type\\":\\"agent\\",\\"target_id\\":\\"%s-%d\\"}"\n' "$2" "$i"
		printf 'output = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n'
	done >"$DATA/run/kills.cfg"
	curl -s -K "$DATA/run/kills.cfg" >"$DATA/run/kills.status"
}

# Rotates $JSONL into $ROTATED: with logrotate and conf/logrotate (its
# path made this test's), else as logrotate does, by a move.
rotate() {
	if command -v logrotate >/dev/null; then
		sed "s|/var/log/andon/|$DATA/log/siem/|" "$TOP/conf/logrotate" >"$DATA/run/logrotate.conf"
		check "logrotate with the shipped snippet" \
			logrotate -f -s "$DATA/run/logrotate.state" "$DATA/run/logrotate.conf"
		ROTATED=$(ls "$JSONL"-* 2>/dev/null | head -n 1)
	else
		ROTATED=$JSONL.1
		mv "$JSONL" "$ROTATED"
	fi
	# (the sink may already have made the new file: only not the old one)
	check "the file was moved away" test -s "$ROTATED" -a ! "$JSONL" -ef "$ROTATED"
}

siem_flow() {
	local n reason secret keyid line kill_seq second
	siem_conf

	# the logger is not there yet: the events wait, none is lost
	start_siem
	reason='Drained €3k — über limit 𝄞 "quoted"'
	api POST /api/v1/kill-switch/kill "$(jq -cn --arg r "$reason" \
		'{target_type:"agent", target_id:"rogue-bot", reason:$r}')"
	check_status 201 "a kill"
	ctl tenant-create siem-tenant >/dev/null
	secret=$(ctl key-create "$TENANT" siem-key 'killswitch:check' 2>"$DATA/run/key.err")
	keyid=$(sed -n 's/^key id \(key_[0-9a-f]*\) .*/\1/p' "$DATA/run/key.err")
	check "andonctl key-create made a key" test -n "$secret" -a -n "$keyid"
	n=$(head_seq)
	wait_until 10 "the JSON-lines file gets all $n events (andonctl's too)" \
		seqs_are "$n" jsonl_seqs "$JSONL"
	check "no syslog line while the logger is away" test ! -s "$SYSLOG"
	start_listener
	wait_until 10 "once the logger is there, syslog gets all $n events, once each, in order" \
		seqs_are "$n" syslog_seqs

	check "every syslog line parses as RFC 5424 (PRI local3.notice, version 1, APP-NAME, MSGID)" \
		python3 "$LISTENER" check "$SYSLOG" "$APP" "$FACILITY"
	check "every syslog MSG is JSON equal to the JSON-lines line of its event" \
		cmp -s <(python3 "$LISTENER" check "$SYSLOG" "$APP" "$FACILITY") \
		<(python3 "$LISTENER" canon "$JSONL")
	check "every syslog line is ASCII" bash -c '! LC_ALL=C grep -q "[^ -~]" "$1"' _ "$SYSLOG"
	check "the JSON-lines file keeps the reason in UTF-8" grep -qF "über limit 𝄞" "$JSONL"
	check "the JSON-lines line carries the reason" \
		test "$(jq -r 'select(.type == "killswitch.activated") | .reason' "$JSONL")" = "$reason"
	check "the syslog MSG carries the non-ASCII reason" \
		test "$(python3 "$LISTENER" check "$SYSLOG" "$APP" "$FACILITY" |
			jq -r 'select(.type == "killswitch.activated") | .reason')" = "$reason"
	check "andonctl tenant-create and key-create reach syslog (issue 16 defect 2)" \
		test "$(python3 "$LISTENER" check "$SYSLOG" "$APP" "$FACILITY" | tail -n 2 | jq -r .type | tr '\n' ' ')" = "tenant.created key.created "
	check "andonctl's events reach the JSON-lines file" \
		test "$(tail -n 2 "$JSONL" | jq -r .type | tr '\n' ' ')" = "tenant.created key.created "
	check "the setup's andonctl events (before the siem ran) are there" \
		test "$(head -n 4 "$JSONL" | jq -r .type | tr '\n' ' ')" = "tenant.created key.created tenant.created key.created "

	api GET '/v1/audit/events?type=killswitch.activated&limit=1'
	kill_seq=$(jq -r '.data[0].seq' <<<"$BODY")
	line=$(python3 "$LISTENER" check "$SYSLOG" "$APP" "$FACILITY" | jq -c "select(.seq == $kill_seq)")
	check "the kill's syslog MSG equals the event the API answers" \
		test "$(jq -cS . <<<"$line")" = "$(jq -cS '.data[0]' <<<"$BODY")"

	# a second one on the same data directory
	check "a second andonctl siem is refused while one runs" \
		bash -c '! "$1" -c "$2/andon.conf" -d "$2" siem --once 2>"$2/run/second.err" && grep -q "another andonctl siem" "$2/run/second.err"' \
		_ "$ANDONCTL" "$DATA"

	# logrotate (the shipped snippet when logrotate is installed): the
	# file is moved away, the sink follows
	rotate
	kills 5 rotated
	n=$(head_seq)
	wait_until 10 "after a rotation the new file starts where the old ended" \
		seqs_are "$n" jsonl_seqs "$ROTATED" "$JSONL"
	check "the new file holds the 5 kills after the move" \
		test "$(jq -r .type "$JSONL" | sort | uniq -c | tr -s ' ')" = " 5 killswitch.activated"
	mv "$JSONL" "$JSONL.2"
	kill -HUP "$SIEM"
	sleep 0.2
	check "SIGHUP: the siem lives on" kill -0 "$SIEM"
	kills 2 hup
	n=$(head_seq)
	wait_until 10 "after SIGHUP every event is in one of the files, once" \
		seqs_are "$n" jsonl_seqs "$ROTATED" "$JSONL.2" "$JSONL"
	check "syslog still once each" seqs_are "$n" syslog_seqs

	# SIGKILL mid-burst, then a restart: nothing is lost
	kills 300 burst &
	local burster=$! i
	for ((i = 0; i < 100; i++)); do
		[ "$(wc -l <"$SYSLOG")" -ge $((n + 30)) ] && break
		sleep 0.05
	done
	kill -KILL "$SIEM"
	wait "$SIEM" 2>/dev/null
	SIEM=
	check "the siem was killed mid-burst" test "$(wc -l <"$SYSLOG")" -lt $((n + 300))
	wait "$burster"
	# (a SIGKILL inside the database can make the other processes ask for
	# a forced recovery; a kill in flight then fails, uncommitted)
	check "the burst's kills were committed ($(grep -c '^201$' "$DATA/run/kills.status") of 300)" \
		test "$(grep -c '^201$' "$DATA/run/kills.status")" -ge 250
	start_siem
	n=$(head_seq)
	wait_until 30 "after SIGKILL and restart: every event reaches the file" \
		seqs_cover "$n" jsonl_seqs "$ROTATED" "$JSONL.2" "$JSONL"
	wait_until 30 "after SIGKILL and restart: every event reaches syslog" \
		seqs_cover "$n" syslog_seqs
	check "every kill answered 201 is in the file" \
		test -z "$(comm -23 <(awk '$0 == "201" { print "burst-" NR - 1 }' "$DATA/run/kills.status" | sort) \
			<(cat "$ROTATED" "$JSONL.2" "$JSONL" | jq -r '.target.id' | sort -u))"
	second=$(($(syslog_seqs | wc -l) - n))
	check "repeats only what followed the saved cursor ($second repeated)" \
		test "$second" -ge 0 -a "$second" -lt 300
	check "after the restart syslog lines still parse" \
		python3 "$LISTENER" check "$SYSLOG" "$APP" "$FACILITY"
	stop_siem

	# --once: everything committed, then it exits
	ctl tenant-create once-tenant >/dev/null
	n=$(head_seq)
	check "andonctl siem --once exits 0" ctl siem --once
	check "--once sent the last event to the file" \
		test "$(tail -n 1 "$JSONL" | jq -r .seq)" = "$n"
	check "--once sent the last event to syslog" \
		test "$(syslog_seqs | tail -n 1)" = "$n"
	stop_listener
	check "--once with the logger away fails and says why" \
		bash -c '! "$1" -c "$2/andon.conf" -d "$2" siem --once 2>"$2/run/once.err" && grep -q "syslog sink" "$2/run/once.err"' \
		_ "$ANDONCTL" "$DATA"

	# secrets
	check "the key's id is in the file (the search sees it)" grep -qF "$keyid" "$ROTATED"
	check "the key's id is in syslog (the search sees it)" grep -qF "$keyid" "$SYSLOG"
	check "no API key secret in any sink or the siem's log" \
		bash -c '! grep -r -a -F -q -e "${1:23}" -e "${2:23}" -e "${3:23}" "$4"' \
		_ "$ADMIN_KEY" "$KEY_B" "$secret" "$DATA/log"
	bdb_crashes_after_sigkill
}

# Plain CGI (mod_cgid): its events reach the sink like any other.
as_cgi() {
	local n
	siem_conf
	echo 'audit_syslog = no' >>"$DATA/andon.conf"
	api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"cgi-bot"}'
	check_status 201 "a kill as plain CGI"
	check "andonctl siem --once (the file only)" \
		bash -c '"$1" -c "$2/andon.conf" -d "$2" siem --once 2>>"$2/log/siem.log"' \
		_ "$ANDONCTL" "$DATA"
	n=$(head_seq)
	check "as plain CGI: every event reached the file" seqs_are "$n" jsonl_seqs "$JSONL"
	check "the plain CGI kill is its last line" \
		test "$(tail -n 1 "$JSONL" | jq -r '.type + " " + .target.id')" = "killswitch.activated cgi-bot"
}

for_each_server siem_flow
ANDON_TEST_SERVERS=apache-cgi for_each_server as_cgi
finish
