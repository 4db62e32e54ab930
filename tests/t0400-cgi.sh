#!/usr/bin/env bash
# t0400: the same executables as plain CGI under Apache's mod_cgid (shared
# hosting with only CGI): libfcgi's FCGX_IsCGI() path serves one request
# from the environment and stdin.
. "$(dirname "$0")/setup.sh"

as_cgi() {
	KEY='' api GET /healthz
	check_status 200 "healthz as CGI"
	api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"rogue-bot","reason":"Drained $3k in 4 minutes"}'
	check_status 201 "kill as CGI"
	check_json '.receipt_id | startswith("rcpt_")' 'true' "receipt as CGI"
	local rid
	rid=$(jq -r .receipt_id <<<"$BODY")
	api GET '/api/v1/kill-switch/check?target_type=agent&target_id=rogue-bot'
	check_status 200 "check as CGI"
	check_json '.is_killed' 'true' "killed as CGI"
	api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"rogue-bot"}'
	check_status 409 "second kill as CGI"
	api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"x","reson":"typo"}'
	check_status 400 "unknown field as CGI"
	check_json '.field' '"reson"' "names the field as CGI"
	KEY='' api GET '/api/v1/kill-switch/check?target_type=agent&target_id=rogue-bot'
	check_status 401 "401 as CGI"
	KEY='' api GET '/api/v1/kill-switch/check?target_type=agent&target_id=rogue-bot' \
		-H "Authorization: Bearer $ADMIN_KEY"
	check_status 200 "Bearer reaches a CGI (CGIPassAuth)"
	api GET "/v1/transparency/receipts/$rid"
	check_status 200 "receipt fetch as CGI"
	api GET /v1/api-keys
	check_status 200 "key list as CGI"
	api POST /api/v1/kill-switch/revive '{"target_type":"agent","target_id":"rogue-bot"}'
	check_status 200 "revive as CGI"
	api GET '/api/v1/kill-switch/check?target_type=agent&target_id=rogue-bot'
	check_json '.is_killed' 'false' "revived as CGI"
	head -c 70000 /dev/zero | tr '\0' ' ' >"$DATA/big"
	api POST /api/v1/kill-switch/kill --data-binary "@$DATA/big" -H 'Content-Type: application/json'
	check_status 413 "413 as CGI"
	api POST /v1/agents '{"agent_type":"bot","display_name":"cgi-bot"}' -H "X-Tenant-ID: $TENANT"
	check_status 201 "agents.fcgi as CGI: register"
	local agent
	agent=$(jq -r .agent_id <<<"$BODY")
	api GET "/v1/agents/$agent" -H "X-Tenant-ID: $TENANT"
	check_status 200 "agents.fcgi as CGI: get by agent_id"
	api POST /v1/emergency-shutdown '{"severity":3,"reason":"cgi drill"}'
	check_status 201 "shutdown.fcgi as CGI: activate"
	api GET '/api/v1/kill-switch/check?target_type=agent&target_id=x'
	check_header 'x-emergency-warning' 'severity=3' "the gate works as CGI"
	api GET /v1/emergency-shutdown
	check_json '.active_shutdowns | length' '1' "shutdown.fcgi as CGI: list"
	check "andonctl verify after CGI writes" ctl verify
	one_process_each
	killed_attached
}

# Issue 17: a CGI process serves one request, so nothing may rest on what
# a process remembers between requests.
one_process_each() {
	local key id first
	api POST /v1/api-keys '{"name":"cgi","scopes":["killswitch:check"]}'
	check_status 201 "a key for the CGI checks"
	key=$(jq -r .key <<<"$BODY")
	id=$(jq -r .id <<<"$BODY")
	KEY=$key api GET '/api/v1/kill-switch/check?target_type=agent&target_id=x'
	check_status 200 "the new key works as CGI"
	api GET /v1/api-keys
	first=$(jq -r "[.data[] | select(.id == \"$id\")][0].last_used_at" <<<"$BODY")
	check "last_used_at recorded as CGI" test "$first" != null
	# once a minute per key, not once per process: a check is no write
	KEY=$key api GET '/api/v1/kill-switch/check?target_type=agent&target_id=x'
	check_status 200 "a second check as CGI"
	api GET /v1/api-keys
	check_json "[.data[] | select(.id == \"$id\")][0].last_used_at" "\"$first\"" \
		"a check within the minute writes no last_used_at (another process)"
	api DELETE "/v1/api-keys/$id"
	check_status 200 "revoke as CGI"
	KEY=$key api GET '/api/v1/kill-switch/check?target_type=agent&target_id=x'
	check_status 401 "the revoked key is refused on its very next CGI request"
}

# A CGI process killed while attached to the environment (waiting for its
# body): the next process finds it dead in Berkeley DB's registry, releases
# what it held (failchk) and answers; nothing is lost.
killed_attached() {
	local fifo=$DATA/cgi-body pid i
	rm -f "$fifo"
	mkfifo "$fifo"
	env GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=POST SERVER_PROTOCOL=HTTP/1.1 \
	    SCRIPT_NAME=/api/v1/kill-switch PATH_INFO=/kill \
	    REQUEST_URI=/api/v1/kill-switch/kill CONTENT_TYPE=application/json \
	    CONTENT_LENGTH=200 HTTP_X_API_KEY="$ADMIN_KEY" \
	    "$CGI_DIR/killswitch.fcgi" <"$fifo" >/dev/null 2>&1 &
	pid=$!
	exec 7>"$fifo"
	printf '{"target_type":"agent",' >&7
	for i in $(seq 100); do
		grep -q " $pid\$" "$DATA/db/__db.register" 2>/dev/null && break
		sleep 0.1
	done
	check "a CGI process is attached, reading its body" \
		grep -q " $pid\$" "$DATA/db/__db.register"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	exec 7>&-
	rm -f "$fifo"
	api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"after-sigkill"}'
	check_status 201 "a kill as CGI after a CGI process died attached"
	api GET '/api/v1/kill-switch/check?target_type=agent&target_id=after-sigkill'
	check_json '.is_killed' 'true' "its check as CGI"
	check "andonctl verify after the SIGKILL" ctl verify
}

ANDON_TEST_SERVERS=apache-cgi for_each_server as_cgi
finish
