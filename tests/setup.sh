# setup.sh - sourced by every integration test (tests/t*.sh).
#
# Starts the real web servers on loopback with the shipped confs, each on a
# free port with a fresh data directory, and gives the tests small helpers:
#
#   start_server lighttpd|apache|apache-fcgid|apache-cgi   stop_server
#                             restart_server   (apache: mod_proxy_fcgi, the
#                             shipped default; apache-fcgid: mod_fcgid)
#   for_each_server FUNC      FUNC once per server, each on a fresh instance
#   api METHOD PATH [BODY] [CURL-ARGS...]   sets STATUS, BODY, HEADERS
#                             (KEY defaults to ADMIN_KEY; KEY='' sends none)
#   check_status CODE DESC    check_json JQ-FILTER EXPECTED DESC
#   check_header NAME ERE DESC    ok DESC    fail DESC    finish
#   wait_until SECONDS DESC CMD...   ok DESC once CMD succeeds (polled)
#   read_cases FILE FUNC      FUNC COLUMN... once per row of a table of
#                             cases (tests/cases/*.txt)
#
# When ANDON_RESPONSE_LOG names a directory, api() appends one JSON line per
# response to $ANDON_RESPONSE_LOG/$TEST_NAME.jsonl (test, server, method,
# path as called, status, content_type, body) for tests/openapi-validate.js;
# ./dev test sets it, and t0950 validates every record against
# www/openapi.json at the end of the run.
#
# After start_server: PORT, BASE, DATA, TENANT, ADMIN_KEY (scopes
# "*,platform:admin"), TENANT_B and KEY_B (a second tenant, scopes "*"), CTL
# (andonctl with -c and -d set).  CONF_OVERRIDES ("key=value" words) changes
# the test instance's copy of conf/andon.conf.  ANDON_TEST_SERVERS picks the
# servers for for_each_server (default "lighttpd apache").  ANDON_TEST_PRELOAD
# (a shared object, e.g. the fault shim tests/faults/iofail.so) is preloaded
# into the application processes under lighttpd and apache (mod_proxy_fcgi).
# ANDON_TEST_ASAN_OPTIONS is appended to their ASAN_OPTIONS.
set -u

