#!/usr/bin/env bash
# t0730: a cascade kill of 1,000 agents is one transaction: the FastCGI
# processes killed with SIGKILL in the middle of it leave either all of the
# agents revoked or none, the next requests succeed, and the audit chain and
# the transparency log verify.
. "$(dirname "$0")/setup.sh"

N=1000

agents() {
	api "$1" "$2" "${3:-}" -H "X-Tenant-ID: $TENANT" "${@:4}"
}

revoked_count() {
	agents GET '/v1/agents?status=revoked&limit=1'
	jq -r .count <<<"$BODY"
}

# load_workers ROOT COUNT: registers COUNT workers, each delegated scope
# "s" by ROOT, through the library's own agent_register() and
# delegation_create() (tests/bench/load-agents, one transaction per
# thousand, each with its audit event and transparency-log leaf as over
# HTTP; t0700 registers over HTTP), as the user the servers run as.
load_workers() {
	local -a as_app=()
	is_root && as_app=(runuser -u www-data --)
	"${as_app[@]}" "$BUILD/tests/bench/load-agents" "$DATA" "$TENANT" \
		t0730-loader "$2" "$1" >/dev/null
}

crash_mid_cascade() {
	local root pid i start end count answered dry_ms delay
	agents POST /v1/agents '{"agent_type":"orchestrator","display_name":"root","scopes":["s"]}'
	root=$(jq -r .agent_id <<<"$BODY")
	check "$((N - 1)) agents registered, each delegated by the root" \
		load_workers "$root" "$((N - 1))"
	agents GET "/v1/agents?status=active&limit=1"
	check_json '.count' "$N" "$N agents are active"

	start=$(date +%s%N)
	agents POST "/v1/agents/$root/kill" '{"reason":"blast radius","cascade":true,"dry_run":true}'
	end=$(date +%s%N)
	dry_ms=$(((end - start) / 1000000))
	echo "# dry run over $N agents: $dry_ms ms"
	check_json '.agents | length' "$N" "the dry run reaches all $N agents"

	# kill with cascade and SIGKILL every agents process while it runs:
	# the kill takes about three times its dry run, so half the dry run's
	# time lands in the middle of the transaction
	delay=$(printf '0.%03d' $((dry_ms / 2 > 999 ? 999 : dry_ms / 2)))
	curl -s -o "$DATA/kill.body" -w '%{http_code}' --max-time 60 -X POST \
		-H "X-API-Key: $ADMIN_KEY" -H "X-Tenant-ID: $TENANT" \
		-H 'Content-Type: application/json' \
		-d '{"reason":"crash test","cascade":true}' \
		"$BASE/v1/agents/$root/kill" >"$DATA/kill.status" &
	sleep "$delay"
	for pid in $(app_pids agents.fcgi); do kill -KILL "$pid"; done
	wait
	answered=$(cat "$DATA/kill.status")
	# a process killed inside a Berkeley DB region mutex wedges the
	# environment until the watchdog asks for a forced recovery (lib/
	# envlock.h): up to a minute or two, well inside this loop
	start=$(date +%s)
	for ((i = 0; i < 50; i++)); do
		agents GET "/v1/agents/$root"
		[ "$STATUS" = 200 ] && break
		sleep 0.2
	done
	echo "# the next request answered $(($(date +%s) - start)) s after the SIGKILL"
	grep -h 'forced recovery\|recovering\|recovered' "$DATA"/log/*.log 2>/dev/null |
		sed 's/^/# log: /' | head -n 5
	check_status 200 "the next request succeeds (SIGKILL after ${delay} s)"
	count=$(revoked_count)
	echo "# SIGKILL ${delay} s into the kill: answered HTTP $answered, $count agents revoked"
	check "all or none of the $N agents are revoked ($count)" \
		bash -c '[ "$1" = 0 ] || [ "$1" = "$2" ]' _ "$count" "$N"
	if [ "$answered" = 200 ]; then
		check "a kill answered 200 revoked all $N ($count)" [ "$count" = "$N" ]
	fi
	check "chain and log verify after the crash" ctl verify

	# when the crash came before the commit, the kill is simply retried
	if [ "$count" = 0 ]; then
		start=$(date +%s%N)
		agents POST "/v1/agents/$root/kill" '{"reason":"again","cascade":true}'
		end=$(date +%s%N)
		check_status 200 "the kill completes on a later try"
		echo "# cascade kill of $N agents: $(((end - start) / 1000000)) ms, one transaction"
		check_json '.cascaded | length' "$((N - 1))" "it cascades to the other $((N - 1))"
		check "all $N agents are revoked" [ "$(revoked_count)" = "$N" ]
	fi
	check "chain and log verify at the end" ctl verify
	bdb_crashes_after_sigkill
}

export CONF_OVERRIDES="rate_limit_per_minute=100000 rate_limit_burst=100000"
for_each_server crash_mid_cascade
finish
