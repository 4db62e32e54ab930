#!/usr/bin/env bash
# t0910: the audit trail's reads (GET /v1/audit/events, .../{id}): every
# filter, paging and count, newest first, tenant isolation, 404s, bad
# parameters; the NDJSON export (oldest first, resumable with after_seq),
# re-verified offline by andonctl verify-export and by the Python reference
# verifier (tools/andon-verify.py), tampered exports and receipts refused;
# events hashed over their RFC 8785 form, which a standard JSON library
# reproduces, non-ASCII text and all.
. "$(dirname "$0")/setup.sh"

VERIFY=(python3 "$TOP/tools/andon-verify.py")
REASON='Drained €3k — über limit, "quoted" \ back 😀'
EVENTS=/v1/audit/events

# The body of an NDJSON export into $DATA/$1 (STATUS and HEADERS set).
export_to() {
	local file=$1 query=${2:-}
	STATUS=$(curl -s -o "$DATA/$file" -D "$DATA/.headers" -w '%{http_code}' \
		--max-time 120 -H "X-API-Key: ${KEY-$ADMIN_KEY}" \
		-H 'Accept: application/x-ndjson' "$BASE$EVENTS$query")
	HEADERS=$(tr -d '\r' <"$DATA/.headers")
	LAST_METHOD=GET
	LAST_PATH="$EVENTS$query (NDJSON)"
	BODY=$(head -c 400 "$DATA/$file")
}

refused() {
	! "$@" >"$DATA/.refusal" 2>&1 && grep -q INVALID "$DATA/.refusal"
}

bad_query() {
	local query=$1 field=$2
	api GET "$EVENTS?$query"
	check_status 400 "?$query is refused"
	check_json '.field' "\"$field\"" "?$query names $field"
	check_header Content-Type 'application/problem\+json' "?$query answers problem+json"
}

seed() {
	local i
	api GET $EVENTS
	BEFORE=$(jq .count <<<"$BODY")
	api POST /v1/api-keys '{"name":"checker","scopes":["killswitch:check"]}'
	check_status 201 "a key without audit:read"
	CHECK_KEY=$(jq -r .key <<<"$BODY")
	api POST /api/v1/kill-switch/kill "$(jq -nc --arg r "$REASON" \
		'{target_type:"agent", target_id:"bot-ü", reason:$r}')"
	check_status 201 "kill with a non-ASCII reason"
	RECEIPT=$(jq -r .receipt_id <<<"$BODY")
	for i in 1 2 3 4 5; do
		api POST /api/v1/kill-switch/kill "{\"target_type\":\"run\",\"target_id\":\"run-$i\",\"reason\":\"r$i\"}"
		[ "$STATUS" = 201 ] || fail "kill run-$i ($STATUS)"
	done
	sleep 0.05
	SINCE=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
	sleep 0.05
	api POST /v1/emergency-shutdown '{"severity":2,"scope":"org","reason":"Überprüfung \"läuft\""}' \
		-H "X-Tenant-ID: $TENANT"
	check_status 201 "a severity-2 shutdown (numbers in its event)"
	api POST "/v1/emergency-shutdown/$(jq -r .shutdown_id <<<"$BODY")/resolve" \
		'{"reason":"fertig — ok"}' -H "X-Tenant-ID: $TENANT"
	check_status 200 "resolve it"
	KEY=$KEY_B api POST /api/v1/kill-switch/kill '{"target_type":"agent","target_id":"bot-b","reason":"other tenant"}'
	check_status 201 "a kill in tenant B"
}

