#!/usr/bin/env bash
# t0010-layout.sh - the layering lib/README describes, checked by
# tools/layout-check: no cgi-bin/*.c includes store.h, and no cycle among
# the lib/ modules (by #include or by call).  No server is started.
set -u
TOP=${abs_top_srcdir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
CHECK="$TOP/tools/layout-check"
fails=0
ok() { printf 'ok - %s\n' "$1"; }
fail() { printf 'not ok - %s\n' "$1"; fails=$((fails + 1)); }

if out=$(python3 "$CHECK" "$TOP" 2>&1); then
	ok "the tree keeps its layers"
else
	fail "the tree keeps its layers: $out"
fi

# the checker sees what it is for: a copy of the tree with a cycle (agent
# calls session while session includes agent.h) and a family including
# store.h is refused, naming both
tmp=$(mktemp -d "${TMPDIR:-/tmp}/andon-t.layout.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp -r "$TOP/lib" "$TOP/cgi-bin" "$tmp/"
printf '\nstatic long f(void) { long n; session_count_active(0, "", "", &n); return n; }\n' >> "$tmp/lib/agent.c"
sed -i '0,/#include "server.h"/s//#include "server.h"\n#include "store.h"/' "$tmp/cgi-bin/killswitch.c"
out=$(python3 "$CHECK" "$tmp" 2>&1)
rc=$?
[ "$rc" = 1 ] && ok "a broken copy fails" || fail "a broken copy fails (exit $rc)"
case $out in
*"lib/ cycle among agent, "*session*) ok "the cycle is named" ;;
*) fail "the cycle is named: $out" ;;
esac
case $out in
*"cgi-bin/killswitch.c includes store.h"*) ok "the store include is named" ;;
*) fail "the store include is named: $out" ;;
esac
[ "$fails" = 0 ]
