#!/usr/bin/env bash
# t0900: how both shipped confs serve the console (www/): its pages are
# real URLs (direct load and reload of /kill-switch, /agents, /agents/{id},
# /interventions, /emergency, /audit give index.html), any other missing
# page answers 404 with the console (its not-found view), /v1 and /api paths
# are never rewritten, and the console carries its security headers.
. "$(dirname "$0")/setup.sh"

CSP_RE="default-src 'self'.*object-src 'none'.*frame-ancestors 'none'.*base-uri 'none'"

page() {
	api GET "$1"
	check_status "$2" "GET $1 answers $2"
	check "GET $1 serves the console" grep -q '<script type="module" src="/andon.js">' <<<"$BODY"
	check_header 'content-type' '^text/html' "GET $1 is HTML"
	check_header 'content-security-policy' "$CSP_RE" "GET $1 has the strict CSP"
	check "GET $1: no unsafe-inline in the CSP" bash -c '! grep -qi "^content-security-policy:.*unsafe" <<<"$1"' _ "$HEADERS"
	check_header 'x-content-type-options' '^nosniff$' "GET $1: nosniff"
	check_header 'referrer-policy' '^no-referrer$' "GET $1: Referrer-Policy no-referrer"
}

serving() {
	local p
	for p in / /kill-switch /kill-switch/ /agents /agents/3b1f0c52-aaaa-bbbb-cccc-0123456789ab \
		'/agents?status=active&skip=25' /interventions /emergency /audit '/audit?receipt=rcpt_0000000000000001'; do
		page "$p" 200
	done
	page /no-such-page 404
	page /agentsx 404

	api GET /andon.js
	check_status 200 "the console's module"
	check_header 'content-type' '^text/javascript' "served as JavaScript"
	check_header 'content-security-policy' "$CSP_RE" "with the CSP"
	check_header 'x-content-type-options' '^nosniff$' "and nosniff"
	api GET /andon.css
	check_header 'content-type' '^text/css' "the stylesheet is CSS"

	# the API keeps its own answers: not rewritten, no console
	KEY='' api GET /v1/agents
	check_status 401 "/v1/agents still reaches the application"
	check_header 'content-type' 'application/problem\+json' "with its problem"
	api GET /api/v1/kill-switch/active
	check_status 200 "/api/v1/kill-switch/active still reaches the application"
	api GET /api/v1/nope
	check_status 404 "an unknown /api path is a 404"
	check "an unknown /api path does not serve the console" bash -c '! grep -q andon.js <<<"$1"' _ "$BODY"
	api GET /v1/nope
	check_status 404 "an unknown /v1 path is a 404"
	check "an unknown /v1 path does not serve the console" bash -c '! grep -q andon.js <<<"$1"' _ "$BODY"

	check "no inline script or style in index.html" bash -c \
		'! grep -Eiq "<script[^>]*>[^<]|<style|\sstyle=|\son[a-z]+=" "$1"' _ "$TOP/www/index.html"
}

for_each_server serving
finish