listing() {
	local total first_id at3 expect
	api GET $EVENTS
	check_status 200 "list the audit events"
	total=$(jq .count <<<"$BODY")
	check "tenant A has its 9 new events ($BEFORE + 9 = $total)" [ "$total" -eq $((BEFORE + 9)) ]
	check_json '[.data[].tenant] | unique' "[\"$TENANT\"]" "only the tenant's own events"
	check_json '[.data[].seq] == ([.data[].seq] | sort | reverse)' true "newest first"
	check_json '.data | length' "$total" "all on one page (default limit 50)"
	check_json '[.data[] | has("seq") and has("prev_hash") and has("hash") and has("receipt_id")] | all' \
		true "each event carries seq, prev_hash, hash and receipt_id"
	check_json '[.data[].canon] | unique' '["jcs"]' "each event carries the canonical-form marker"
	printf '%s' "$BODY" >"$DATA/all.json"

	api GET "$EVENTS?limit=3"
	check_json '.data | length' 3 "limit=3: three events"
	check_json '.count' "$total" "limit keeps the whole count"
	check_json '[.data[].seq]' "$(jq -c '[.data[:3][].seq]' "$DATA/all.json")" "the newest three"
	api GET "$EVENTS?skip=3&limit=3"
	check_json '[.data[].seq]' "$(jq -c '[.data[3:6][].seq]' "$DATA/all.json")" "skip=3 pages on"
	api GET "$EVENTS?skip=100"
	check_json '.data' '[]' "skip past the end: empty page"
	check_json '.count' "$total" "and the count"

	api GET "$EVENTS?type=killswitch.activated"
	check_json '.count' 6 "type=killswitch.activated: 6 kills"
	check_json '[.data[].type] | unique' '["killswitch.activated"]' "only kills"
	api GET "$EVENTS?type=shutdown.*"
	check_json '.count' 2 "type=shutdown.*: activated and resolved"
	check_json '[.data[].type]' '["shutdown.resolved","shutdown.activated"]' "prefix wildcard, newest first"
	api GET "$EVENTS?type=killswitch.*&limit=1"
	check_json '.count' 6 "type=killswitch.*"
	api GET "$EVENTS?type=killswitch"
	check_status 400 "a type is matched whole, not as a prefix: killswitch is no type (one rule for every list's filters)"

	api GET "$EVENTS?target_id=bot-%C3%BC"
	check_json '.count' 1 "target_id=bot-ü (percent-encoded UTF-8)"
	check_json '.data[0].reason' "$(jq -n --arg r "$REASON" '$r')" "the reason as written"
	api GET "$EVENTS?target_id=run-3"
	check_json '[.count, .data[0].target.id]' '[1,"run-3"]' "target_id=run-3"

	first_id=$(jq -r '.data[-1].actor.key_id' "$DATA/all.json")
	api GET "$EVENTS?actor=$first_id"
	expect=$(jq --arg k "$first_id" '[.data[] | select(.actor.key_id == $k)] | length' "$DATA/all.json")
	check_json '.count' "$expect" "actor=<key id>"
	api GET "$EVENTS?actor=admin"
	expect=$(jq '[.data[] | select(.actor.key_name == "admin")] | length' "$DATA/all.json")
	check_json '.count' "$expect" "actor=<key name>"
	api GET "$EVENTS?actor=nobody"
	check_json '.count' 0 "actor=nobody"

	api GET "$EVENTS?since=$SINCE"
	check_json '[.data[].type]' '["shutdown.resolved","shutdown.activated"]' "since: the later events only"
	api GET "$EVENTS?until=$SINCE&type=shutdown.*"
	check_json '.count' 0 "until: none of the later events"
	at3=$(jq -r '.data[-3].at' "$DATA/all.json")
	api GET "$EVENTS?since=$at3&until=$at3"
	check "since=until=at of one event finds it (bounds inclusive)" \
		jq -e --arg a "$at3" '.count >= 1 and ([.data[].at] | unique) == [$a]' <<<"$BODY"
	api GET "$EVENTS?since=2020-01-01T00:00:00%2B02:00"
	check_json '.count' "$total" "since with an offset"

	expect=$(jq '.data[4].seq' "$DATA/all.json")
	api GET "$EVENTS?after_seq=$expect"
	check_json '[.data[].seq]' "$(jq -c '[.data[:4][].seq]' "$DATA/all.json")" "after_seq on a listing"
}

