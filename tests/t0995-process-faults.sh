#!/usr/bin/env bash
# t0995: process faults under a mixed load (issue 19).  For CHAOS_SECONDS
# (20 by default; ./dev faults runs minutes) kills, agent registrations and
# checks run while a chaos loop sends SIGKILL, or SIGSTOP and a later
# SIGCONT, to a random process of the instance: the FastCGI workers of
# every family, the checkpointer standbys, the webhook notifier (restarted
# when it died, as its systemd unit would) and an andonctl backup taken
# over and over.  Afterwards:
#   - every kill and every registration answered 2xx is present;
#   - no check answered 200 with the wrong is_killed;
#   - no request went unanswered past its timeout (the watchdog bounds the
#     time a process may spend stuck in the database: watchdog_seconds);
#   - the service answers again by itself, a backup taken then restores,
#     and the audit chain and transparency log verify;
#   - the recovery paths taken (watchdog exits, forced recoveries,
#     processes restarted by the web server) are counted in the output;
#   - a crash inside Berkeley DB itself after a SIGKILL (its lock region
#     left half-changed) asked for a forced recovery; any other sanitizer
#     report fails the test.
. "$(dirname "$0")/setup.sh"

CHAOS_SECONDS=${CHAOS_SECONDS:-20}
REQUEST_TIMEOUT=30
# a short watchdog: a process stopped inside the database for longer than
# this makes the others that wait on it leave and ask for a forced recovery
export CONF_OVERRIDES="rate_limit_per_minute=1000000 rate_limit_burst=1000000 watchdog_seconds=5"

# call METHOD PATH [BODY]: one line "STATUS SECONDS BODY" (its own curl;
# the API's bodies are one line)
call() {
	local -a body=()
	local out
	[ -n "${3:-}" ] && body=(-H 'Content-Type: application/json' --data-binary "$3")
	out=$(curl -s --max-time "$REQUEST_TIMEOUT" -w '\n%{http_code} %{time_total}' \
		-X "$1" -H "X-API-Key: $ADMIN_KEY" -H "X-Tenant-ID: $TENANT" \
		"${body[@]}" "$BASE$2")
	printf '%s %s\n' "${out##*$'\n'}" "$(head -n 1 <<<"${out%$'\n'*}")"
}

running() { [ ! -e "$DATA/stop-load" ]; }

count() {		# count PATTERN FILE...: matching lines, 0 without files
	cat "${@:2}" 2>/dev/null | grep -ci "$1" || true
}

kill_writer() {		# kill_writer N: "target status seconds"
	local i=0 out
	while running; do
		i=$((i + 1))
		out=$(call POST /api/v1/kill-switch/kill \
			"{\"target_type\":\"agent\",\"target_id\":\"chaos-$1-$i\",\"reason\":\"chaos\"}")
		printf 'chaos-%s-%s %s\n' "$1" "$i" "${out%% \{*}"
	done >"$DATA/kills.$1"
}

agent_writer() {	# "uuid status seconds" (uuid "-" when none)
	local i=0 out id
	while running; do
		i=$((i + 1))
		out=$(call POST /v1/agents \
			"{\"agent_type\":\"worker\",\"display_name\":\"chaos-$i\",\"scopes\":[\"s\"]}")
		id=$(jq -r '.id // "-"' <<<"${out#* * }" 2>/dev/null || echo -)
		printf '%s %s\n' "${id:--}" "$(cut -d' ' -f1-2 <<<"$out")"
	done >"$DATA/agents"
}

checker() {		# checker TARGET WANT: "status seconds is_killed want"
	local out killed
	while running; do
		out=$(call GET "/api/v1/kill-switch/check?target_type=agent&target_id=$1")
		killed=$(jq -r '.is_killed | tostring' <<<"${out#* * }" 2>/dev/null || echo -)
		printf '%s %s %s\n' "$(cut -d' ' -f1-2 <<<"$out")" "$killed" "$2"
	done >"$DATA/checks.$1"
}

