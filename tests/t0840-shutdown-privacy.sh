#!/usr/bin/env bash
# t0840: what another tenant sees of a scope "all" emergency shutdown (issue
# 11, item 5).  Tenant A (ADMIN_KEY, platform:admin) halts every tenant;
# tenant B (KEY_B) reads why through the list, the record, the 503 of a
# halted call and the severity-3 warning, and none of them carries tenant
# A's id, A's key (id or prefix) or a member outside the allowlist.  Tenant
# A still sees its whole record, before and after the resolution.
. "$(dirname "$0")/setup.sh"

ESD=/v1/emergency-shutdown
CHECK='/api/v1/kill-switch/check?target_type=agent&target_id=x'

# The members another tenant is shown of a shutdown record (jq's key order).
FOREIGN='["activated_at","id","message","reason","resolved_at","scope","severity","severity_label","shutdown_id","status"]'
# The members of the gate's 503: problem details and which shutdown.
HALTED='["code","detail","reason","severity","shutdown_id","status","title","type"]'
WARNING='["reason","severity","shutdown_id"]'

# The hex that A's key id (key_HEX) and prefix (andon_HEX) share.
a_key_hex() {
	sed 's/^andon_\([0-9a-f]*\)_.*/\1/' <<<"$ADMIN_KEY"
}

# no_trace DESC: the last answer (body and headers) names neither tenant A
# nor A's key.
no_trace() {
	local hex
	hex=$(a_key_hex)
	if [ -z "$hex" ] || [ "$hex" = "$ADMIN_KEY" ]; then
		fail "$1: cannot read the key id of ADMIN_KEY"
	elif grep -Fq -e "$TENANT" -e "$hex" <<<"$BODY$HEADERS"; then
		fail "$1: carries tenant A's id or A's key id"
	else
		ok "$1: nothing of tenant A or its key"
	fi
}

activate() {
	api POST $ESD "$1"
	SHUTDOWN=$(jq -r '.shutdown_id // empty' <<<"$BODY")
	RECEIPT=$(jq -r '.receipt_id // empty' <<<"$BODY")
}

# a_sees_all: tenant A reads its own shutdown whole, by id and in the list.
a_sees_all() {
	local hex
	hex=$(a_key_hex)
	api GET "$ESD/$SHUTDOWN"
	check_status 200 "A gets its shutdown"
	check_json '.organization_id' "\"$TENANT\"" "A sees organization_id"
	check_json '.activated_by' "\"andon_$hex\"" "A sees activated_by"
	check_json '.affected_scope.org_id' "\"$TENANT\"" "A sees affected_scope"
	check_json '.receipt_id | startswith("rcpt_")' 'true' "A sees its receipt"
	api GET $ESD
	check_json "[.active_shutdowns[] | select(.id == \"$SHUTDOWN\") |
		.organization_id, .activated_by]" "[\"$TENANT\",\"andon_$hex\"]" \
		"A's list shows the whole record"
}

# b_reads SEVERITY: what tenant B reads of the active shutdown
b_reads() {
	KEY=$KEY_B api GET $ESD
	check_status 200 "severity $1: B lists"
	check_json "[.active_shutdowns[] | select(.id == \"$SHUTDOWN\") | keys]" \
		"[$FOREIGN]" "severity $1: B's list item holds the allowlist only"
	check_json "[.active_shutdowns[] | select(.id == \"$SHUTDOWN\") |
		.severity, .scope, .status, .reason, .resolved_at]" \
		"[$1,\"all\",\"activated\",\"drill: platform incident $1\",null]" \
		"severity $1: B's list item says what halts it and why"
	no_trace "severity $1: B's list"

	# at severity 3 every answer, this one too, carries the gate's warning
	local want=$FOREIGN
	[ "$1" = 3 ] && want=$(jq -c '. + ["emergency_warning"] | sort' <<<"$FOREIGN")
	KEY=$KEY_B api GET "$ESD/$SHUTDOWN"
	check_status 200 "severity $1: B gets it by id"
	check_json 'keys' "$want" "severity $1: B's record holds the allowlist only"
	check_json '.emergency_warning // {} | keys' \
		"$([ "$1" = 3 ] && echo "$WARNING" || echo '[]')" \
		"severity $1: and the warning its allowlist"
	check_json '[.id, .shutdown_id, .severity, .severity_label, .activated_at | type]' \
		'["string","string","number","string","string"]' \
		"severity $1: B's record: id, severity, label, since when"
	no_trace "severity $1: B's record"

	# the receipt stays in A's audit trail
	KEY=$KEY_B api GET "/v1/transparency/receipts/$RECEIPT"
	check_status 404 "severity $1: B cannot read A's audit event"
	no_trace "severity $1: B's 404 for the receipt"
}

