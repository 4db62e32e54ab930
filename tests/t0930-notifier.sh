#!/usr/bin/env bash
# t0930: the webhook notifier (issue 14): outbox written with each audit
# event, delivered by "andonctl notify" to a real receiver on loopback
# (tests/webhook-receiver.js) that checks every signature itself and with
# the npm standardwebhooks package (Standard Webhooks' reference library).
#
# Asserts: every event of a kill with cascade and of a shutdown reaches a
# subscribed endpoint, signed, in seq order; 500 twice then 200 is three
# attempts with one webhook-id; an endpoint down past the whole schedule
# leaves the delivery dead (8 attempts listed), and a manual retry
# delivers it; a slow endpoint is a timeout; a redirect to loopback is
# not followed; a rotated secret's overlap signs with both secrets, then
# only the new one; a loopback destination accepted under
# webhook_allow_private = yes is refused at delivery when the notifier
# runs without it; SIGKILL of the notifier mid-burst of 1,000 events
# loses none and keeps order; two notifiers at once never send one
# attempt twice.  An endpoint failing for webhook_disable_after_seconds (2
# here) is disabled by the notifier with a webhook.disabled event (actor
# the notifier), its pending delivery dead; healthy and recovered endpoints
# are not; PATCH enabled=true enables it again and forgets the failures.
# Fan-out: deliveries are made from the committed audit log after the
# commit, so a subscription gets exactly the events committed after it
# (not the ones before, even when the notifier starts later), a
# deliveries listing shows them before any notifier ran, and a notifier
# started late catches up on all of them.
# A short watchdog (5 s): a process killed inside Berkeley DB wedges the
# others until it fires (the notifier's too, which starts its work again).
. "$(dirname "$0")/setup.sh"

CONF_OVERRIDES="webhook_allow_private=yes webhook_allow_http=yes
webhook_retry_scale_ppm=10 webhook_timeout_ms=1000 webhook_connect_timeout_ms=500
webhook_rotation_overlap_seconds=4 watchdog_seconds=5"

command -v node >/dev/null && command -v npm >/dev/null ||
	{ echo "t0910: node and npm are needed (./dev deps)" >&2; exit 99; }
NPM_DIR=$BUILD/tests/npm
if [ ! -d "$NPM_DIR/node_modules/standardwebhooks" ]; then
	mkdir -p "$NPM_DIR"
	(cd "$NPM_DIR" && npm install --no-audit --no-fund --silent standardwebhooks@1.1.1 >/dev/null 2>&1) ||
		{ echo "t0910: npm install standardwebhooks failed" >&2; exit 99; }
fi
export STANDARDWEBHOOKS=$NPM_DIR/node_modules/standardwebhooks

NOTIFIERS=()
RECEIVER=
cleanup() {
	local p
	for p in "${NOTIFIERS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	NOTIFIERS=()
	[ -n "$RECEIVER" ] && { kill -TERM "$RECEIVER" 2>/dev/null; wait "$RECEIVER" 2>/dev/null; }
	RECEIVER=
}
trap 'cleanup; stop_server' EXIT

# Not through ctl: $! must be andonctl's own pid (SIGKILL below).
start_notifier() {
	"$ANDONCTL" -c "$DATA/andon.conf" -d "$DATA" notify >>"$DATA/log/notifier.log" 2>&1 &
	NOTIFIERS+=($!)
}

stop_notifiers() {
	local p
	for p in "${NOTIFIERS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	NOTIFIERS=()
}

start_receiver() {
	local i
	LOG=$DATA/log/received.jsonl
	: >"$LOG"
	node "$TOP/tests/webhook-receiver.js" "$DATA/run/receiver.port" "$LOG" \
		2>>"$DATA/log/receiver.err" &
	RECEIVER=$!
	for ((i = 0; i < 100; i++)); do
		[ -s "$DATA/run/receiver.port" ] && break
		sleep 0.1
	done
	RPORT=$(cat "$DATA/run/receiver.port")
}