one_event() {
	local id
	id=$(jq -r '.data[0].id' "$DATA/all.json")
	api GET "$EVENTS/$id"
	check_status 200 "one event by id"
	check_json '.' "$(jq -c '.data[0]' "$DATA/all.json")" "the same event as listed"
	KEY=$KEY_B api GET "$EVENTS/$id"
	check_status 404 "another tenant's event by id is 404"
	KEY=$KEY_B api GET $EVENTS
	check_json "[.data[].tenant] | unique" "[\"$TENANT_B\"]" "tenant B lists only its own"
	check "tenant B never sees tenant A's events" \
		jq -e --arg id "$id" '[.data[].id] | index($id) == null' <<<"$BODY"
	api GET "$EVENTS/evt_000000000000000000000000"
	check_status 404 "unknown event"
	api GET "$EVENTS/nonsense"
	check_status 404 "malformed event id"
	KEY=$CHECK_KEY api GET $EVENTS
	check_status 403 "a key without audit:read is refused"
	KEY='' api GET $EVENTS
	check_status 401 "no key"
}

bad_parameters() {
	bad_query 'type=Kill!' type
	bad_query 'type=.activated' type
	bad_query 'type=killswitch.*.x' type
	bad_query 'since=yesterday' since
	bad_query 'until=2026-13-01T00:00:00Z' until
	bad_query 'since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z' until
	bad_query 'limit=0' limit
	bad_query 'limit=1001' limit
	bad_query 'limit=ten' limit
	bad_query 'skip=-1' skip
	bad_query 'after_seq=x' after_seq
	bad_query 'after_seq=-5' after_seq
	bad_query 'tpye=killswitch.activated' tpye
	bad_query 'type=a&type=b' type
	bad_query 'a%20b=1' query
	bad_query "target_id=$(printf 'x%.0s' {1..300})" target_id
	bad_query "actor=$(printf 'y%.0s' {1..300})" actor
}

