#!/usr/bin/env bash
# t0860: "./dev serve" and "./dev stop" as a new user meets them (issue 16,
# defect 8): a fresh data directory is set up and its admin key printed; a
# data directory restored from a backup is served as it is (no second
# tenant); the banner prints the exact stop command, and stop finds the
# instance by its data directory, not whichever runs in ./var.
. "$(dirname "$0")/setup.sh"

WORK=$(mktemp -d /tmp/andon-t.XXXXXX)
chmod 755 "$WORK"     # the web server's user reads the conf
cp "$TOP/conf/andon.conf" "$WORK/andon.conf"
export ANDON_CONF=$WORK/andon.conf

# serve NAME: ./dev serve on $WORK/NAME, a free port; sets OUT and PORT
serve() {
	pick_port
	OUT=$(ANDON_DATA=$WORK/$1 ANDON_PORT=$PORT "$TOP/dev" serve 2>&1) ||
		fail "./dev serve $1 failed: $OUT"
}
tenants() {
	"$TOP/build/cli/andonctl" -c "$ANDON_CONF" -d "$WORK/$1" tenant-list | grep -c .
}
answers() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "X-API-Key: $2" \
		"http://127.0.0.1:$1/api/v1/kill-switch/check?target_type=agent&target_id=demo"
}

serve_and_stop() {
	local key stop_a port_a port_b
	rm -rf "$WORK/a-$SERVER" "$WORK/b-$SERVER"
	export ANDON_SERVER=$SERVER

	serve "a-$SERVER"
	port_a=$PORT
	key=$(sed -n 's/^  admin key:  \(andon_[^ ]*\).*/\1/p' <<<"$OUT")
	[ -n "$key" ] && ok "a fresh data directory: the banner prints an admin key" ||
		fail "a fresh data directory: the banner prints an admin key: $OUT"
	[ "$(answers "$port_a" "$key")" = 200 ] && ok "the key works" ||
		fail "the key works"
	[ "$(tenants "a-$SERVER")" = 1 ] && ok "one tenant" || fail "one tenant"
	stop_a=$(sed -n 's/^Stop it with: //p' <<<"$OUT")
	grep -q "ANDON_DATA=$WORK/a-$SERVER .*/dev stop\$" <<<"$stop_a" &&
		ok "the banner's stop command names the data directory" ||
		fail "the banner's stop command names the data directory: $stop_a"

	"$TOP/build/cli/andonctl" -c "$ANDON_CONF" -d "$WORK/a-$SERVER" backup "$WORK/a-$SERVER/backup" >/dev/null &&
	"$TOP/build/cli/andonctl" -c "$ANDON_CONF" -d "$WORK/b-$SERVER" restore "$WORK/a-$SERVER/backup" >/dev/null ||
		fail "backup and restore"
	serve "b-$SERVER"
	port_b=$PORT
	[ "$(tenants "b-$SERVER")" = 1 ] &&
		ok "a restored data directory is served as it is: no second tenant" ||
		fail "a restored data directory is served as it is: no second tenant ($(tenants "b-$SERVER"))"
	grep -q 'admin key:  (none known here: .*key-create org_' <<<"$OUT" &&
		ok "its banner says how to make a key" ||
		fail "its banner says how to make a key: $OUT"
	[ "$(answers "$port_b" "$key")" = 200 ] && ok "the restored key works there" ||
		fail "the restored key works there"

	# the banner's command, run from elsewhere, stops A and only A
	(cd / && eval "$stop_a") >/dev/null 2>&1
	port_in_use "$port_a" && fail "the stop command stops its instance" ||
		ok "the stop command stops its instance"
	[ "$(answers "$port_b" "$key")" = 200 ] && ok "and not the other" ||
		fail "and not the other"
	ANDON_DATA=$WORK/b-$SERVER "$TOP/dev" stop >/dev/null 2>&1
	port_in_use "$port_b" && fail "stop by data directory" ||
		ok "stop by data directory"
}

for SERVER in ${ANDON_TEST_SERVERS:-lighttpd apache}; do
	serve_and_stop
done
rm -rf "$WORK"
finish