# subscribe PATH EVENTS-JSON: sets WID and SECRET, tells the receiver.
subscribe() {
	api POST /v1/webhooks "{\"url\":\"http://127.0.0.1:$RPORT$1\",\"events\":$2}"
	[ "$STATUS" = 201 ] || fail "subscribe $1 (got $STATUS)"
	WID=$(jq -r .id <<<"$BODY")
	SECRET=$(jq -r .secret <<<"$BODY")
	curl -s -o /dev/null --data-binary "$SECRET" "http://127.0.0.1:$RPORT/_secrets${1}"
}

received() {	# received JQ-FILTER-OVER-ALL-LINES
	jq -s -c "$1" "$LOG"
}

is() {	# is JQ-FILTER EXPECTED
	[ "$(received "$1")" = "$2" ]
}

delivery_state() {	# delivery_state WID: the newest delivery's state
	api GET "/v1/webhooks/$1/deliveries"
	jq -r '.data[0].state' <<<"$BODY"
}

agents() {
	api "$1" "$2" "${3:-}" -H "X-Tenant-ID: $TENANT" "${@:4}"
}

register() {
	agents POST /v1/agents "{\"agent_type\":\"worker\",\"display_name\":\"$1\",\"scopes\":[\"s\"]}"
	UUID=$(jq -r .id <<<"$BODY")
}