ndjson() {
	local total lines third rest pk
	total=$(jq .count "$DATA/all.json")
	export_to export.ndjson
	check_status 200 "NDJSON export"
	check_header Content-Type '^application/x-ndjson' "Content-Type application/x-ndjson"
	lines=$(wc -l <"$DATA/export.ndjson")
	check "one line per event ($lines of $total)" [ "$lines" -eq "$total" ]
	check "every line is one JSON object" jq -se 'all(type == "object")' "$DATA/export.ndjson"
	check "oldest first (seq order)" jq -se '[.[].seq] == ([.[].seq] | sort)' "$DATA/export.ndjson"
	check "the same events as the listing" jq -se --slurpfile all "$DATA/all.json" \
		'[.[].id] == ([$all[0].data[].id] | reverse)' "$DATA/export.ndjson"

	third=$(sed -n 3p "$DATA/export.ndjson" | jq .seq)
	export_to resumed.ndjson "?after_seq=$third"
	rest=$(wc -l <"$DATA/resumed.ndjson")
	check "after_seq resumes after the third event ($rest lines)" [ "$rest" -eq $((total - 3)) ]
	check "the resumed part is the rest of the export" \
		cmp -s "$DATA/resumed.ndjson" <(tail -n +4 "$DATA/export.ndjson")
	export_to part.ndjson "?after_seq=$third&limit=2"
	check "limit cuts an export short" [ "$(wc -l <"$DATA/part.ndjson")" -eq 2 ]
	export_to kills.ndjson "?type=killswitch.*"
	check "a filtered export" jq -se 'length == 6 and all(.type == "killswitch.activated")' "$DATA/kills.ndjson"
	export_to bad.ndjson "?skip=2"
	check_status 400 "skip does not apply to an export"
	check "and the refusal names it" jq -e '.field == "skip"' "$DATA/bad.ndjson"

	# offline verification, C and Python
	check "andonctl verify-export accepts the export" ctl verify-export "$DATA/export.ndjson"
	check "andon-verify.py accepts the export" "${VERIFY[@]}" export "$DATA/export.ndjson"
	check "andonctl verify-export accepts a filtered export" ctl verify-export "$DATA/kills.ndjson"
	check "andon-verify.py accepts a filtered export" "${VERIFY[@]}" export "$DATA/kills.ndjson"

	# an edited event
	jq -c 'if .type == "killswitch.activated" and .target.id == "bot-ü" then .reason = "Drained €3 — über limit" else . end' \
		"$DATA/export.ndjson" >"$DATA/edited.ndjson"
	check "andonctl refuses an edited event" refused ctl verify-export "$DATA/edited.ndjson"
	check "andon-verify.py refuses an edited event" refused "${VERIFY[@]}" export "$DATA/edited.ndjson"
	# an edited event whose forger recomputed its hash: the next link breaks
	python3 - "$DATA/export.ndjson" "$TOP/tools/andon-verify.py" >"$DATA/forged.ndjson" <<'EOF'
import hashlib, importlib.util, json, sys
spec = importlib.util.spec_from_file_location("v", sys.argv[2])
v = importlib.util.module_from_spec(spec); spec.loader.exec_module(v)
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
# the first kill: the next line is the next event of the chain
i = next(i for i, l in enumerate(lines) if json.loads(l)["type"] == "killswitch.activated")
e = json.loads(lines[i])
e["reason"] = "nothing happened"
del e["hash"]
e["hash"] = hashlib.sha256(v.canonical(e)).hexdigest()
lines[i] = json.dumps(e, ensure_ascii=False)
print("\n".join(lines))
EOF
	check "andonctl refuses a re-hashed forgery (the chain breaks)" refused ctl verify-export "$DATA/forged.ndjson"
	check "andon-verify.py refuses a re-hashed forgery" refused "${VERIFY[@]}" export "$DATA/forged.ndjson"
	check "the kills are consecutive events: --contiguous accepts them" \
		ctl verify-export "$DATA/kills.ndjson" --contiguous
	check "andon-verify.py --contiguous accepts them too" \
		"${VERIFY[@]}" export "$DATA/kills.ndjson" --contiguous
	sed 3d "$DATA/kills.ndjson" >"$DATA/cut.ndjson"
	check "andonctl --contiguous refuses an export with an event removed" \
		refused ctl verify-export "$DATA/cut.ndjson" --contiguous
	check "andon-verify.py --contiguous refuses it too" \
		refused "${VERIFY[@]}" export "$DATA/cut.ndjson" --contiguous
	(sed -n 2p "$DATA/export.ndjson"; sed -n 1p "$DATA/export.ndjson") >"$DATA/swapped.ndjson"
	check "andonctl refuses events out of order" refused ctl verify-export "$DATA/swapped.ndjson"
	check "andon-verify.py refuses events out of order" refused "${VERIFY[@]}" export "$DATA/swapped.ndjson"
}

