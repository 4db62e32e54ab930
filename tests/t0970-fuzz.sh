#!/usr/bin/env bash
# t0970-fuzz.sh - the libFuzzer harnesses (issue 19), briefly: builds them
# with clang in build-fuzz/ and runs tests/fuzz/run, which first runs
# every kept crash reproducer (a regression of a fixed crash fails here)
# and then fuzzes each harness for FUZZ_SECONDS (5) from its seed corpus.
# Also shows that the runner fails when a harness crashes (the canary
# input of tests/fuzz/fuzz.h).  No server is started.  Long runs:
# ./dev fuzz [SECONDS].
set -u
TOP=${abs_top_srcdir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
fails=0
ok() { printf 'ok - %s\n' "$1"; }
fail() { printf 'not ok - %s\n' "$1"; fails=$((fails + 1)); }
command -v clang >/dev/null || { echo "t0970: clang is needed (./dev deps)" >&2; exit 99; }

out=$(mktemp -d "${TMPDIR:-/tmp}/andon-t.fuzz.XXXXXX")
trap 'rm -rf "$out"' EXIT

if FUZZ_OUT=$out/run "$TOP/tests/fuzz/run" "${FUZZ_SECONDS:-5}" >"$out/run.txt" 2>&1; then
	ok "every harness: its reproducers and ${FUZZ_SECONDS:-5} s of fuzzing, no crash"
else
	fail "every harness: its reproducers and ${FUZZ_SECONDS:-5} s of fuzzing, no crash"
fi
sed 's/^/# /' "$out/run.txt"
for c in "$out"/run/crashes/*/*; do
	[ -f "$c" ] && printf '# crash input %s: %s\n' "$c" "$(od -An -c "$c" | head -3 | tr -s ' ')"
done

# the runner fails when a harness crashes: a canary reproducer
mkdir -p "$out/top/tests/fuzz/regress/fuzz_clock"
cp -r "$TOP/tests/fuzz/corpus" "$TOP/tests/fuzz/andon.dict" "$TOP/tests/fuzz/run" "$out/top/tests/fuzz/"
printf 'ANDON-FUZZ-CANARY' >"$out/top/tests/fuzz/regress/fuzz_clock/canary"
if ANDON_FUZZ_CANARY=1 BUILD_FUZZ=${BUILD_FUZZ:-$TOP/build-fuzz} FUZZ_OUT=$out/canary \
	"$out/top/tests/fuzz/run" 1 fuzz_clock >"$out/canary.txt" 2>&1; then
	fail "a crashing reproducer fails the run"
else
	grep -q '^0 passed, 1 failed$' "$out/canary.txt" && grep -q 'REGRESSION' "$out/canary.txt" &&
		ok "a crashing reproducer fails the run" ||
		fail "a crashing reproducer fails the run: $(tail -3 "$out/canary.txt")"
fi

echo "# t0970-fuzz: $((2 - fails)) passed, $fails failed"
[ "$fails" = 0 ]