events_and_failures() {
	local a b c wid_ok wid_flaky wid_down wid_slow wid_redirect old new n first
	start_receiver
	start_notifier

	# every event of a kill with cascade and of a shutdown
	subscribe /ok '["agent.*","killswitch.*","session.*","shutdown.*","delegation.*","receipt.*"]'
	wid_ok=$WID
	OK_SECRET=$SECRET
	first=$(api GET /v1/transparency/sth; jq -r .tree_size <<<"$BODY")
	register a; a=$UUID
	register b; b=$UUID
	register c; c=$UUID
	agents POST "/v1/agents/$a/delegations" "{\"delegate_agent_id\":\"$b\",\"scopes\":[\"s\"]}"
	agents POST "/v1/agents/$b/delegations" "{\"delegate_agent_id\":\"$c\",\"scopes\":[\"s\"]}"
	agents POST "/v1/agents/$a/kill" '{"reason":"runaway","cascade":true}'
	check_status 200 "kill with cascade"
	api POST /v1/emergency-shutdown '{"severity":1,"reason":"drill"}'
	check_status 201 "shutdown activated"
	api POST "/v1/emergency-shutdown/$(jq -r .shutdown_id <<<"$BODY")/resolve" '{"reason":"over"}'
	check_status 200 "shutdown resolved"
	api GET /v1/transparency/sth
	n=$(jq -r .tree_size <<<"$BODY")
	# the tenant's events since the subscription, from the receipts
	local want=() seq type
	for ((seq = first + 1; seq <= n; seq++)); do
		api GET "/v1/transparency/receipts/$(printf 'rcpt_%016x' $((seq - 1)))"
		[ "$STATUS" = 200 ] || continue
		type=$(jq -r .event.type <<<"$BODY")
		case $type in
		agent.* | killswitch.* | session.* | shutdown.* | delegation.* | receipt.*)
			want+=("$seq") ;;
		esac
	done
	check "the kill, cascade and shutdown made events (${#want[@]})" [ "${#want[@]}" -ge 10 ]
	wait_until 20 "every one delivered to /ok" \
		is '[.[] | select(.path == "/ok") | .seq] | unique | length' "${#want[@]}"
	check "exactly those events, in seq order" \
		is '[.[] | select(.path == "/ok") | .seq]' "$(printf '%s\n' "${want[@]}" | jq -s -c .)"
	check "types include activations, cascade and shutdown" \
		is '[.[] | select(.path == "/ok") | .type] | (map(select(. == "killswitch.activated" or . == "agent.revoked" or . == "shutdown.activated" or . == "shutdown.resolved")) | length > 3)' true
	check "every signature verifies (own HMAC)" \
		is '[.[] | select(.path == "/ok") | .own == [0]] | all' true
	check "every signature verifies (standardwebhooks)" \
		is '[.[] | select(.path == "/ok") | .lib == [true]] | all' true
	check "webhook-id is the event id" \
		is '[.[] | select(.path == "/ok") | .id == .event_id] | all' true
	api GET "/v1/webhooks/$wid_ok/deliveries?limit=1000"
	check_json '[.data[] | .state] | unique' '["delivered"]' "deliveries listed as delivered"
	check_json '.data[0] | [.attempts[0].status_code, (.attempts[0].duration_ms >= 0), .event_id != null, .next_attempt_at]' \
		'[200,true,true,null]' "an attempt: status, duration, event id, no next retry"

	# 500 twice, then 200: three attempts, one webhook-id
	subscribe /flaky '["webhook.test"]'
	wid_flaky=$WID
	api POST "/v1/webhooks/$wid_flaky/test" '{}'
	check_status 202 "test event queued"
	wait_until 10 "flaky: delivered on the third attempt" \
		is '[.[] | select(.path == "/flaky") | .status]' '[500,500,200]'
	check "flaky: the same webhook-id each time, signed" \
		is '[.[] | select(.path == "/flaky")] | [(map(.id) | unique | length), (map(.lib == [true]) | all), .[0].type]' '[1,true,"webhook.test"]'
	api GET "/v1/webhooks/$wid_flaky/deliveries"
	check_json '.data[0] | [.state, [.attempts[].status_code], (.attempts[0].next_retry_at != null)]' \
		'["delivered",[500,500,200],true]' "flaky: the attempts listed with their next retry"

	# down past the whole schedule: dead; a manual retry delivers
	touch "$LOG.down"
	subscribe /down '["webhook.test"]'
	wid_down=$WID
	api POST "/v1/webhooks/$wid_down/test" '{}'
	wait_until 20 "down: the delivery is dead" state_is "$wid_down" dead
	api GET "/v1/webhooks/$wid_down/deliveries"
	check_json '.data[0] | [(.attempts | length), ([.attempts[].status_code] | unique), .attempts[-1].next_retry_at]' \
		'[8,[503],null]' "down: 8 attempts of 503, no next retry"
	local dlv
	dlv=$(jq -r '.data[0].id' <<<"$BODY")
	stop_notifiers          # so that the retried delivery stays pending
	api POST "/v1/webhooks/$wid_down/deliveries/$dlv/retry" '{}'
	check_status 202 "down: a manual retry of the dead delivery"
	check_json '.state' '"pending"' "down: pending again"
	api POST "/v1/webhooks/$wid_down/deliveries/$dlv/retry" '{}'
	check_status 409 "down: a second retry while pending is 409"
	api POST "/v1/webhooks/$wid_down/deliveries/dlv_ffffffffffffffff/retry" '{}'
	check_status 404 "retry of an unknown delivery"
	KEY=$KEY_B api POST "/v1/webhooks/$wid_down/deliveries/$dlv/retry" '{}'
	check_status 404 "another tenant cannot retry it"
	rm -f "$LOG.down"
	start_notifier
	wait_until 10 "down: the manual retry delivered it" state_is "$wid_down" delivered

	# slow past the timeout
	subscribe /slow '["webhook.test"]'
	wid_slow=$WID
	api POST "/v1/webhooks/$wid_slow/test" '{}'
	wait_until 10 "slow: the first attempt timed out" slow_timed_out "$wid_slow"

	# a redirect (to loopback) is not followed
	subscribe /redirect '["webhook.test"]'
	wid_redirect=$WID
	api POST "/v1/webhooks/$wid_redirect/test" '{}'
	wait_until 10 "redirect: answered 302, a failed attempt" first_status_is "$wid_redirect" 302
	sleep 0.5
	check "redirect: its Location was never requested" \
		is '[.[] | select(.path == "/ok" and .type == "webhook.test")] | length' 0

	# rotation: both secrets sign during the overlap, then only the new
	old=$OK_SECRET
	api POST "/v1/webhooks/$wid_ok/rotate-secret" '{}'
	new=$(jq -r .secret <<<"$BODY")
	curl -s -o /dev/null --data-binary "$new $old" "http://127.0.0.1:$RPORT/_secrets/ok"
	api POST "/v1/webhooks/$wid_ok/test" '{}'
	wait_until 10 "rotation: a test event delivered" \
		is '[.[] | select(.path == "/ok" and .type == "webhook.test")] | length' 1
	check "rotation: signed with the new and the old secret" \
		is '[.[] | select(.path == "/ok" and .type == "webhook.test")][0] | [.signatures, .own, .lib]' '[2,[0,1],[true,true]]'
	sleep 4.5
	api POST "/v1/webhooks/$wid_ok/test" '{}'
	wait_until 10 "rotation: a second test event delivered" \
		is '[.[] | select(.path == "/ok" and .type == "webhook.test")] | length' 2
	check "rotation: after the overlap, the new secret only" \
		is '[.[] | select(.path == "/ok" and .type == "webhook.test")][1] | [.signatures, .own, .lib]' '[1,[0],[true,false]]'
	check "no secret in the notifier's or the servers' logs" \
		bash -c '! grep -r -a -F -q -e "${1#whsec_}" -e "${2#whsec_}" "$3"' _ "$new" "$old" "$DATA/log/notifier.log"
	stop_notifiers
	disabling "$wid_ok" "$wid_flaky"
	cleanup
}

