# replication-sites.sh - sourced by the replication tests (t1100, t1110...)
# after setup.sh.  Three sites on one machine, each in a network namespace
# of its own (veth links to a bridge in a fourth namespace, addresses
# 10.231.0.1-3/24 that exist only inside them), each with its data
# directory, its "andonctl replicate" and its web server (the shipped conf)
# on its own loopback; tests/tcp-forward.py makes each site's server answer
# on its address too (the shipped confs listen on 127.0.0.1), so that
# redirects can be followed.  The namespaces are removed on exit (trap).
#
#   make_net / del_net        the namespaces and links
#   make_sites                data directories, site 1 initialised (TENANT,
#                             ADMIN_KEY), the others empty, replication on
#   start_group               make_net, make_sites, site 1 elected master,
#                             sites 2 and 3 its replicas, every web server
#   start_replicate I / start_web I / stop_sites
#   kill_site I               SIGKILL to every process of site I
#   halt_site I / restart_replicate I    stop it keeping its data; start
#                             its replication process again
#   use_site I                api() and the server helpers talk to site I
#   site_ctl I ARGS...        andonctl of site I, inside its namespace
#   in_site I CMD...          CMD inside site I's namespace
#   rep_status_has I ERE      rep-status of site I has a matching line
#   is_killed I TARGET WANT   a check on site I answers is_killed WANT
#   end_pid PID               SIGTERM, SIGKILL after 20 s
#   kill_load I PREFIX DIR &  kills through site I until DIR/stop; the
#                             acknowledged ones in DIR/acked (acked_count)
# Needs root and ip(8): sourcing it skips the test (77) otherwise.

if ! is_root || ! command -v ip >/dev/null 2>&1; then
	echo "# $TEST_NAME: needs root and ip(8) for network namespaces: skipped"
	exit 77
fi

RUN=andon$$
HUB=${RUN}h
WEB_PORT=18480
REP_PORT=17401
declare -a NS SDATA SPIDF REPPID FWDPID
CUR_NS=

# The commands api() and the servers run, inside the current site's
# namespace (on the host with none: CUR_NS empty).
curl() {
	if [ -n "$CUR_NS" ]; then
		ip netns exec "$CUR_NS" "$(type -P curl)" "$@"
	else
		command curl "$@"
	fi
}
in_site() { local i=$1; shift; ip netns exec "${NS[i]}" "$@"; }

make_net() {
	local i
	ip netns add "$HUB" || return 1
	ip -n "$HUB" link add br0 type bridge || return 1
	ip -n "$HUB" link set br0 up
	for i in 1 2 3; do
		NS[i]=$RUN$i
		ip netns add "${NS[i]}" || return 1
		ip -n "${NS[i]}" link set lo up
		ip -n "$HUB" link add "s$i" type veth peer name eth0 netns "${NS[i]}" ||
			return 1
		ip -n "$HUB" link set "s$i" master br0 up
		ip -n "${NS[i]}" addr add "10.231.0.$i/24" dev eth0
		ip -n "${NS[i]}" link set eth0 up
	done
}

del_net() {
	local i
	for i in 1 2 3; do
		[ -n "${NS[i]:-}" ] && ip netns del "${NS[i]}" 2>/dev/null
	done
	ip netns del "$HUB" 2>/dev/null
	return 0
}

# SIGTERM to pid $1, SIGKILL when still there after 20 s.
end_pid() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 200; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# Makes site $1 the current one for api(), ctl and the server helpers.
use_site() {
	local i=$1
	CUR_NS=${NS[i]}
	DATA=${SDATA[i]}
	SERVER_PID_FILE=${SPIDF[i]:-}
	PORT=$WEB_PORT
	BASE=http://127.0.0.1:$PORT
}

site_ctl() {
	local i=$1
	shift
	ASAN_OPTIONS="detect_leaks=0:log_path=${SDATA[i]}/log/asan" \
		in_site "$i" "$ANDONCTL" -c "${SDATA[i]}/andon.conf" -d "${SDATA[i]}" "$@"
}

# The replication keys of site $1 (replication off until enable_site).
site_conf() {
	local i=$1 j
	{
		echo "replication_local_site = 10.231.0.$i:$REP_PORT"
		echo "replication_base_url = http://10.231.0.$i:$WEB_PORT"
		for j in 1 2 3; do
			[ "$j" = "$i" ] ||
				echo "replication_site = 10.231.0.$j:$REP_PORT http://10.231.0.$j:$WEB_PORT"
		done
	} >>"${SDATA[i]}/andon.conf"
}

make_sites() {
	local i
	for i in 1 2 3; do
		SDATA[i]=$(mktemp -d /tmp/andon-t.XXXXXX) || exit 99
		chmod 755 "${SDATA[i]}"
		mkdir -p "${SDATA[i]}/run" "${SDATA[i]}/log"
		DATA=${SDATA[i]}
		write_test_conf
		site_conf "$i"
	done
	# site 1 holds the data the group starts from; the others start empty
	# and are built by replication
	DATA=${SDATA[1]}
	ctl init >/dev/null || { echo "setup: andonctl init failed" >&2; exit 99; }
	TENANT=$(ctl tenant-create tenant-a) || exit 99
	ADMIN_KEY=$(ctl key-create "$TENANT" admin '*,platform:admin' 2>/dev/null) || exit 99
	for i in 1 2 3; do
		# every site checks keys with the same pepper
		[ "$i" = 1 ] || cp "${SDATA[1]}/andon.pepper" "${SDATA[i]}/"
		sed -i 's/^replication = no/replication = yes/' "${SDATA[i]}/andon.conf"
		chown -R www-data: "${SDATA[i]}"
	done
}

