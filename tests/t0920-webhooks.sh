#!/usr/bin/env bash
# t0920: webhook subscriptions (issue 14): create, list, read, change,
# delete, rotate; the signing secret shown once; URL safety at creation.
#
# POST /v1/webhooks answers 201 with "whsec_" + base64 of 24 bytes, which
# no list, read, Idempotency-Key replay, audit event or data-directory
# file shows again.  Field tables refuse unknown fields, unknown event
# types and empty lists; each unsafe destination (loopback, cloud metadata,
# private, a name resolving to loopback, ftp://, http:// by default,
# credentials, a malformed port) is a 400 naming url, nothing stored.
# Scopes: webhooks:write to change, audit:read to read; tenants isolated.
# "andonctl webhooks TENANT" and "andonctl webhooks deliveries ID [LIMIT]"
# print the public forms as JSON lines (newest delivery first), never a
# secret, and fail on an unknown tenant or webhook or a bad limit.  The
# shipped conf/andon-notify.service runs "andonctl notify" as andon with
# Restart=on-failure, and systemd-analyze verify accepts it.
. "$(dirname "$0")/setup.sh"

PUBLIC=https://93.184.215.14/hook   # a public address: no DNS needed

count_webhooks() {
	api GET /v1/webhooks
	jq -r .count <<<"$BODY"
}

refused() {
	local url=$1 code=$2 desc=$3
	api POST /v1/webhooks "{\"url\":\"$url\",\"events\":[\"killswitch.*\"]}"
	if [ "$STATUS" = 400 ] && [ "$(jq -r .code <<<"$BODY")" = "$code" ] &&
		[ "$(jq -r .field <<<"$BODY")" = url ]; then
		ok "$desc: 400 $code"
	else
		fail "$desc: want 400 $code"
	fi
}