# disabling WID-OK WID-FLAKY: an endpoint whose attempts have all failed
# for webhook_disable_after_seconds (8 here: long enough for the first
# event to go dead through its retries on a loaded machine) is disabled by the notifier,
# with a webhook.disabled event; PATCH enabled=true enables it again.
disabling() {
	local wid_ok=$1 wid_flaky=$2 wid start
	sed -i 's/^webhook_disable_after_seconds *=.*/webhook_disable_after_seconds = 8/' \
		"$DATA/andon.conf"
	start_notifier
	touch "$LOG.down"
	subscribe /down '["webhook.test"]'
	wid=$WID
	api POST "/v1/webhooks/$wid/test" '{}'
	wait_until 10 "failing: the first test event is dead" state_is "$wid" dead
	api GET "/v1/webhooks/$wid"
	check_json '[.enabled, (.failing_since | type), .disabled_reason]' \
		'[true,"string",null]' "failing for less than 8 s: still enabled, failing_since shown"
	start=$(date +%s%N)
	while (($(date +%s%N) - start < 8100000000)); do sleep 0.2; done
	api POST "/v1/webhooks/$wid/test" '{}'
	check_status 202 "failing: a second test event queued"
	wait_until 10 "failing for 8 s: the endpoint is disabled" webhook_is "$wid" \
		'.enabled == false and (.disabled_reason | test("failed since"))'
	wait_until 10 "its pending delivery is dead" state_is "$wid" dead
	api GET "/v1/audit/events?type=webhook.disabled&target_id=$wid"
	check_json '[.count, .data[0].actor.operator_id, .data[0].actor.key_id, (.data[0].data.disable_after_seconds)]' \
		'[1,"notifier",null,8]' "one webhook.disabled event, its actor the notifier"
	api POST "/v1/webhooks/$wid/test" '{}'
	check_status 409 "a disabled endpoint cannot be tested"
	api GET "/v1/webhooks/$wid_ok"
	check_json '[.enabled, .failing_since]' '[true,null]' "a healthy endpoint stays enabled"
	api GET "/v1/webhooks/$wid_flaky"
	check_json '[.enabled, .failing_since]' '[true,null]' \
		"an endpoint that failed then succeeded: not failing"
	rm -f "$LOG.down"
	api PATCH "/v1/webhooks/$wid" '{"enabled":true}'
	check_status 200 "re-enabled by PATCH"
	check_json '[.enabled, .failing_since, .disabled_reason, .disabled_at]' \
		'[true,null,null,null]' "re-enabled: the failing record is forgotten"
	api POST "/v1/webhooks/$wid/test" '{}'
	wait_until 10 "re-enabled: a test event is delivered" state_is "$wid" delivered
	api GET "/v1/webhooks/$wid"
	check_json '.enabled' 'true' "and it stays enabled"
	stop_notifiers
}

webhook_is() {	# webhook_is WID JQ-TEST
	api GET "/v1/webhooks/$1"
	jq -e "$2" <<<"$BODY" >/dev/null
}

