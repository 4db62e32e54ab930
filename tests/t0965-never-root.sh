#!/usr/bin/env bash
# t0965: the FastCGI processes never run as root (issue 16, "Never as
# root"): started as root, both servers run the application as www-data
# and the data directory belongs to it; and the standalone confs include
# the snippets the Debian package ships, which need no environment.
. "$(dirname "$0")/setup.sh"

never_root() {
	local pid uid n=0 as_root=0 users=
	api GET /healthz
	check_status 200 "the instance answers"
	# every family once, so that each executable has started
	api GET '/api/v1/kill-switch/check?target_type=agent&target_id=x'
	api GET /v1/audit
	api GET /v1/agents
	api GET /v1/emergency-shutdown
	api GET /v1/webhooks
	for pid in $(app_pids '' all); do
		uid=$(awk '/^Uid:/ { print $3 }' "/proc/$pid/status" 2>/dev/null) || continue
		[ -n "$uid" ] || continue
		n=$((n + 1))
		[ "$uid" = 0 ] && as_root=$((as_root + 1))
		users="$users $(id -nu "$uid" 2>/dev/null || echo "$uid")"
	done
	if ((n > 0 && as_root == 0)); then
		ok "none of the $n application processes runs as root"
	else
		fail "$as_root of $n application processes run as root:$users"
		ps -o pid,user,args -p "$(app_pids '' all | paste -sd,)" 2>/dev/null | head -20
	fi
	if is_root; then
		if [ -z "$(tr ' ' '\n' <<<"$users" | grep -vx -e '' -e www-data)" ]; then
			ok "started as root, the application runs as www-data"
		else
			fail "application users:$users"
		fi
		if [ "$(stat -c %U "$DATA")" = www-data ] && [ "$(stat -c %U "$DATA/db")" = www-data ]; then
			ok "the data directory belongs to www-data"
		else
			fail "data directory owner: $(stat -c %U "$DATA" "$DATA/db" | paste -sd' ')"
		fi
	else
		ok "# skip: not root, nothing to switch from"
		ok "# skip: not root, nothing to switch from"
	fi

	# what the tests run is what ships
	if grep -qx 'var.andon_lighttpd = env.ANDON_CONF_DIR + "/lighttpd"' "$TOP/conf/lighttpd.conf" &&
		grep -qx 'var.andon_lighttpd = "/usr/share/andon/lighttpd"' "$TOP/conf/lighttpd/15-andon.conf" &&
		[ "$(grep -cx 'include var.andon_lighttpd + "/andon.conf"' "$TOP/conf/lighttpd.conf" "$TOP/conf/lighttpd/15-andon.conf" | grep -c ':1$')" = 2 ] &&
		grep -qx 'Include "${ANDON_CONF_DIR}/apache/andon.conf"' "$TOP/conf/apache.conf"; then
		ok "the standalone confs include the shipped snippets"
	else
		fail "a standalone conf does not include its snippet"
	fi
	if ! grep -Eq '(^|[^a-z])env\.' "$TOP/conf/lighttpd/andon.conf" "$TOP/conf/lighttpd/andon-family.conf" "$TOP/conf/lighttpd/15-andon.conf" &&
		! grep -Eq '\$\{(ANDON_(DATA|CONF|PORT|USER|WWW_DIR|CGI_DIR|CONF_DIR))\}' "$TOP/conf/apache/andon.conf"; then
		ok "the snippets read no environment variable"
	else
		fail "a snippet reads the environment"
	fi
}

for_each_server never_root
finish