subscriptions() {
	local id secret secret2 before kread kcheck out dl got
	before=$(count_webhooks)
	check "no webhook at first" [ "$before" = 0 ]

	# URL safety (webhook_allow_private and webhook_allow_http are no)
	refused https://127.0.0.1/hook unsafe_destination "loopback"
	refused 'https://[::1]:8443/hook' unsafe_destination "IPv6 loopback"
	refused https://169.254.169.254/latest/meta-data unsafe_destination "cloud metadata"
	refused https://10.0.0.1/hook unsafe_destination "private 10/8"
	refused https://192.168.1.1/hook unsafe_destination "private 192.168/16"
	refused https://224.0.0.1/hook unsafe_destination "multicast"
	refused 'https://[::ffff:127.0.0.1]/hook' unsafe_destination "IPv4-mapped loopback"
	refused https://localhost/hook unsafe_destination "a name resolving to 127.0.0.1"
	refused ftp://93.184.215.14/hook invalid_url "ftp://"
	refused http://93.184.215.14/hook unsafe_destination "http:// by default"
	refused https://user:pw@93.184.215.14/hook unsafe_destination "credentials in the URL"
	refused https://93.184.215.14:99999/hook invalid_url "port out of range"
	refused 'https://93.184.215.14/a b' invalid_url "a space"
	check "nothing stored by the refusals" [ "$(count_webhooks)" = 0 ]

	# field tables
	api POST /v1/webhooks "{\"url\":\"$PUBLIC\",\"events\":[\"killswitch.exploded\"]}"
	check_status 400 "an unknown event type"
	check_json .field '"events"' "it names events"
	api POST /v1/webhooks "{\"url\":\"$PUBLIC\",\"events\":[\"nothing.*\"]}"
	check_status 400 "a wildcard matching no type"
	api POST /v1/webhooks "{\"url\":\"$PUBLIC\",\"events\":[]}"
	check_status 400 "no event"
	api POST /v1/webhooks "{\"url\":\"$PUBLIC\",\"events\":[\"*\"],\"secret\":\"mine\"}"
	check_status 400 "an unknown field"
	api POST /v1/webhooks "{\"events\":[\"*\"]}"
	check_status 400 "url missing"
	check "nothing stored by the bad bodies" [ "$(count_webhooks)" = 0 ]

	# scopes
	kcheck=$(ctl key-create "$TENANT" checker 'killswitch:check' 2>/dev/null)
	kread=$(ctl key-create "$TENANT" reader 'audit:read' 2>/dev/null)
	KEY=$kcheck api GET /v1/webhooks
	check_status 403 "listing needs audit:read"
	KEY=$kread api POST /v1/webhooks "{\"url\":\"$PUBLIC\",\"events\":[\"*\"]}"
	check_status 403 "creating needs webhooks:write"

	# create: the secret once
	api POST /v1/webhooks "{\"url\":\"$PUBLIC\",\"events\":[\"killswitch.*\",\"shutdown.activated\"],\"description\":\"pager\"}"
	check_status 201 "created"
	id=$(jq -r .id <<<"$BODY")
	secret=$(jq -r .secret <<<"$BODY")
	check "the secret is whsec_ and base64 of 24 bytes" \
		bash -c '[[ $1 =~ ^whsec_[A-Za-z0-9+/]{32}$ ]] && [ "$(printf %s "${1#whsec_}" | base64 -d | wc -c)" = 24 ]' _ "$secret"
	check_json '[.enabled, .events, .description]' '[true,["killswitch.*","shutdown.activated"],"pager"]' "the record"
	KEY=$kread api GET "/v1/webhooks/$id"
	check_status 200 "read with audit:read"
	check_json 'has("secret") or has("secrets")' false "no secret in a read"
	KEY=$kread api GET /v1/webhooks
	check_json '[.count, (.data[0] | has("secret") or has("secrets"))]' '[1,false]' "no secret in the list"
	KEY=$KEY_B api GET "/v1/webhooks/$id"
	check_status 404 "another tenant's webhook is not found"
	KEY=$KEY_B api GET /v1/webhooks
	check_json .count 0 "nor listed to it"

	# Idempotency-Key replay withholds the secret
	api POST /v1/webhooks "{\"url\":\"$PUBLIC\",\"events\":[\"*\"]}" -H 'Idempotency-Key: wh-1'
	check_status 201 "created with an Idempotency-Key"
	secret2=$(jq -r .secret <<<"$BODY")
	api POST /v1/webhooks "{\"url\":\"$PUBLIC\",\"events\":[\"*\"]}" -H 'Idempotency-Key: wh-1'
	check_status 201 "replayed"
	check_json .secret null "the replay withholds the secret"
	check_header Secret-Withheld '^secret$' "and says so"

	# PATCH
	api PATCH "/v1/webhooks/$id" '{"enabled":false,"events":["agent.*"]}'
	check_status 200 "patched"
	check_json '[.enabled, .events]' '[false,["agent.*"]]' "enabled and events changed"
	api PATCH "/v1/webhooks/$id" '{"url":"https://10.1.2.3/x"}'
	check_status 400 "a PATCH to a private URL is refused"
	api PATCH "/v1/webhooks/$id" '{}'
	check_status 400 "an empty PATCH"
	api PATCH "/v1/webhooks/$id" '{"secret":"x"}'
	check_status 400 "PATCH cannot set a secret"
	api GET "/v1/webhooks/$id"
	check_json '[.url, .enabled]' "[\"$PUBLIC\",false]" "the refused PATCHes stored nothing"
	KEY=$KEY_B api PATCH "/v1/webhooks/$id" '{"enabled":true}'
	check_status 404 "another tenant cannot PATCH it"

	# rotate
	api POST "/v1/webhooks/$id/rotate-secret" "{}"
	check_status 200 "rotated"
	secret3=$(jq -r .secret <<<"$BODY")
	check "a new whsec_ secret" bash -c '[[ $1 =~ ^whsec_ ]] && [ "$1" != "$2" ]' _ "$secret3" "$secret"
	api GET "/v1/webhooks/$id"
	check_json 'has("secret") or has("secrets")' false "still no secret in a read"

	# no secret anywhere on disk or in the logs
	ctl checkpoint >/dev/null 2>&1
	check "three secrets to look for" [ "${#secret}${#secret2}${#secret3}" = 383838 ]
	found=$(grep -r -a -F -l --exclude=.body --exclude=.headers \
		-e "${secret#whsec_}" -e "${secret2#whsec_}" -e "${secret3#whsec_}" "$DATA" 2>/dev/null)
	check "no secret in the data directory or logs ($found)" [ -z "$found" ]

	# the audit chain holds the changes
	check "the audit chain verifies" bash -c \
		'"$@" verify >/dev/null 2>&1' _ "$ANDONCTL" -c "$DATA/andon.conf" -d "$DATA"

	# andonctl webhooks: the same public forms, never a secret
	api PATCH "/v1/webhooks/$id" '{"enabled":true}'
	api POST "/v1/webhooks/$id/test" '{}'
	api POST "/v1/webhooks/$id/test" '{}'
	check_status 202 "two test deliveries queued"
	out=$(ctl webhooks "$TENANT")
	api GET /v1/webhooks
	got=$(jq -s -c --arg id "$id" '[(map(.id) | sort), (map(has("secret") or has("secrets") or has("tenant")) | any), (map(select(.id == $id))[0] | [.url, .enabled])]' <<<"$out")
	check "andonctl webhooks TENANT: a JSON line for each of the tenant's webhooks ($got)" \
		[ "$got" = "[$(jq -c '[.data[].id] | sort' <<<"$BODY"),false,[\"$PUBLIC\",true]]" ]
	check "andonctl webhooks: another tenant's list is empty" \
		bash -c '[ -z "$("$@" webhooks "$0")" ]' "$TENANT_B" "$ANDONCTL" -c "$DATA/andon.conf" -d "$DATA"
	dl=$(ctl webhooks deliveries "$id")
	check "andonctl webhooks deliveries ID: both, newest first, pending" \
		bash -c '[ "$(jq -s -c "[length, (map(.state) | unique), (.[0].event_seq > .[1].event_seq), (map(has(\"lease_owner\") or has(\"tenant\")) | any)]" <<<"$1")" = "[2,[\"pending\"],true,false]" ]' _ "$dl"
	check "andonctl webhooks deliveries ID 1: the newest only" \
		bash -c '[ "$("$@" | jq -s -c "[length, .[0].id]")" = "[1,$(jq -s -c ".[0].id" <<<"$0")]" ]' \
		"$dl" "$ANDONCTL" -c "$DATA/andon.conf" -d "$DATA" webhooks deliveries "$id" 1
	check "andonctl: no secret in either listing" \
		bash -c '! grep -F -q -e "${1#whsec_}" -e "${2#whsec_}" -e "${3#whsec_}" -e whsec_ <<<"$4"' \
		_ "$secret" "$secret2" "$secret3" "$out$dl"
	check "andonctl webhooks deliveries of an unknown webhook fails" \
		bash -c 'out=$("$@" 2>&1); [ $? != 0 ] && grep -q "no webhook" <<<"$out"' \
		_ "$ANDONCTL" -c "$DATA/andon.conf" -d "$DATA" webhooks deliveries wh_000000000000
	check "andonctl webhooks of an unknown tenant fails" \
		bash -c '! "$@" >/dev/null 2>&1' _ "$ANDONCTL" -c "$DATA/andon.conf" -d "$DATA" webhooks org_00000000
	check "andonctl webhooks deliveries with a bad limit fails" \
		bash -c '! "$@" >/dev/null 2>&1' _ "$ANDONCTL" -c "$DATA/andon.conf" -d "$DATA" webhooks deliveries "$id" 0

	# DELETE
	KEY=$KEY_B api DELETE "/v1/webhooks/$id"
	check_status 404 "another tenant cannot delete it"
	api DELETE "/v1/webhooks/$id"
	check_status 200 "deleted"
	api GET "/v1/webhooks/$id"
	check_status 404 "gone"
	api DELETE "/v1/webhooks/$id"
	check_status 404 "deleting twice is 404"
}

for_each_server subscriptions

# the shipped unit for the notifier (not installed by make)
unit=$TOP/conf/andon-notify.service
check "andon-notify.service runs andonctl notify as andon, restarted on failure" \
	bash -c 'grep -q "^ExecStart=[^ ]*/andonctl -c /etc/andon/andon.conf notify$" "$1" &&
		grep -q "^User=andon$" "$1" && grep -q "^Restart=on-failure$" "$1"' _ "$unit"
if command -v systemd-analyze >/dev/null; then
	udir=$(mktemp -d /tmp/andon-t.unit.XXXXXX)
	sed "s|^ExecStart=[^ ]*/andonctl|ExecStart=$ANDONCTL|" "$unit" >"$udir/andon-notify.service"
	check "systemd-analyze verify accepts it (ExecStart: the built andonctl)" \
		systemd-analyze verify --man=no "$udir/andon-notify.service"
	rm -rf "$udir"
fi
finish