# burst WID N: N test events, one connection; the statuses go to
# $DATA/run/burst.status (a request in flight when a forced recovery
# restarts the application fails, and its event is not committed).
burst() {
	local i
	for ((i = 0; i < $2; i++)); do
		printf 'url = "%s/v1/webhooks/%s/test"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' "$BASE" "$1"
	done >"$DATA/run/burst.cfg"
	curl -s -X POST -H "X-API-Key: $ADMIN_KEY" -H 'Content-Type: application/json' \
		--data-binary '{}' -K "$DATA/run/burst.cfg" >"$DATA/run/burst.status"
}

count_path() {	# count_path PATH: deliveries received (unique ids)
	jq -s -r "[.[] | select(.path == \"$1\") | .id] | unique | length" "$LOG"
}

crash_and_pair() {
	local wid killed n queued
	start_receiver
	subscribe /burst '["webhook.test"]'
	wid=$WID
	start_notifier
	burst "$wid" 1000 &
	local burster=$!
	for ((n = 0; n < 600; n++)); do
		[ "$(count_path /burst)" -ge 150 ] && break
		sleep 0.1
	done
	killed=${NOTIFIERS[0]}
	kill -KILL "$killed"
	wait "$killed" 2>/dev/null
	NOTIFIERS=()
	check "the notifier was killed mid-burst ($(count_path /burst) delivered)" \
		[ "$(count_path /burst)" -lt 1000 ]
	start_notifier
	wait "$burster"
	queued=$(grep -c '^202$' "$DATA/run/burst.status")
	check "at least 990 of the 1,000 events committed ($queued)" [ "$queued" -ge 990 ]
	wait_until 180 "after SIGKILL and restart: every committed event delivered" path_count_is /burst "$queued"
	check "in seq order (a re-sent event only where the crash was)" \
		is '[.[] | select(.path == "/burst") | .seq] | . == sort' true
	check "every one signed" is '[.[] | select(.path == "/burst") | .lib == [true]] | all' true
	api GET "/v1/webhooks/$wid/deliveries?limit=1000"
	check_json '[.count, ([.data[].state] | unique)]' "[$queued,[\"delivered\"]]" \
		"the deliveries list: every one delivered"
	stop_notifiers

	# two notifiers at once
	subscribe /pair '["webhook.test"]'
	wid=$WID
	start_notifier
	start_notifier
	burst "$wid" 300
	wait_until 120 "two notifiers: all 300 delivered" path_count_is /pair 300
	sleep 1
	check "two notifiers: no attempt sent twice" \
		is '[.[] | select(.path == "/pair")] | length' 300
	check "two notifiers: in seq order" \
		is '[.[] | select(.path == "/pair") | .seq] | . == sort' true
	stop_notifiers

	# a loopback destination is refused at delivery without allow_private
	sed -i 's/^webhook_allow_private *=.*/webhook_allow_private = no/' "$DATA/andon.conf"
	api POST "/v1/webhooks/$wid/test" '{}'
	start_notifier
	wait_until 10 "at delivery: a loopback destination is refused" refused_at_delivery "$wid"
	check "and nothing reached it" path_count_is /pair 300
	stop_notifiers
	if grep -q -E "Sanitizer|runtime error" "$DATA/log/notifier.log"; then
		fail "sanitizer report from the notifier"
		cat "$DATA/log/notifier.log"
	fi
	cleanup
	bdb_crashes_after_sigkill
}

slow_timed_out() {
	api GET "/v1/webhooks/$1/deliveries"
	[ "$(jq -c '.data[0].attempts[0] | [.status_code, (.error // "" | test("[Tt]imeout|timed out"))]' <<<"$BODY")" = '[null,true]' ]
}

first_status_is() {
	api GET "/v1/webhooks/$1/deliveries"
	[ "$(jq -r '.data[0].attempts[0].status_code' <<<"$BODY")" = "$2" ]
}

refused_at_delivery() {
	api GET "/v1/webhooks/$1/deliveries?limit=1"
	jq -e '.data[0].attempts[0] | .status_code == null and (.error // "" | test("loopback"))' <<<"$BODY" >/dev/null
}

state_is() {
	[ "$(delivery_state "$1")" = "$2" ]
}