canonical_form() {
	local pk
	# the hash is over RFC 8785, which a standard library writes for
	# these events: sorted keys, UTF-8 as is, no white space
	check "Python's json module reproduces every event's hash" python3 -c '
import hashlib, json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(line)
    want = e.pop("hash")
    text = json.dumps(e, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert hashlib.sha256(text.encode()).hexdigest() == want, e["seq"]
' "$DATA/export.ndjson"
	check "the stored form holds the reason as UTF-8" grep -q 'Drained €3k — über limit, \\"quoted\\" \\\\ back 😀' "$DATA/export.ndjson"
	check "andon-verify.py reproduces RFC 8785's examples" "${VERIFY[@]}" selftest

	# receipts: the leaf is the same canonical form
	KEY='' api GET /v1/transparency/key
	pk=$(jq -r .public_key <<<"$BODY")
	api GET "/v1/transparency/receipts/$RECEIPT"
	check_status 200 "the non-ASCII kill's receipt"
	printf '%s' "$BODY" >"$DATA/receipt.json"
	check "andon-verify.py verifies the receipt against the log's key" \
		"${VERIFY[@]}" receipt "$DATA/receipt.json" --public-key "$pk"
	check "andonctl verify-receipt still verifies it" ctl verify-receipt "$DATA/receipt.json" "$pk"
	api GET "/v1/transparency/receipts/$(jq -r '.data[] | select(.type == "shutdown.activated") | .receipt_id' "$DATA/all.json")"
	printf '%s' "$BODY" >"$DATA/receipt2.json"
	check "andon-verify.py verifies a shutdown's receipt (numbers, nested data)" \
		"${VERIFY[@]}" receipt "$DATA/receipt2.json" --public-key "$pk"
	jq '.event.reason = "Drained €3 — über limit"' "$DATA/receipt.json" >"$DATA/forged.json"
	check "andon-verify.py refuses an edited event" refused "${VERIFY[@]}" receipt "$DATA/forged.json" --public-key "$pk"
	jq '.inclusion_proof[0] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="' "$DATA/receipt.json" >"$DATA/forged.json"
	check "andon-verify.py refuses an edited proof" refused "${VERIFY[@]}" receipt "$DATA/forged.json" --public-key "$pk"
	jq '.sth.timestamp += 1' "$DATA/receipt.json" >"$DATA/forged.json"
	check "andon-verify.py refuses an edited tree head" refused "${VERIFY[@]}" receipt "$DATA/forged.json" --public-key "$pk"
	check "andon-verify.py refuses another key" refused "${VERIFY[@]}" receipt "$DATA/receipt.json" \
		--public-key "$(head -c 32 /dev/urandom | base64)"
	jq '.event.canon = "v9"' "$DATA/receipt.json" >"$DATA/forged.json"
	check "andon-verify.py refuses an unknown canonical form" refused "${VERIFY[@]}" receipt "$DATA/forged.json" --public-key "$pk"
	check "andonctl refuses it too" refused ctl verify-receipt "$DATA/forged.json" "$pk"

	# events written before the marker keep the old rule, in C and Python
	head -n 1 "$DATA/export.ndjson" | python3 -c '
import hashlib, importlib.util, json, sys
spec = importlib.util.spec_from_file_location("v", sys.argv[1])
v = importlib.util.module_from_spec(spec); spec.loader.exec_module(v)
e = json.loads(sys.stdin.read())
del e["canon"], e["hash"]
e["reason"] = "Drained €3k — über limit 😀"
e["hash"] = hashlib.sha256(v.canonical(e)).hexdigest()
print(json.dumps(e))
' "$TOP/tools/andon-verify.py" >"$DATA/legacy.ndjson"
	check "an unmarked event verifies by the old rule (andonctl)" ctl verify-export "$DATA/legacy.ndjson"
	check "and by the old rule in Python" "${VERIFY[@]}" export "$DATA/legacy.ndjson"
	check "the whole trail still verifies" ctl verify
}

# Reads are exempt from the emergency gate: an investigation goes on
# while everything else is halted.
under_shutdown() {
	local id
	api POST /v1/emergency-shutdown '{"severity":4,"scope":"org","reason":"halt"}' \
		-H "X-Tenant-ID: $TENANT"
	check_status 201 "a severity-4 shutdown"
	id=$(jq -r .shutdown_id <<<"$BODY")
	api GET /v1/api-keys
	check_status 503 "a non-exempt read is halted"
	api GET "$EVENTS?type=shutdown.activated&limit=1"
	check_status 200 "the audit events still answer"
	check_json '.data[0].data.severity' 4 "and show the shutdown"
	export_to halted.ndjson "?type=shutdown.*"
	check_status 200 "an export still answers"
	api GET "$EVENTS/$(jq -r '.data[0].id' "$DATA/all.json")"
	check_status 200 "one event still answers"
	api POST "/v1/emergency-shutdown/$id/resolve" '{"reason":"done"}' -H "X-Tenant-ID: $TENANT"
	check_status 200 "resolve the shutdown"
}

audit_reads() {
	seed
	listing
	one_event
	bad_parameters
	ndjson
	canonical_form
	under_shutdown
}

for_each_server audit_reads
finish