# The replication process of site $1; $! is andonctl itself (exec).
start_replicate() {
	local i=$1
	ASAN_OPTIONS="detect_leaks=0:log_path=${SDATA[i]}/log/asan" \
		exec ip netns exec "${NS[i]}" "$ANDONCTL" -c "${SDATA[i]}/andon.conf" \
		-d "${SDATA[i]}" replicate >>"${SDATA[i]}/log/replicate.log" 2>&1 &
	REPPID[i]=$!
}

# rep-status of site $1 has a line matching $2.
rep_status_has() {
	site_ctl "$1" rep-status 2>/dev/null | grep -qE "$2"
}

# The web server of site $1, started inside its namespace.
start_web() {
	local i=$1
	use_site "$i"
	SPIDF[i]=${SDATA[i]}/run/$([ "$SERVER" = lighttpd ] && echo lighttpd || echo apache2).pid
	ANDON_RESPONSE_LOG= in_site "$i" bash -c '
		. "$1/tests/setup.sh"
		trap - EXIT    # the server outlives this shell
		SERVER=$2 DATA=$3 PORT=$4 BASE=http://127.0.0.1:$4
		launch_server' _ "$TOP" "$SERVER" "${SDATA[i]}" "$WEB_PORT" ||
		{ echo "setup: site $i: $SERVER did not start" >&2; exit 99; }
	SERVER_PID_FILE=${SPIDF[i]}
	exec ip netns exec "${NS[i]}" python3 "$TOP/tests/tcp-forward.py" \
		"10.231.0.$i" "$WEB_PORT" 127.0.0.1 "$WEB_PORT" \
		2>>"${SDATA[i]}/log/forward.log" &
	FWDPID[i]=$!
}

# Stops site $1 (forwarder, web server, replication process), keeping its
# data directory; the web server with $2 (default halt_server; stop_server
# also fails the test on a sanitizer report).
halt_site() {
	local i=$1
	use_site "$i"
	end_pid "${FWDPID[i]:-}"
	FWDPID[i]=
	[ -n "$SERVER_PID_FILE" ] && "${2:-halt_server}"
	end_pid "${REPPID[i]:-}"
	REPPID[i]=
}

stop_sites() {
	local i
	for i in 1 2 3; do
		[ -n "${SDATA[i]:-}" ] || continue
		halt_site "$i" stop_server
		SPIDF[i]=
		((FAILED == 0)) && rm -rf "${SDATA[i]}"
		SDATA[i]=
	done
	SERVER_PID_FILE=
}

cleanup() {
	stop_sites
	del_net
}
trap cleanup EXIT

is_killed() {   # SITE TARGET WANT
	use_site "$1"
	api GET "/api/v1/kill-switch/check?target_type=agent&target_id=$2"
	[ "$STATUS" = 200 ] && [ "$(jq -r .is_killed <<<"$BODY")" = "$3" ]
}


# The group: site 1 (it has the longest log) is elected master, sites 2 and
# 3 become its replicas, and every site's web server answers.
start_group() {
	local i
	make_net || { echo "setup: cannot make network namespaces" >&2; exit 99; }
	make_sites
	start_replicate 1
	start_replicate 2
	wait_until 30 "a master is elected: site 1" \
		rep_status_has 1 '^role: master$'
	start_replicate 3
	for i in 2 3; do
		wait_until 30 "site $i is a replica of site 1" \
			rep_status_has "$i" "^master: 10\.231\.0\.1:$REP_PORT http://10\.231\.0\.1:$WEB_PORT\$"
	done
	for i in 1 2 3; do start_web "$i"; done
}

# SIGKILL to every process of site $1 at once: its replication process, the
# forwarder, the web server and its children, the application.
kill_site() {
	local i=$1 pid
	use_site "$i"
	pid=$(cat "${SPIDF[i]}" 2>/dev/null)
	for pid in "${REPPID[i]}" "${FWDPID[i]}" $pid ${pid:+$(pgrep -P "$pid")} \
		$(app_pids '' all); do
		[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	done
	REPPID[i]=
	FWDPID[i]=
}

# Starts site $1's replication process again after kill_site or
# halt_site, what is left of its web server cleared away first; start_web
# once it follows a master (its /healthz answers 503 until then, and the
# server's start waits for a 200).
restart_replicate() {
	local i=$1
	use_site "$i"
	[ -n "$SERVER_PID_FILE" ] && halt_server
	start_replicate "$i"
}

# Kills sent through site $1 (curl -L to whichever site is the master) of
# agents $2-1, $2-2... until $3/stop appears: "TARGET SENT ANSWERED"
# appended to $3/acked for each one answered 201 (milliseconds: when it
# was sent, when the answer came).
kill_load() {
	local site=$1 prefix=$2 dir=$3 n=0 code sent
	while [ ! -e "$dir/stop" ]; do
		n=$((n + 1))
		sent=$(date +%s%3N)
		code=$(in_site "$site" "$(type -P curl)" -s -o /dev/null -L \
			-w '%{http_code}' --connect-timeout 1 --max-time 10 -X POST \
			-H "X-API-Key: $ADMIN_KEY" -H 'Content-Type: application/json' \
			-H "Idempotency-Key: $prefix-$n" \
			--data-binary "{\"target_type\":\"agent\",\"target_id\":\"$prefix-$n\"}" \
			"http://127.0.0.1:$WEB_PORT/api/v1/kill-switch/kill")
		[ "$code" = 201 ] && echo "$prefix-$n $sent $(date +%s%3N)" >>"$dir/acked"
		[ "$code" = 201 ] || sleep 0.1
	done
}

# How many kills kill_load saw acknowledged in $1.
acked_count() { wc -l <"$1/acked" 2>/dev/null || echo 0; }