notifier_keeper() {	# restarts the notifier when chaos ended it
	local pid=
	while running; do
		if [ -z "$pid" ] || ! pid_alive "$pid"; then
			[ -n "$pid" ] && echo restart >>"$DATA/notifier-restarts"
			setsid "$ANDONCTL" -c "$DATA/andon.conf" -d "$DATA" notify \
				>>"$DATA/log/notifier.log" 2>&1 &
			pid=$!
			echo "$pid" >"$DATA/run/notifier.pid"
		fi
		sleep 0.2
	done
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

backup_loop() {		# backups over and over, each into a new directory
	local n=0
	while running; do
		n=$((n + 1))
		"$ANDONCTL" -c "$DATA/andon.conf" -d "$DATA" backup "$DATA/bk-$n" \
			>>"$DATA/log/backups.log" 2>&1 &
		echo "$!" >"$DATA/run/backup.pid"
		wait "$!"
		echo "$?" >>"$DATA/backup-status"
		rm -rf "$DATA/bk-$n"
	done
}

# victims: every FastCGI worker and checkpointer standby of the instance
# (not the supervisors of Apache's sockets, which systemd restarts in a
# real deployment and nothing restarts here), the notifier and its worker,
# the running backup.  Read from /proc with builtins only: forks are slow
# on a loaded machine, and the chaos must keep its pace.
victims() {
	local dir comm e ours
	local -a cmd env
	for dir in /proc/[0-9]*; do
		mapfile -d '' -t cmd <"$dir/cmdline" 2>/dev/null || continue
		case ${cmd[0]:-} in
		"$CGI_DIR"/*) ;;
		"$ANDONCTL") [[ " ${cmd[*]} " == *" notify "* || " ${cmd[*]} " == *" backup "* ]] || continue ;;
		*) continue ;;
		esac
		ours=0
		[[ " ${cmd[*]} " == *" -d $DATA "* ]] && ours=1
		mapfile -d '' -t env <"$dir/environ" 2>/dev/null || continue
		for e in "${env[@]}"; do
			[ "$e" = "ANDON_DATA=$DATA" ] && ours=1
		done
		read -r comm <"$dir/comm" 2>/dev/null || continue
		[ "$ours" = 1 ] && [ "$comm" != andon-pool ] && echo "${dir#/proc/}"
	done
}

chaos() {
	local end=$((SECONDS + CHAOS_SECONDS)) list pid what
	local -a resumers=()
	while ((SECONDS < end)); do
		sleep "0.$((RANDOM % 6 + 3))"
		mapfile -t list < <(victims)
		((${#list[@]} > 0)) || continue
		pid=${list[RANDOM % ${#list[@]}]}
		what=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-60)
		if ((RANDOM % 10 < 6)); then
			kill -KILL "$pid" 2>/dev/null && echo "$SECONDS KILL $pid $what"
		elif kill -STOP "$pid" 2>/dev/null; then
			echo "$SECONDS STOP $pid $what"
			# stopped for 0.5 to 7.5 s: past the watchdog sometimes
			(sleep "$((RANDOM % 8)).5"; kill -CONT "$pid" 2>/dev/null) &
			resumers+=($!)
		fi
	done >"$DATA/chaos.log"
	((${#resumers[@]} == 0)) || wait "${resumers[@]}"
}

process_faults() {
	local n lost=0 wrong hung target code id answered agents_ok recovered_in t0

	rm -f "$DATA/stop-load"
	api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"chaos-killed","reason":"before"}'
	check_status 201 "a target killed before the chaos"

	notifier_keeper &
	backup_loop &
	for n in 1 2; do kill_writer "$n" & done
	agent_writer &
	checker chaos-killed true &
	checker chaos-calm false &
	chaos
	touch "$DATA/stop-load"
	wait

	echo "# chaos: $(grep -c " KILL " "$DATA/chaos.log") SIGKILLs, $(grep -c " STOP " "$DATA/chaos.log") SIGSTOPs over ${CHAOS_SECONDS} s"
	echo "# answers: kills $(awk '$2 ~ /^2/' "$DATA"/kills.* | wc -l) 2xx of $(cat "$DATA"/kills.* | wc -l); agents $(awk '$2 ~ /^2/' "$DATA/agents" | wc -l) of $(wc -l <"$DATA/agents"); checks $(awk '$1 == 200' "$DATA"/checks.* | wc -l) 200 of $(cat "$DATA"/checks.* | wc -l)"

	# the service comes back by itself
	t0=$SECONDS
	wait_until 60 "a kill is answered 201 after the chaos" bash -c \
		'[ "$(curl -s -o /dev/null -w "%{http_code}" --max-time 10 -H "X-API-Key: $1" -H "Content-Type: application/json" --data-binary "{\"target_type\":\"run\",\"target_id\":\"after-$RANDOM$RANDOM\"}" "$2/api/v1/kill-switch/kill")" = 201 ]' \
		_ "$ADMIN_KEY" "$BASE"
	recovered_in=$((SECONDS - t0))
	echo "# service answering writes again ${recovered_in} s after the chaos ended"

	while read -r target code _; do
		[[ $code == 2* ]] || continue
		answered=$((${answered:-0} + 1))
		api GET "/api/v1/kill-switch/check?target_type=agent&target_id=$target"
		[ "$(jq -r .is_killed <<<"$BODY")" = true ] || { lost=$((lost + 1)); echo "# lost kill: $target"; }
	done < <(cat "$DATA"/kills.*)
	check "every kill answered 2xx is present (${answered:-0} answered, $lost lost)" [ "$lost" = 0 ]
	lost=0
	while read -r id code _; do
		[[ $code == 2* && $id != - ]] || continue
		agents_ok=$((${agents_ok:-0} + 1))
		api GET "/v1/agents/$id" '' -H "X-Tenant-ID: $TENANT"
		[ "$STATUS" = 200 ] || { lost=$((lost + 1)); echo "# lost agent: $id ($STATUS)"; }
	done <"$DATA/agents"
	check "every agent registered 201 is present (${agents_ok:-0} registered, $lost lost)" [ "$lost" = 0 ]
	check "some writes were answered during the chaos" [ "${answered:-0}" -ge 1 -a "${agents_ok:-0}" -ge 1 ]

	wrong=$(awk '$1 == 200 && $3 != $4' "$DATA"/checks.* | wc -l)
	check "no check answered 200 with the wrong is_killed ($wrong)" [ "$wrong" = 0 ]
	awk '$1 == 200 && $3 != $4 { print "# wrong: " $0 }' "$DATA"/checks.* | head -5
	hung=$(cat "$DATA"/kills.* "$DATA/agents" "$DATA"/checks.* |
		awk -v t="$REQUEST_TIMEOUT" '$2 == "000" && $3 + 0 >= t - 1' | wc -l)
	check "no request went unanswered for ${REQUEST_TIMEOUT} s ($hung)" [ "$hung" = 0 ]
	echo "# slowest answer: $(cat "$DATA"/kills.* "$DATA/agents" "$DATA"/checks.* |
		awk '$2 != "000" && $3 + 0 > m { m = $3 + 0 } END { print m + 0 }') s"

	echo "# recovery paths: $(count 'stuck in the database' "$DATA"/log/*.log) watchdog exits," \
		"$(count 'forced recovery' "$DATA"/log/*.log) forced-recovery lines," \
		"$(count . "$DATA/notifier-restarts") notifier restarts," \
		"$(count '^[1-9]' "$DATA/backup-status") of $(count . "$DATA/backup-status") backups cut short"

	check "a backup taken after the chaos" ctl backup "$DATA/after-backup"
	local new
	new=$(mktemp -d /tmp/andon-t.XXXXXX)
	check "restores into a new data directory" \
		"$ANDONCTL" -c "$DATA/andon.conf" -d "$new" restore "$DATA/after-backup"
	check "and the restored copy verifies" "$ANDONCTL" -c "$DATA/andon.conf" -d "$new" verify
	rm -rf "$new"
	check "audit chain and transparency log verify after the chaos" ctl verify

	bdb_crashes_after_sigkill
}

for_each_server process_faults
finish