TOP=${abs_top_srcdir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BUILD=${abs_top_builddir:-$TOP/build}
CGI_DIR=$BUILD/cgi-bin
ANDONCTL=$BUILD/cli/andonctl
TEST_NAME=$(basename "$0" .sh)

PASSED=0
FAILED=0
RESPONSE_LOG=
if [ -n "${ANDON_RESPONSE_LOG:-}" ]; then
	mkdir -p "$ANDON_RESPONSE_LOG" || exit 99
	RESPONSE_LOG=$ANDON_RESPONSE_LOG/$TEST_NAME.jsonl
	: >"$RESPONSE_LOG" || exit 99
fi
SERVER=
SERVER_PID_FILE=
DATA=
PORT=
KEY_UNSET=yes

for tool in curl jq lighttpd apache2; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "setup: $tool is not installed (./dev deps)" >&2
		exit 99
	fi
done
if [ ! -x "$ANDONCTL" ] || [ ! -x "$CGI_DIR/killswitch.fcgi" ]; then
	echo "setup: build first ($ANDONCTL or $CGI_DIR missing)" >&2
	exit 99
fi

ok() {
	PASSED=$((PASSED + 1))
	printf 'ok %d - [%s] %s\n' "$((PASSED + FAILED))" "$SERVER" "$*"
}

fail() {
	FAILED=$((FAILED + 1))
	printf 'not ok %d - [%s] %s\n' "$((PASSED + FAILED))" "$SERVER" "$*"
	printf '#   last request: %s %s -> %s\n' "${LAST_METHOD:-}" \
		"${LAST_PATH:-}" "${STATUS:-}"
	printf '#   body: %.400s\n' "${BODY:-}"
}

is_root() {
	[ "$(id -u)" -eq 0 ]
}

pid_alive() {
	local state
	state=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) ||
		return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Sets PORT to a free port.  Not called in a $(...) subshell: a subshell
# does not advance the parent's $RANDOM, so every call would draw the same.
pick_port() {
	local i
	for ((i = 0; i < 200; i++)); do
		PORT=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		port_in_use "$PORT" || return 0
	done
	return 1
}

# The application processes' sanitizer reports go to files in the data
# directory; stop_server fails the test when one appears.
server_sanitizer_env() {
	# ASan wants its runtime first; a preloaded shim comes before it
	export ASAN_OPTIONS="detect_leaks=0:log_path=$DATA/log/asan${ANDON_TEST_PRELOAD:+:verify_asan_link_order=0}${ANDON_TEST_ASAN_OPTIONS:+:$ANDON_TEST_ASAN_OPTIONS}"
	export UBSAN_OPTIONS="print_stacktrace=1:log_path=$DATA/log/ubsan"
}

# Writes the test conf: the shipped one with CONF_OVERRIDES applied.
write_test_conf() {
	local kv key value
	cp "$TOP/conf/andon.conf" "$DATA/andon.conf"
	for kv in ${CONF_OVERRIDES:-}; do
		key=${kv%%=*}
		value=${kv#*=}
		if grep -q "^$key *=" "$DATA/andon.conf"; then
			sed -i "s|^$key *=.*|$key = $value|" "$DATA/andon.conf"
		else
			printf '%s = %s\n' "$key" "$value" >>"$DATA/andon.conf"
		fi
	done
}

ctl() {
	"$ANDONCTL" -c "$DATA/andon.conf" -d "$DATA" "$@"
}

start_server() {
	local kind=$1 user
	SERVER=$kind
	DATA=$(mktemp -d /tmp/andon-t.XXXXXX) || exit 99
	chmod 755 "$DATA"
	mkdir -p "$DATA/run" "$DATA/log"
	write_test_conf
	pick_port || { echo "setup: no free port" >&2; exit 99; }
	BASE=http://127.0.0.1:$PORT

	# andonctl itself runs with LeakSanitizer on (it exits normally).
	ctl init >/dev/null || { echo "setup: andonctl init failed" >&2; exit 99; }
	TENANT=$(ctl tenant-create tenant-a) || exit 99
	ADMIN_KEY=$(ctl key-create "$TENANT" admin '*,platform:admin' 2>/dev/null) || exit 99
	TENANT_B=$(ctl tenant-create tenant-b) || exit 99
	KEY_B=$(ctl key-create "$TENANT_B" admin-b '*' 2>/dev/null) || exit 99

	# as root, both servers run the application as www-data, never root
	user=$(id -un)
	is_root && user=www-data
	is_root && chown -R "$user:" "$DATA"
	launch_server
}

# CMD... with LD_PRELOAD=$ANDON_TEST_PRELOAD when that is set.
with_preload() {
	if [ -n "${ANDON_TEST_PRELOAD:-}" ]; then
		LD_PRELOAD=$ANDON_TEST_PRELOAD "$@"
	else
		"$@"
	fi
}

# Starts the web server of kind $SERVER on $DATA and $PORT.
launch_server() {
	local i
	export ANDON_PORT=$PORT ANDON_CGI_DIR=$CGI_DIR ANDON_WWW_DIR=$TOP/www
	export ANDON_DATA=$DATA ANDON_CONF=$DATA/andon.conf ANDON_CONF_DIR=$TOP/conf
	# the user the server runs the application as when started as root;
	# not root, the servers ignore it, but it must still parse ("#uid")
	if is_root; then
		export ANDON_USER=www-data
	else
		export ANDON_USER="#$(id -u)"
	fi
	server_sanitizer_env
	case $SERVER in
	lighttpd)
		SERVER_PID_FILE=$DATA/run/lighttpd.pid
		with_preload lighttpd -f "$TOP/conf/lighttpd.conf" 2>"$DATA/log/start.err" || {
			port_taken_retry && return 0
			cat "$DATA"/log/* >&2
			exit 99
		}
		;;
	apache | apache-cgi | apache-fcgid)
		SERVER_PID_FILE=$DATA/run/apache2.pid
		local -a defines=(-D ANDON_SANITIZE)
		if [ "$SERVER" = apache-cgi ]; then
			defines+=(-D ANDON_CGI)
		elif [ "$SERVER" = apache-fcgid ]; then
			defines+=(-D ANDON_FCGID)
		else
			# mod_proxy_fcgi: the executables run on their own sockets
			with_preload "$TOP/tools/fcgi-pool" start "$CGI_DIR" "$DATA" 2>"$DATA/log/pool.err" || {
				cat "$DATA/log/pool.err" "$DATA"/log/*.log >&2
				exit 99
			}
		fi
		apache2 -f "$TOP/conf/apache.conf" "${defines[@]}" -k start 2>"$DATA/log/start.err" || {
			port_taken_retry && return 0
			cat "$DATA"/log/* >&2
			exit 99
		}
		;;
	*)
		echo "setup: unknown server $SERVER" >&2
		exit 99
		;;
	esac
	for ((i = 0; i < 150; i++)); do
		if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
			"$BASE/healthz")" = 200 ]; then
			return 0
		fi
		sleep 0.1
	done
	echo "setup: $SERVER did not answer /healthz on port $PORT" >&2
	cat "$DATA"/log/* >&2
	stop_server
	exit 99
}

# When another program took the port between pick_port and the server's
# bind, starts again on a new port (at most 5 times).
port_taken_retry() {
	grep -qiE 'already in use|could not bind' "$DATA"/log/*.log "$DATA"/log/start.err 2>/dev/null ||
		return 1
	PORT_RETRIES=$((${PORT_RETRIES:-0} + 1))
	((PORT_RETRIES <= 5)) || return 1
	rm -f "$DATA"/log/*.log
	pick_port || return 1
	BASE=http://127.0.0.1:$PORT
	launch_server
}

# Stops the web server and its application processes, keeping $DATA.
halt_server() {
	local pid i
	pid=$(cat "$SERVER_PID_FILE" 2>/dev/null)
	if [ -n "$pid" ] && pid_alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null
		for ((i = 0; i < 200; i++)); do
			if ! pid_alive "$pid" && ! port_in_use "$PORT"; then
				break
			fi
			sleep 0.1
		done
		pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null
	fi
	[ -d "$DATA/run/fcgi" ] && "$TOP/tools/fcgi-pool" stop "$DATA"
	# lighttpd and the pool end their children; make sure of it.
	for pid in $(app_pids '' all); do kill -KILL "$pid" 2>/dev/null; done
	for ((i = 0; i < 50; i++)); do
		[ -z "$(app_pids '' all)" ] && break
		sleep 0.1
	done
}

# Stops and starts the same server on the same data and port.
restart_server() {
	halt_server
	launch_server
}

# Pids of the processes of this instance that serve requests (FastCGI or
# CGI) from executable $1 (default all); with $2 = all, also those that do
# not: the checkpointer standbys (lib/checkpointer.h) and the supervisors
# of Apache's sockets (lib/prefork.h).
app_pids() {
	local exe=${1:-} pid
	for pid in $(pgrep -f "$CGI_DIR/${exe:-}" 2>/dev/null); do
		if grep -qz "^ANDON_DATA=$DATA\$" "/proc/$pid/environ" 2>/dev/null; then
			pid_alive "$pid" || continue
			[ "${2:-}" != all ] &&
				grep -qxE 'andon-(ckpt|pool)' "/proc/$pid/comm" 2>/dev/null && continue
			echo "$pid"
		fi
	done
}

# bdb_crashes_after_sigkill: for tests that SIGKILL processes inside
# Berkeley DB.  Berkeley DB 5.3 may then crash in its own code in another
# process (seen: SEGV or SIGBUS in __lock_detect, and in __lock_vec and
# __lock_promote under failchk() cleaning up after the dead process): its
# lock region was left half-changed.  Such a crash is one more process fault: the crashed
# process asks for a forced recovery (lib/watchdog.c, test_watchdog; its
# stderr is not kept under lighttpd), and the test's own checks say
# nothing was lost and the service came back.  Its sanitizer reports
# (frame #0 in libdb, or cut short before any frame) are counted and set
# aside; any other report still fails the test at stop_server.  Sets
# BDB_CRASHES.
bdb_crashes_after_sigkill() {
	local report
	BDB_CRASHES=0
	for report in "$DATA"/log/asan.*; do
		[ -e "$report" ] || continue
		grep -Eq 'ERROR: AddressSanitizer: (SEGV|BUS) ' "$report" || continue
		# frame #0 in libdb; or no frame at all: a report cut short (the
		# process was SIGKILLed, or faulted again, while writing it)
		if grep -q '^ *#0 ' "$report"; then
			grep -m1 '^ *#0 ' "$report" | grep -q 'libdb-5\.3\.so' || continue
		fi
		BDB_CRASHES=$((BDB_CRASHES + 1))
		mv "$report" "$DATA/log/bdb-crash.${report##*.}"
	done
	echo "# Berkeley DB crashed inside its own code $BDB_CRASHES times after the SIGKILLs"
}

stop_server() {
	local report
	[ -n "$SERVER_PID_FILE" ] || return 0
	halt_server
	for report in "$DATA"/log/asan* "$DATA"/log/ubsan*; do
		[ -e "$report" ] || continue
		fail "sanitizer report from the application: $report"
		cat "$report"
	done
	if grep -q "runtime error:" "$DATA"/log/*error.log 2>/dev/null; then
		fail "UBSan runtime error in the server error log"
		grep -A5 "runtime error:" "$DATA"/log/*error.log | head -40
	fi
	SERVER_PID_FILE=
	if ((FAILED == 0)); then
		rm -rf "$DATA"
	else
		echo "# data directory kept for inspection: $DATA"
	fi
}

for_each_server() {
	local s
	for s in ${ANDON_TEST_SERVERS:-lighttpd apache}; do
		start_server "$s"
		"$@"
		stop_server
	done
}

# api METHOD PATH [BODY] [CURL-ARGS...]
api() {
	local method=$1 path=$2 key out=$DATA/.body
	[ "$method" = HEAD ] && out=/dev/null
	: >"$DATA/.body"
	local -a args=(-s -o "$out" -D "$DATA/.headers" -w '%{http_code}'
		--max-time 30)
	shift 2
	if [ $# -gt 0 ] && [ "${1:0:1}" != - ]; then
		args+=(--data-binary "$1" -H 'Content-Type: application/json')
		shift
	fi
	if [ "$method" = HEAD ]; then
		args+=(--head)
	else
		args+=(-X "$method")
	fi
	key=${KEY-$ADMIN_KEY}
	[ -n "$key" ] && args+=(-H "X-API-Key: $key")
	LAST_METHOD=$method
	LAST_PATH=$path
	STATUS=$(curl "${args[@]}" "$@" "$BASE$path")
	BODY=$(cat "$DATA/.body" 2>/dev/null)
	HEADERS=$(tr -d '\r' <"$DATA/.headers" 2>/dev/null)
	if [ -n "$RESPONSE_LOG" ]; then log_response "$method" "$path"; fi
}

# One record of the last response for the OpenAPI validator.  The content
# type is the final response's (curl -D keeps every header block).
log_response() {
	local type
	type=$(awk 'tolower($0) ~ /^http\// { t = "" }
		tolower($0) ~ /^content-type:/ { sub(/^[^:]*: */, ""); t = $0 }
		END { print t }' <<<"$HEADERS")
	jq -cn --arg test "$TEST_NAME" --arg server "$SERVER" --arg method "$1" \
		--arg path "$2" --arg status "${STATUS:-0}" --arg type "$type" \
		--rawfile body "$DATA/.body" \
		'{test: $test, server: $server, method: $method, path: $path,
		  status: ($status | tonumber? // 0), content_type: $type, body: $body}' \
		>>"$RESPONSE_LOG" 2>/dev/null ||
		printf 'setup: could not log %s %s\n' "$1" "$2" >&2
}

# case_text TEXT: a column of a case table as it is sent.  "<empty>" is
# the empty string; {N*C} is C N times, {xff} the byte 0xff and {name} the
# value of the shell variable name (the caller's).
case_text() {
	local s=$1 r name
	local rep='\{([0-9]+)\*([^}]+)\}' var='\{([a-z_][a-z0-9_]*)\}'
	[ "$s" = '<empty>' ] && return 0
	while :; do
		if [[ $s =~ $rep ]]; then
			printf -v r '%*s' "${BASH_REMATCH[1]}" ''
			r=${r// /"${BASH_REMATCH[2]}"}
		elif [[ $s =~ $var ]]; then
			name=${BASH_REMATCH[1]}
			if [ "$name" = xff ]; then r=$'\xff'; else r=${!name}; fi
		else
			break
		fi
		s=${s/"${BASH_REMATCH[0]}"/"$r"}
	done
	printf '%s' "$s"
}

# read_cases FILE FUNC: calls FUNC with the columns of each row of FILE,
# a table of cases in the manner of jansson's test suites: one case a
# line, columns separated by "|" and trimmed, each through case_text;
# blank lines and lines starting with # are skipped.
read_cases() {
	local line i col
	local -a cols
	while IFS= read -r line <&3; do
		[[ $line =~ ^[[:space:]]*(#|$) ]] && continue
		IFS='|' read -r -a cols <<<"$line"
		for i in "${!cols[@]}"; do
			col=${cols[i]#"${cols[i]%%[![:space:]]*}"}
			col=${col%"${col##*[![:space:]]}"}
			cols[i]=$(case_text "$col")
		done
		"$2" "${cols[@]}"
	done 3<"$1"
}

check_status() {
	if [ "$STATUS" = "$1" ]; then ok "$2"; else fail "$2 (want $1, got $STATUS)"; fi
}

check_json() {
	local got want
	got=$(jq -c "$1" <<<"$BODY" 2>/dev/null) || got="<not JSON: jq failed>"
	want=$(jq -c . <<<"$2" 2>/dev/null) || want=$2
	if [ "$got" = "$want" ]; then ok "$3"; else fail "$3 ($1: want $want, got $got)"; fi
}

check_header() {
	local value
	value=$(grep -i "^$1:" <<<"$HEADERS" | head -n1 | sed 's/^[^:]*: *//')
	if grep -Eq -- "$2" <<<"$value"; then
		ok "$3"
	else
		fail "$3 (header $1: '$value' does not match /$2/)"
	fi
}

check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else fail "$desc"; fi
}

# lost_kills FILE: of the lines "TARGET STATUS ..." of FILE (kills of
# runs) with a 2xx status, how many a check does not say killed.
lost_kills() {
	local t lost=0
	while read -r t _; do
		api GET "/api/v1/kill-switch/check?target_type=run&target_id=$t"
		[ "$STATUS" = 200 ] && [ "$(jq -r .is_killed <<<"$BODY")" = true ] ||
			lost=$((lost + 1))
	done < <(awk '$2 ~ /^2/' "$1")
	echo "$lost"
}

# wait_until SECONDS DESC CMD...: polls CMD every 0.1 s.
wait_until() {
	local secs=$1 desc=$2 i
	shift 2
	for ((i = 0; i < secs * 10; i++)); do
		"$@" && { ok "$desc"; return 0; }
		sleep 0.1
	done
	fail "$desc (not within ${secs}s)"
	return 1
}

finish() {
	stop_server
	echo "# $TEST_NAME: $PASSED passed, $FAILED failed"
	((FAILED == 0)) || exit 1
	((PASSED > 0)) || exit 99
	exit 0
}

trap 'stop_server' EXIT
