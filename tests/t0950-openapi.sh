#!/usr/bin/env bash
# t0950: the OpenAPI document (www/openapi.json, issue 16).
#
# The committed document is tools/openapi.js's output; @redocly/cli lints
# it with no error (tests/openapi/redocly.yaml); tests/openapi-validate.js
# refuses deliberately wrong records (a wrong type, an undescribed status,
# an unknown problem code, a missing member, a wrong content type, an
# unknown API path answered 200, a 200 for a method the path lacks).
# Under each server, /openapi.json is served as application/json and is
# the committed document, and a sample of every family's routes (successes
# and errors) goes through api().  Last, every response recorded by api()
# is validated against the document: this test's sample and, under
# ./dev test (which sets ANDON_RESPONSE_LOG and runs this test last),
# every other test's of the same run.
#
# @redocly/cli, ajv and ajv-formats are pinned by tests/openapi/
# package-lock.json and installed there with npm ci, as t1000 does.
OWN_LOG=
if [ -z "${ANDON_RESPONSE_LOG:-}" ]; then
	# run alone: validate this test's own sample
	ANDON_RESPONSE_LOG=$(mktemp -d /tmp/andon-t.openapi.XXXXXX) || exit 99
	OWN_LOG=$ANDON_RESPONSE_LOG
fi
export ANDON_RESPONSE_LOG
. "$(dirname "$0")/setup.sh"

OPENAPI_DIR=$TOP/tests/openapi
DOC=$TOP/www/openapi.json
VALIDATE=$TOP/tests/openapi-validate.js
for tool in node npm; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "t0950: $tool is not installed (./dev deps)" >&2
		exit 99
	fi
done
if [ ! -d "$OPENAPI_DIR/node_modules/@redocly/cli" ] ||
	[ ! -d "$OPENAPI_DIR/node_modules/ajv" ] ||
	[ ! -d "$OPENAPI_DIR/node_modules/ajv-formats" ] ||
	[ "$OPENAPI_DIR/package-lock.json" -nt "$OPENAPI_DIR/node_modules/.package-lock.json" ]; then
	(cd "$OPENAPI_DIR" && npm ci --no-audit --no-fund >&2) || {
		echo "t0950: npm ci failed in $OPENAPI_DIR" >&2
		exit 99
	}
fi
WORK=$(mktemp -d /tmp/andon-t.openapi-work.XXXXXX) || exit 99

#
# The document itself
#
if node "$TOP/tools/openapi.js" >"$WORK/generated.json" &&
	cmp -s "$WORK/generated.json" "$DOC"; then
	ok "www/openapi.json is tools/openapi.js's output"
else
	fail "www/openapi.json differs from tools/openapi.js's output (node tools/openapi.js > www/openapi.json)"
fi

if (cd "$OPENAPI_DIR" && REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
	timeout 300 node_modules/.bin/redocly lint --config redocly.yaml "$DOC") \
	>"$WORK/lint.out" 2>&1; then
	ok "redocly lint: no error"
else
	fail "redocly lint found errors"
	sed 's/^/#   /' "$WORK/lint.out" | tail -40
fi