halted() {
	activate '{"severity":4,"reason":"drill: platform incident 4","scope":"all"}'
	check_status 201 "A activates a severity-4 scope all shutdown"
	a_sees_all
	b_reads 4

	KEY=$KEY_B api GET "$CHECK"
	check_status 503 "B's check is halted"
	check_json 'keys' "$HALTED" "B's 503 holds the problem and the shutdown only"
	check_json '[.shutdown_id, .severity, .reason]' \
		"[\"$SHUTDOWN\",4,\"drill: platform incident 4\"]" "B's 503 says which and why"
	no_trace "B's 503"

	# B's own org shutdown is B's whole, beside A's foreign one
	KEY=$KEY_B api POST $ESD '{"severity":1,"reason":"drill: B alone"}'
	check_status 201 "B activates its own shutdown"
	local b_id
	b_id=$(jq -r .shutdown_id <<<"$BODY")
	KEY=$KEY_B api GET $ESD
	check_json "[.active_shutdowns[] | select(.id == \"$b_id\") |
		.organization_id, (.activated_by | startswith(\"andon_\"))]" \
		"[\"$TENANT_B\",true]" "B sees its own shutdown whole"
	check_json "[.active_shutdowns[] | select(.id == \"$SHUTDOWN\") | keys]" \
		"[$FOREIGN]" "and A's beside it through the allowlist"
	no_trace "B's list of both"
	api GET "$ESD/$b_id"
	check_status 404 "A does not see B's org shutdown"
	KEY=$KEY_B api POST "$ESD/$b_id/resolve" '{}'
	check_status 200 "B resolves its own"

	api POST "$ESD/$SHUTDOWN/resolve" '{"reason":"drill over"}'
	check_status 200 "A resolves"
	check_json '.resolved_by' "\"andon_$(a_key_hex)\"" "A sees resolved_by"
	api GET "$ESD/$SHUTDOWN"
	check_json '[.status, .organization_id, .resolution_reason]' \
		"[\"resolved\",\"$TENANT\",\"drill over\"]" "A reads the resolved record whole"
	KEY=$KEY_B api GET "$ESD/$SHUTDOWN"
	check_status 404 "B no longer reads the resolved shutdown"
	no_trace "B's 404 after the resolution"
	KEY=$KEY_B api GET $ESD
	check_json "[.active_shutdowns[] | select(.id == \"$SHUTDOWN\")]" '[]' \
		"nor lists it"
	no_trace "B's list after the resolution"
	KEY=$KEY_B api GET "$CHECK"
	check_status 200 "B works again"
}

warned() {
	activate '{"severity":3,"reason":"drill: platform incident 3","scope":"all"}'
	check_status 201 "A activates a severity-3 scope all shutdown"
	a_sees_all
	b_reads 3

	KEY=$KEY_B api GET "$CHECK"
	check_status 200 "B's check answers at severity 3"
	check_header 'x-emergency-warning' "^$SHUTDOWN; severity=3\$" \
		"B's warning header names the shutdown and the severity only"
	check_json '.emergency_warning | keys' "$WARNING" \
		"B's warning member holds the allowlist only"
	check_json '.emergency_warning.reason' '"drill: platform incident 3"' \
		"B's warning gives the reason"
	no_trace "B's warned check"
	KEY=$KEY_B api GET $ESD
	check_json '.emergency_warning | keys' "$WARNING" \
		"the warning on B's list holds the allowlist only"

	api POST "$ESD/$SHUTDOWN/resolve" '{}'
	check_status 200 "A resolves"
	api GET "$ESD/$SHUTDOWN"
	check_json '[.status, .organization_id, (.resolved_by | startswith("andon_"))]' \
		"[\"resolved\",\"$TENANT\",true]" "A reads the resolved record whole"
	KEY=$KEY_B api GET "$CHECK"
	check_status 200 "B's check after the resolution"
	check_header 'x-emergency-warning' '^$' "carries no warning"
	no_trace "B's check after the resolution"
}

for_each_server halted
for_each_server warned
finish