path_count_is() {
	[ "$(count_path "$1")" = "$2" ]
}
# fan_out_after_commit: events committed with no notifier running reach
# the subscriptions that existed when each was committed.
shutdown_and_resolve() {	# shutdown_and_resolve REASON: two events
	local sid
	api POST /v1/emergency-shutdown "{\"severity\":1,\"reason\":\"$1\"}"
	sid=$(jq -r .shutdown_id <<<"$BODY")
	api POST "/v1/emergency-shutdown/$sid/resolve" "{\"reason\":\"$1\"}"
	check_status 200 "a shutdown activated and resolved ($1)"
}

fan_out_after_commit() {
	local early late seqs
	start_receiver
	subscribe /early '["shutdown.*"]'
	early=$WID
	shutdown_and_resolve "before late"
	subscribe /late '["shutdown.*"]'
	late=$WID
	shutdown_and_resolve "after late"
	api GET "/v1/webhooks/$late/deliveries"
	check_json '[(.data | length), ([.data[].state] | unique)]' '[2,["pending"]]' \
		"no notifier yet: /late lists the two deliveries after it, pending"
	api GET "/v1/webhooks/$early/deliveries"
	check_json '.data | length' 4 "no notifier yet: /early lists all four"
	start_notifier
	wait_until 20 "a notifier started late delivers all four to /early" \
		is '[.[] | select(.path == "/early") | .seq] | unique | length' 4
	wait_until 20 "and two to /late" \
		is '[.[] | select(.path == "/late") | .seq] | unique | length' 2
	seqs=$(received '[.[] | select(.path == "/early") | .seq] | unique | .[2:]')
	check "/late got exactly the events committed after it" \
		is '[.[] | select(.path == "/late") | .seq] | unique' "$seqs"
	check "in seq order, every signature verifying" \
		is '[.[] | select(.path == "/late")] | [(map(.seq) == (map(.seq) | sort)), (map(.lib == [true]) | all)]' '[true,true]'
	stop_notifiers
	cleanup
}

# The notifier yields the CPUs to web requests (conf daemon_nice, 19 by
# default): started as systemd starts it, leading its own session, it
# lowers itself, its worker and its session's scheduling group; started
# from a shell, only itself (the shell's group is left alone).
nice_of() { ps -o ni= -p "$1" | tr -d ' '; }
group_nice_of() { sed -n 's/.* nice \(-\?[0-9]*\)$/\1/p' "/proc/$1/autogroup" 2>/dev/null; }
lower_priority() {
	local leader child i shell_group

	shell_group=$(group_nice_of $$)
	setsid "$ANDONCTL" -c "$DATA/andon.conf" -d "$DATA" notify >>"$DATA/log/notifier.log" 2>&1 &
	leader=$!
	NOTIFIERS+=("$leader")
	for ((i = 0; i < 100; i++)); do
		child=$(pgrep -P "$leader" | head -1)
		[ -n "$child" ] && break
		sleep 0.1
	done
	check "a notifier leading its session runs at nice 19" \
		test "$(nice_of "$leader")/$(nice_of "$child")" = 19/19
	if [ -e "/proc/$leader/autogroup" ]; then
		check "its session's scheduling group is lowered to 19" \
			test "$(group_nice_of "$leader")" = 19
	else
		ok "# skip: no autogroups in this kernel"
	fi
	stop_notifiers
	start_notifier
	sleep 0.3
	check "a notifier started from a shell lowers itself" \
		test "$(nice_of "${NOTIFIERS[0]}")" = 19
	check "and leaves the shell's scheduling group as it was" \
		test "$(group_nice_of $$)" = "$shell_group"
	stop_notifiers
	sed -i 's/^daemon_nice *=.*/daemon_nice = 0/' "$DATA/andon.conf"
	grep -q '^daemon_nice = 0$' "$DATA/andon.conf" || echo "daemon_nice = 0" >>"$DATA/andon.conf"
	start_notifier
	sleep 0.3
	check "daemon_nice = 0 keeps the priority" test "$(nice_of "${NOTIFIERS[0]}")" = 0
	stop_notifiers
	sed -i 's/^daemon_nice = 0$/daemon_nice = 19/' "$DATA/andon.conf"
}

for_each_server lower_priority
for_each_server fan_out_after_commit
for_each_server events_and_failures
for_each_server crash_and_pair
finish