# Every route of the route tables is in the document.
routes=$(sed -n 's/^[[:space:]]*{ "\(GET\|POST\|PATCH\|DELETE\)", "\([^"]*\)".*/\1 \2/p' \
	"$TOP"/cgi-bin/*.c | sort)
documented=$(jq -r '.paths | to_entries[] | .key as $p | .value | keys[] |
	select(. != "parameters") | "\(ascii_upcase) \($p)"' "$DOC" | sort)
if [ -n "$routes" ] && [ "$routes" = "$documented" ]; then
	ok "the document has every route of cgi-bin/*.c and no other ($(wc -l <<<"$routes"))"
else
	fail "routes and document differ: $(diff <(echo "$routes") <(echo "$documented") | grep '^[<>]' | tr '\n' ' ')"
fi

# The problem codes of the document are those the C code emits: the code
# argument of response_error, problem_set and validate.c's and
# destination.c's fail/bad helpers (ternaries continue on the next line).
emitted=$(grep -hE -A1 '(response_error|problem_set|fail|bad)\(' "$TOP"/lib/*.c "$TOP"/cgi-bin/*.c |
	grep -v problem_field |
	grep -oE '([0-9]{3},|\?|:|[(, ][fp],) *"[a-z]+(_[a-z0-9]+)*"' |
	grep -oE '"[a-z_0-9]+"' | tr -d '"'
	# and the web servers' own error pages (conf/errors, issue 16 defect 1)
	jq -r .code "$TOP"/conf/errors/*.html)
emitted=$(sort -u <<<"$emitted")
documented=$(jq -r '.components.schemas.Problem.properties.code.enum[]' "$DOC" | sort -u)
if [ -n "$emitted" ] && [ "$emitted" = "$documented" ]; then
	ok "the document's problem codes are those lib/ and cgi-bin/ emit ($(wc -l <<<"$emitted"))"
else
	fail "problem codes differ (< emitted, > documented): $(diff <(echo "$emitted") <(echo "$documented") | grep '^[<>]' | tr '\n' ' ')"
fi

#
# The validator fails on drift: one deliberately wrong record each.
#
record() {
	jq -cn --arg m "$1" --arg p "$2" --argjson s "$3" --arg t "$4" --arg b "$5" \
		'{test: "t0950-drift", server: "none", method: $m, path: $p, status: $s,
		  content_type: $t, body: $b}'
}
{
	record GET '/api/v1/kill-switch/check?target_type=agent&target_id=a' 200 application/json \
		'{"is_killed":"false","target_type":"agent","target_id":"a","reason":null,"killed_at":null}'
	record GET '/api/v1/kill-switch/check?agent_id=a' 418 application/json '{}'
	record POST /api/v1/kill-switch/kill 409 application/problem+json \
		'{"type":"about:blank","title":"Conflict","status":409,"detail":"x","code":"made_up_code"}'
	record POST /api/v1/kill-switch/kill 201 application/json \
		'{"target_type":"agent","target_id":"a","reason":null,"is_active":true}'
	record GET /v1/api-keys/self 200 'text/html; charset=utf-8' '<html></html>'
	record GET /v1/no-such-family 200 application/json '{}'
	record PUT /v1/emergency-shutdown 200 application/json '{}'
	record GET /healthz 200 application/json '{"status":"ok","database":"ok"}'
	record POST /v1/emergency-shutdown/esd_1/resolve 411 text/html '<html>411</html>'
} >"$WORK/drift.jsonl"
node "$VALIDATE" "$DOC" "$WORK/drift.jsonl" >"$WORK/drift.out" 2>&1
rc=$?
if [ "$rc" = 1 ] && grep -q '^9 records: 8 checked, 0 outside the API, 0 unanswered, 1 web server pages, 7 failed$' "$WORK/drift.out"; then
	ok "the validator refuses 7 drifted records, passes the good one, lists the server page"
else
	fail "the validator did not refuse exactly the 7 drifted records (exit $rc)"
	sed 's/^/#   /' "$WORK/drift.out"
fi
if node "$VALIDATE" "$DOC" --strict "$WORK/drift.jsonl" | grep -q ' 0 web server pages, 8 failed$'; then
	ok "with --strict the web server's own HTML page fails too"
else
	fail "with --strict the web server's own HTML page does not fail"
fi
for want in '/is_killed must be boolean' 'status 418 is not a documented response' \
	'/code must be equal to one of the allowed values (got "made_up_code")' \
	"must have required property 'id'" 'content type "text/html; charset=utf-8" is not one of application/json' \
	'an unknown API path must be 404' 'PUT is not an operation of /v1/emergency-shutdown'; do
	if grep -qF -- "$want" "$WORK/drift.out"; then
		ok "the validator says: $want"
	else
		fail "the validator does not say: $want"
	fi
done

#
# Under each server: the document served, and a sample of every family.
#
TENANT_HDR=()
sample() {
	local agent agent2 sid rid esd kid wh evt ks
	api GET /openapi.json
	check_status 200 "GET /openapi.json"
	check_header Content-Type '^application/json' "/openapi.json is served as application/json"
	if jq -e . <<<"$BODY" >/dev/null 2>&1 && [ "$(jq -cS . <<<"$BODY")" = "$(jq -cS . "$DOC")" ]; then
		ok "/openapi.json is the committed document"
	else
		fail "/openapi.json is not the committed document"
	fi

	TENANT_HDR=(-H "X-Tenant-ID: $TENANT")
	# agents
	api POST /v1/agents '{"agent_type":"worker","display_name":"Sample","trust_score":0.9,"metadata":{"a":1}}' "${TENANT_HDR[@]}"
	check_status 201 "register an agent"
	agent=$(jq -r .agent_id <<<"$BODY")
	api POST /v1/agents '{"agent_type":"bot","display_name":"Helper","scopes":["read"]}' "${TENANT_HDR[@]}"
	agent2=$(jq -r .id <<<"$BODY")
	api GET "/v1/agents?status=active&limit=5" "${TENANT_HDR[@]}"
	check_status 200 "list agents"
	api GET "/v1/agents/$agent" "${TENANT_HDR[@]}"
	api PATCH "/v1/agents/$agent" '{"description":"changed"}' "${TENANT_HDR[@]}"
	check_status 200 "patch an agent"
	api PATCH "/v1/agents/$agent" '{"scopes":["x"]}' "${TENANT_HDR[@]}"
	check_status 400 "patch of scopes refused"
	api POST "/v1/agents/$agent/sessions" '{"ttl_seconds":120}' "${TENANT_HDR[@]}"
	check_status 201 "open a session"
	sid=$(jq -r .id <<<"$BODY")
	api POST /v1/sessions/introspect "{\"token\":$(jq .token <<<"$BODY")}" "${TENANT_HDR[@]}"
	check_status 200 "introspect"
	api GET "/v1/agents/$agent/sessions" "${TENANT_HDR[@]}"
	api POST "/v1/agents/$agent/receipts" '{"action":"pay","payload":{"usd":3}}' "${TENANT_HDR[@]}"
	check_status 201 "record a receipt"
	rid=$(jq -r .id <<<"$BODY")
	api POST "/v1/agents/$agent/receipts/$rid/finalize" '{}' "${TENANT_HDR[@]}"
	check_status 200 "finalize a receipt"
	api GET "/v1/agents/$agent/receipts?status=finalized" "${TENANT_HDR[@]}"
	api POST "/v1/agents/$agent/delegations" "{\"delegate_agent_id\":\"$agent2\",\"scopes\":[]}" "${TENANT_HDR[@]}"
	api GET "/v1/agents/$agent/delegations" "${TENANT_HDR[@]}"
	api DELETE "/v1/agents/$agent/sessions/$sid" "${TENANT_HDR[@]}"
	check_status 200 "end a session"
	api POST "/v1/agents/$agent/suspend" '{"reason":"sample"}' "${TENANT_HDR[@]}"
	check_status 200 "suspend"
	api POST "/v1/agents/$agent/suspend" '{"reason":"sample"}' "${TENANT_HDR[@]}"
	check_status 409 "suspend twice"
	api POST "/v1/agents/$agent/kill" '{"reason":"sample","dry_run":true,"cascade":true}' "${TENANT_HDR[@]}"
	check_status 200 "kill, dry run"
	api POST "/v1/agents/$agent/kill" '{"reason":"sample","cascade":true}' "${TENANT_HDR[@]}"
	check_status 200 "kill"
	api POST "/v1/agents/$agent2/revoke" '{"reason":"sample"}' "${TENANT_HDR[@]}"
	api GET /v1/agents
	check_status 400 "agents without X-Tenant-ID"

	# kill switch
	api POST /api/v1/kill-switch/kill '{"target_type":"run","target_id":"run-1","reason":"sample"}'
	check_status 201 "kill a run"
	api POST /api/v1/kill-switch/kill '{"target_type":"run","target_id":"run-1"}'
	check_status 409 "kill it again"
	api GET "/api/v1/kill-switch/check?target_type=run&target_id=run-1&action=pay"
	check_json .is_killed true "check: killed"
	api GET "/api/v1/kill-switch/check?agent_id=$agent&run_id=run-2"
	check_json .source '"agent_status"' "context check: the revoked agent"
	api GET "/api/v1/kill-switch/check?target_type=agent&target_id=fine"
	check_json .is_killed false "check: not killed"
	api GET "/api/v1/kill-switch/check?target_type=robot&target_id=x"
	check_status 400 "check: unknown target type"
	api GET /api/v1/kill-switch/active
	api GET "/api/v1/kill-switch/history?target_type=run"
	api POST /api/v1/kill-switch/revive '{"target_type":"run","target_id":"run-1"}'
	check_status 200 "revive"
	api POST /api/v1/kill-switch/revive '{"target_type":"run","target_id":"run-1"}'
	check_status 404 "revive what is not killed"
	api POST /api/v1/interventions '{"interventions":[{"type":"HARD_BLOCK","outcome":"blocked","agent_id":"sdk-bot","timestamp":"2026-04-18T17:00:00Z"}]}'
	check_status 201 "post interventions"
	api POST /api/v1/interventions '{"interventions":[{"type":"x","outcome":"y","reson":"typo"}]}'
	check_status 400 "post interventions: unknown field"
	api GET "/api/v1/interventions?type=hard_block&limit=10"
	check_status 200 "list interventions"

	# keys, health, metrics
	api POST /v1/api-keys '{"name":"sample","scopes":["killswitch:check"]}'
	check_status 201 "create a key"
	kid=$(jq -r .id <<<"$BODY")
	# a replay of a creation does not show the secret again: null
	api POST /v1/api-keys '{"name":"replayed","scopes":["audit:read"]}' -H 'Idempotency-Key: key-1'
	api POST /v1/api-keys '{"name":"replayed","scopes":["audit:read"]}' -H 'Idempotency-Key: key-1'
	check_json .key null "a replayed key creation carries no secret"
	api GET /v1/api-keys
	api GET /v1/api-keys/self
	check_status 200 "self"
	api DELETE "/v1/api-keys/$kid"
	check_status 200 "revoke a key"
	api DELETE "/v1/api-keys/$kid"
	check_status 409 "revoke it again"
	api GET /healthz
	api GET /metrics
	check_status 200 "metrics"
	KEY='' api GET /v1/api-keys/self
	check_status 401 "no key"
	KEY=$KEY_B api GET /metrics
	check_status 403 "metrics without platform:admin"

	# emergency shutdown at severity 3: the warning on other families
	api POST /v1/emergency-shutdown '{"severity":3,"reason":"sample"}'
	check_status 201 "activate a severity-3 shutdown"
	esd=$(jq -r .shutdown_id <<<"$BODY")
	api GET "/api/v1/kill-switch/check?target_type=agent&target_id=fine"
	check_json .emergency_warning.severity 3 "a check carries the warning"
	api GET /v1/emergency-shutdown
	api GET "/v1/emergency-shutdown/$esd"
	api POST "/v1/emergency-shutdown/$esd/resolve" '{}'
	check_status 200 "resolve with an empty object"
	api POST "/v1/emergency-shutdown/$esd/resolve" '{"reason":"again"}'
	check_status 409 "resolve twice"
	api POST /v1/emergency-shutdown '{"severity":5,"reason":"halt"}'
	esd=$(jq -r .shutdown_id <<<"$BODY")
	api GET "/api/v1/kill-switch/check?target_type=agent&target_id=fine"
	check_status 503 "a check during a severity-5 shutdown"
	api POST "/v1/emergency-shutdown/$esd/resolve" '{}'
	# a scope "all" shutdown as another tenant sees it: a subset
	api POST /v1/emergency-shutdown '{"severity":1,"reason":"platform","scope":"all"}'
	esd=$(jq -r .shutdown_id <<<"$BODY")
	KEY=$KEY_B api GET "/v1/emergency-shutdown/$esd"
	check_json 'has("activated_by")' false "another tenant does not see who activated it"
	KEY=$KEY_B api GET /v1/emergency-shutdown
	api POST "/v1/emergency-shutdown/$esd/resolve" '{}'
	api POST /v1/emergency-shutdown '{"severity":9,"reason":"x"}'
	check_status 400 "severity out of range"

	# audit and transparency
	api GET "/v1/audit/events?type=killswitch.*&limit=5"
	check_status 200 "audit events"
	evt=$(jq -r '.data[0].id' <<<"$BODY")
	api GET "/v1/audit/events/$evt"
	api GET "/v1/audit/events" -H 'Accept: application/x-ndjson'
	check_status 200 "audit export"
	api GET "/v1/audit/events?bogus=1"
	check_status 400 "audit: unknown parameter"
	api GET /v1/transparency/sth
	api GET "/v1/transparency/consistency?first=1"
	api GET /v1/transparency/key
	api GET /v1/transparency/receipts/rcpt_0000000000000001
	api GET /v1/transparency/receipts/rcpt_ffffffffffffffff
	check_status 404 "an unknown receipt"

	# webhooks (a public address: no DNS)
	api POST /v1/webhooks '{"url":"https://93.184.215.14/hook","events":["killswitch.*"]}'
	check_status 201 "create a webhook"
	wh=$(jq -r .id <<<"$BODY")
	api GET /v1/webhooks
	api GET "/v1/webhooks/$wh"
	api PATCH "/v1/webhooks/$wh" '{"description":"sample"}'
	api POST "/v1/webhooks/$wh/test" '{}'
	check_status 202 "test a webhook"
	api GET "/v1/webhooks/$wh/deliveries"
	api POST "/v1/webhooks/$wh/rotate-secret" '{}'
	check_status 200 "rotate a secret"
	api POST "/v1/webhooks/$wh/deliveries/dlv_0000000000000000/retry" '{}'
	check_status 404 "retry an unknown delivery"
	api POST /v1/webhooks '{"url":"https://127.0.0.1/hook","events":["killswitch.*"]}'
	check_status 400 "an unsafe destination"
	api DELETE "/v1/webhooks/$wh"

	# methods and paths
	api PUT /api/v1/kill-switch/kill
	check_status 405 "a wrong method"
	api OPTIONS /api/v1/kill-switch/check
	check_status 204 "OPTIONS"
	api HEAD /healthz
	check_status 200 "HEAD"
	api GET /v1/agents/nope/nothing "${TENANT_HDR[@]}"
	check_status 404 "an unknown path under a family"
	api POST /api/v1/kill-switch/kill '{"target_type":"run","target_id":"r","reason":"x"}' -H 'Idempotency-Key: k1'
	api POST /api/v1/kill-switch/kill '{"target_type":"run","target_id":"r","reason":"y"}' -H 'Idempotency-Key: k1'
	check_status 422 "an Idempotency-Key reused with another body"
}
for_each_server sample

#
# Every recorded response against the document.
#
node "$VALIDATE" "$DOC" "$ANDON_RESPONSE_LOG"/*.jsonl >"$WORK/validate.out" 2>&1
rc=$?
SERVER=all
summary=$(tail -n 1 "$WORK/validate.out")
# the web server's own HTML error pages (issue 16, defect 1: not yet
# problem+json) are listed, not failed
grep '^SERVER-PAGE ' "$WORK/validate.out" | sed 's/^/# note: /'
if [ "$rc" = 0 ]; then
	ok "every recorded response matches the document ($summary; $(ls "$ANDON_RESPONSE_LOG"/*.jsonl | wc -l) tests)"
else
	while IFS= read -r line; do
		case $line in FAIL*) fail "${line#FAIL }" ;; esac
	done <"$WORK/validate.out"
	fail "recorded responses that do not match the document: $summary"
fi
rm -rf "$WORK"
[ -n "$OWN_LOG" ] && rm -rf "$OWN_LOG"
finish
