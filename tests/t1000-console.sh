#!/usr/bin/env bash
# t1000: the operator console (www/) in a real browser: Debian's chromium
# driven by playwright-core (tests/browser/console.mjs) against each server
# started with the shipped conf.  Sign-in, Emergency Kill and the live
# count, revive and the 409 detail, cascade kill with its dry-run preview
# and typed confirmation, a severity-5 shutdown (banner on every page,
# revive refused with the 503 detail, kill still works, resolve clears),
# receipts verified in the browser and tampered ones refused, the XSS
# probe as text, keyboard-only kill and revive, axe-core on every page, and
# no console error or CSP violation.  Screenshots of every page at
# 1280x800 and 390x844 go to $BUILD/console-shots/.
. "$(dirname "$0")/setup.sh"

BROWSER_DIR=$TOP/tests/browser
SHOTS=$BUILD/console-shots
for tool in node npm; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "t1000: $tool is not installed (./dev deps)" >&2
		exit 99
	fi
done
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
	echo "t1000: $CHROMIUM is not installed (./dev deps)" >&2
	exit 99
fi
export CHROMIUM

# playwright-core and @axe-core/playwright, pinned by package-lock.json.
if [ ! -d "$BROWSER_DIR/node_modules/playwright-core" ] ||
	[ ! -d "$BROWSER_DIR/node_modules/@axe-core/playwright" ] ||
	[ "$BROWSER_DIR/package-lock.json" -nt "$BROWSER_DIR/node_modules/.package-lock.json" ]; then
	(cd "$BROWSER_DIR" && npm ci --no-audit --no-fund >&2) || {
		echo "t1000: npm ci failed in $BROWSER_DIR" >&2
		exit 99
	}
fi

browser() {
	local line
	mkdir -p "$SHOTS"
	while IFS= read -r line; do
		case $line in
		"ok - "*) ok "${line#ok - }" ;;
		"not ok - "*) fail "${line#not ok - }" ;;
		"exit 0") ;;
		"exit "*) [ "$FAILED" -gt 0 ] || fail "the browser run exited ${line#exit }" ;;
		*) printf '# %s\n' "$line" ;;
		esac
	done < <(cd "$BROWSER_DIR" && BASE=$BASE ADMIN_KEY=$ADMIN_KEY SERVER=$SERVER \
		SHOTS=$SHOTS timeout 600 node console.mjs 2>&1; echo "exit $?")
}

for_each_server browser
finish
