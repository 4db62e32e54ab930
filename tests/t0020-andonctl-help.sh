#!/usr/bin/env bash
# t0020-andonctl-help.sh - andonctl's commands are one table: "andonctl
# --help" and "andonctl COMMAND --help" succeed and print the usage (issue
# 16, defect 3), without a conf or a data directory; an unknown command or
# a missing argument is still a usage error (exit 2).  No server started.
set -u
TOP=${abs_top_srcdir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BUILD=${abs_top_builddir:-$TOP/build}
CTL=$BUILD/cli/andonctl
fails=0
ok() { printf 'ok - %s\n' "$1"; }
fail() { printf 'not ok - %s\n' "$1"; fails=$((fails + 1)); }
# no conf, no data directory: help must not need them
export ANDON_CONF=/nonexistent/andon.conf ANDON_DATA=/nonexistent

expect() {   # NAME WANT_EXIT WANT_TEXT (in stdout+stderr) ARGS...
	local name=$1 want=$2 text=$3 out rc
	shift 3
	out=$("$CTL" "$@" 2>&1)
	rc=$?
	if [ "$rc" != "$want" ]; then
		fail "$name: exit $rc, want $want: $out"
	elif [ -n "$text" ] && ! grep -qF -- "$text" <<<"$out"; then
		fail "$name: no \"$text\" in: $out"
	else
		ok "$name"
	fi
}

expect "andonctl --help" 0 "key-create TENANT NAME SCOPES" --help
expect "andonctl -h" 0 "verify-export FILE [--contiguous]" -h
expect "--help lists every command" 0 "notify [--once]" --help
expect "andonctl key-create --help" 0 "prints the key once" key-create --help
expect "andonctl restore -h" 0 "restore DIR" restore -h
expect "an unknown command" 2 "usage: andonctl" no-such-command
expect "no command" 2 "usage: andonctl"
expect "a missing argument" 2 "usage: andonctl" key-revoke
expect "notify takes one argument at most" 2 "usage: andonctl" notify --once x
out=$("$CTL" key-create --help 2>&1)
case $out in
*tenant-list*) fail "a command's --help shows that command only: $out" ;;
*) ok "a command's --help shows that command only" ;;
esac
[ "$fails" = 0 ]
