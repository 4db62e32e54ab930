#!/usr/bin/env bash
# t0960: where an installed Andon looks (issue 16, "Paths"): the conf at
# $(sysconfdir)/andon/andon.conf unless ANDON_CONF or andonctl -c says
# otherwise; the data directory an absolute path that must exist (only
# "andonctl init" makes it), so that no program ever creates a database
# in the directory it was started from.
. "$(dirname "$0")/setup.sh"

# Runs "$@" in an empty scratch directory; sets OUT, RC and LEFT (what the
# command left in that directory, "" when nothing).
in_scratch() {
	local dir
	dir=$(mktemp -d "$DATA/scratch.XXXXXX")
	chmod 777 "$dir"
	OUT=$(cd "$dir" && "$@" 2>&1 </dev/null)
	RC=$?
	LEFT=$(ls -A "$dir")
	rm -rf "$dir"
}

# Plain CGI run of an executable, outside any web server.
cgi_run() {
	env -i PATH=/usr/bin:/bin GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET \
		REQUEST_URI=/healthz SERVER_PROTOCOL=HTTP/1.1 "$@" "$CGI_DIR/admin.fcgi"
}

paths() {
	api GET /healthz
	check_status 200 "the instance serves its data directory"

	# the conf's default is the installed one, never conf/ under the cwd
	in_scratch env -u ANDON_CONF -u ANDON_DATA "$ANDONCTL" tenant-list
	if [ "$RC" -ne 0 ] && grep -Eq 'cannot open conf /([^ ]*/)?etc/andon/andon\.conf:' <<<"$OUT"; then
		ok "andonctl looks for \$(sysconfdir)/andon/andon.conf by default"
	else
		fail "default conf: rc $RC: $OUT"
	fi
	in_scratch env -u ANDON_DATA ANDON_CONF="$DATA/andon.conf" "$ANDONCTL" -d "$DATA" tenant-list
	if [ "$RC" -eq 0 ] && grep -q tenant-a <<<"$OUT"; then
		ok "ANDON_CONF overrides the default conf"
	else
		fail "ANDON_CONF: rc $RC: $OUT"
	fi
	in_scratch env -u ANDON_CONF -u ANDON_DATA "$ANDONCTL" --conf "$DATA/andon.conf" --data "$DATA" tenant-list
	if [ "$RC" -eq 0 ] && grep -q tenant-a <<<"$OUT"; then
		ok "--conf and --data override the defaults"
	else
		fail "--conf: rc $RC: $OUT"
	fi

	# a missing data directory is an error that names it; nothing is made
	in_scratch "$ANDONCTL" -c "$DATA/andon.conf" -d "$DATA/missing" tenant-list
	if [ "$RC" -ne 0 ] && grep -q "the data directory $DATA/missing: No such file or directory (andonctl init creates it)" <<<"$OUT" &&
		[ ! -e "$DATA/missing" ] && [ -z "$LEFT" ]; then
		ok "andonctl on a missing data directory: a clear error, nothing created"
	else
		fail "missing data directory: rc $RC, left '$LEFT': $OUT"
	fi
	in_scratch cgi_run ANDON_CONF="$DATA/andon.conf" ANDON_DATA="$DATA/missing"
	if [ "$RC" -ne 0 ] && grep -q '^Status: 500' <<<"$OUT" &&
		grep -q "the data directory $DATA/missing: No such file or directory" <<<"$OUT" &&
		[ ! -e "$DATA/missing" ] && [ -z "$LEFT" ]; then
		ok "an executable on a missing data directory: an error, nothing created"
	else
		fail "executable, missing data directory: rc $RC, left '$LEFT': $OUT"
	fi

	# relative paths are refused, wherever they come from
	in_scratch "$ANDONCTL" -c "$DATA/andon.conf" -d var init
	if [ "$RC" -ne 0 ] && grep -q 'must be an absolute path, not "var"' <<<"$OUT" && [ -z "$LEFT" ]; then
		ok "andonctl -d refuses a relative data directory, even for init"
	else
		fail "relative -d: rc $RC, left '$LEFT': $OUT"
	fi
	sed 's|^data_dir = .*|data_dir = ./var|' "$DATA/andon.conf" >"$DATA/relative.conf"
	in_scratch env -u ANDON_DATA "$ANDONCTL" -c "$DATA/relative.conf" init
	if [ "$RC" -ne 0 ] && grep -q 'data_dir: the data directory must be an absolute path' <<<"$OUT" &&
		[ -z "$LEFT" ]; then
		ok "a conf with a relative data_dir is refused, nothing created"
	else
		fail "relative data_dir: rc $RC, left '$LEFT': $OUT"
	fi
	in_scratch cgi_run ANDON_CONF="$DATA/andon.conf" ANDON_DATA=var
	if [ "$RC" -ne 0 ] && grep -q 'ANDON_DATA: the data directory must be an absolute path' <<<"$OUT" &&
		[ -z "$LEFT" ]; then
		ok "an executable refuses a relative ANDON_DATA, nothing created"
	else
		fail "relative ANDON_DATA: rc $RC, left '$LEFT': $OUT"
	fi

	# the shipped conf names an absolute data directory
	if grep -Eq '^data_dir = /' "$TOP/conf/andon.conf"; then
		ok "the shipped conf's data_dir is absolute"
	else
		fail "the shipped conf's data_dir: $(grep '^data_dir' "$TOP/conf/andon.conf")"
	fi

	# an unreadable data directory (as a user who may not enter it)
	if is_root; then
		mkdir -m 700 "$DATA/closed"
		in_scratch runuser -u nobody -- "$ANDONCTL" -c "$DATA/andon.conf" -d "$DATA/closed" tenant-list
		if [ "$RC" -ne 0 ] && grep -q "cannot use the data directory $DATA/closed: Permission denied" <<<"$OUT" &&
			[ -z "$(ls -A "$DATA/closed")" ]; then
			ok "an unusable data directory: a clear error, nothing created"
		else
			fail "unreadable data directory: rc $RC: $OUT"
		fi
		rmdir "$DATA/closed"
	else
		ok "# skip: the unreadable data directory needs root to switch users"
	fi

	# init makes the data directory itself (not its parents)
	in_scratch "$ANDONCTL" -c "$DATA/andon.conf" -d "$DATA/fresh" init
	if [ "$RC" -eq 0 ] && [ -d "$DATA/fresh/db" ] && [ -z "$LEFT" ]; then
		ok "andonctl init creates the data directory"
	else
		fail "init: rc $RC: $OUT"
	fi
	in_scratch "$ANDONCTL" -c "$DATA/andon.conf" -d "$DATA/no/such/parent" init
	if [ "$RC" -ne 0 ] && grep -q "cannot create the data directory $DATA/no/such/parent" <<<"$OUT" &&
		[ ! -e "$DATA/no" ]; then
		ok "andonctl init does not create parents"
	else
		fail "init without a parent: rc $RC: $OUT"
	fi
}

for_each_server paths
finish
