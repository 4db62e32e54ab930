#!/usr/bin/env node
// openapi-validate.js - validates recorded responses against www/openapi.json.
//
//   node tests/openapi-validate.js OPENAPI.json [--strict] RECORDS.jsonl...
//
// A record is one JSON line as tests/setup.sh's api() writes it: method,
// path (as called, with its query), status, content_type, body (text).
// Each is matched to the document:
//   - the path against the path templates ({x} is one segment);
//   - the method to the operation (HEAD is GET without a body, OPTIONS
//     is 204 with Allow; another method on a known path must be 405);
//   - the status to the operation's responses (exact, then 4XX/5XX, then
//     default): a status the document does not list is a failure;
//   - the content type to that response's media types, the body to its
//     schema (JSON Schema 2020-12, ajv); a problem's status member must
//     equal the HTTP status.
// An API path (/v1, /api, /healthz, /metrics) that no template matches must
// be a 404 (or a 400 for a malformed path) problem.  Paths outside the API
// (the console's static files) are counted, not checked.  Records whose
// request got no response (status 0) are counted, not checked.  An HTML
// error page on an API path is the web server's own (see isServerPage):
// listed and counted apart, a failure with --strict.
//
// Prints one line per distinct failure (with how many records and the
// first test that received it), each web server page, then "N records:
// ... F failed"; exits 1 when any failed, 2 on a usage error.
'use strict';

const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

const modules = createRequire(path.join(__dirname, 'openapi', 'package.json'));
const Ajv2020 = modules('ajv/dist/2020');
const addFormats = modules('ajv-formats');

if (process.argv.length < 4) {
	process.stderr.write('usage: openapi-validate.js OPENAPI.json RECORDS.jsonl...\n');
	process.exit(2);
}
const doc = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));

// The document's schemas as one 2020-12 schema: #/components/schemas/X
// becomes #/$defs/X.
function rewrite(v) {
	if (Array.isArray(v))
		return v.map(rewrite);
	if (v && typeof v === 'object') {
		const o = {};
		for (const [k, x] of Object.entries(v))
			o[k] = k === '$ref' && typeof x === 'string'
				? x.replace('#/components/schemas/', 'andon#/$defs/') : rewrite(x);
		return o;
	}
	return v;
}
const ajv = new Ajv2020({ strict: false, allErrors: true, verbose: true });
addFormats(ajv);
ajv.addSchema({ $id: 'andon', $defs: rewrite(doc.components.schemas) });

const deref = (x, kind) => {
	while (x && x.$ref) {
		const m = x.$ref.match(/^#\/components\/(\w+)\/(.+)$/);
		x = m ? doc.components[m[1]][m[2]] : undefined;
	}
	return x;
};

const validators = new Map();
function validatorFor(schema) {
	const key = JSON.stringify(schema);
	if (!validators.has(key))
		validators.set(key, ajv.compile(rewrite(schema)));
	return validators.get(key);
}

const templates = Object.keys(doc.paths).map((t) => ({
	template: t,
	re: new RegExp('^' + t.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+') + '$'),
	// a literal segment beats a parameter: /v1/api-keys/self over {id}
	literal: t.replace(/\{[^}]+\}/g, '').length,
})).sort((a, b) => b.literal - a.literal);

const isApi = (p) => /^\/(v1|api)(\/|$)/.test(p) || /^\/(healthz|metrics)(\/|$)/.test(p);

// Checks a body against a response object; returns an error text or null.
function checkResponse(rec, response) {
	response = deref(response);
	const content = response.content || {};
	const types = Object.keys(content);
	if (rec.method === 'HEAD' || rec.status === 204 || types.length === 0) {
		if (rec.body !== '')
			return `a body where the document describes none: ${rec.body.slice(0, 80)}`;
		return null;
	}
	const type = (rec.content_type || '').split(';')[0].trim().toLowerCase();
	if (!types.includes(type))
		return `content type "${rec.content_type}" is not one of ${types.join(', ')}`;
	if (type === 'application/x-ndjson') {
		for (const line of rec.body.split('\n').filter((l) => l !== '')) {
			try {
				JSON.parse(line);
			} catch (e) {
				return `an NDJSON line is not JSON: ${line.slice(0, 80)}`;
			}
		}
		return null;
	}
	if (!/json$/.test(type))
		return typeof rec.body === 'string' ? null : 'not text';
	let value;
	try {
		value = JSON.parse(rec.body);
	} catch (e) {
		return `the body is not JSON: ${rec.body.slice(0, 80)}`;
	}
	const validate = validatorFor(content[type].schema || {});
	if (!validate(value))
		return validate.errors.map((e) => `${e.instancePath || '/'} ${e.message}` +
			(e.keyword === 'enum' || e.keyword === 'const' || e.keyword === 'type'
				? ` (got ${JSON.stringify(e.data).slice(0, 60)})` : '')).join('; ');
	if (type === 'application/problem+json' && value.status !== rec.status)
		return `problem status ${value.status} is not the HTTP status ${rec.status}`;
	return null;
}

const problemResponse = { content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };

// The web server's own error pages on API paths (lighttpd's 400 for a GET
// with a body, 411 for a bodiless POST, ...): the application never
// answers HTML, so an HTML error page there is the server's.  API.md wants
// problem+json for those too (issue 16, defect 1, fixed in the confs);
// until then they are counted and listed apart, and --strict fails them.
const SERVER_PAGE_STATUSES = [400, 404, 405, 411, 413, 414, 431, 500, 502, 503];
const strict = process.argv.includes('--strict');
const isServerPage = (rec) => !strict && SERVER_PAGE_STATUSES.includes(rec.status) &&
	/^text\/html\b/i.test(rec.content_type || '') && isApi(rec.path.split('?')[0]);
// The web server's own errors as the confs now write them (conf/errors):
// problem+json with a status and code the document lists in
// x-server-errors; any operation may meet one.
const serverErrors = doc['x-server-errors'] || [];
function isServerError(rec) {
	let body;
	if (!/^application\/problem\+json\b/i.test(rec.content_type || ''))
		return false;
	try {
		body = JSON.parse(rec.body);
	} catch (e) {
		return false;
	}
	return serverErrors.some((e) => e.status === rec.status && body && e.code === body.code);
}

// Returns [where, error or null], or null for a record outside the API.
function check(rec) {
	const p = rec.path.split('?')[0];
	const t = templates.find((x) => x.re.test(p));
	if (!t) {
		if (!isApi(p))
			return null;
		const where = `${rec.method} ${p} (no path template)`;
		if (rec.status !== 404 && rec.status !== 400)
			return [where, `status ${rec.status}: an unknown API path must be 404`];
		return [where, checkResponse(rec, problemResponse)];
	}
	const item = doc.paths[t.template];
	const method = rec.method.toLowerCase();
	let op = item[method];
	const where = `${rec.method} ${t.template} ${rec.status}`;
	if (method === 'options') {
		if (rec.status === 204)
			return [where, rec.body === '' ? null : 'OPTIONS answered a body'];
		op = { responses: { 400: problemResponse, 404: problemResponse } };
	} else if (method === 'head' && !op) {
		op = item.get;
	}
	if (!op) {
		if (rec.status !== 405 && rec.status !== 400)
			return [where, `${rec.method} is not an operation of ${t.template}: want 405, got ${rec.status}`];
		return [where, checkResponse(rec, problemResponse)];
	}
	const s = String(rec.status);
	const response = op.responses[s] || op.responses[s[0] + 'XX'] || op.responses.default ||
		(isServerError(rec) ? problemResponse : null);
	if (!response)
		return [where, `status ${rec.status} is not a documented response of ${rec.method} ${t.template}`];
	return [where, checkResponse(rec, response)];
}

let total = 0, checked = 0, outside = 0, unanswered = 0, pages = 0, failed = 0;
const failures = new Map();
const serverPages = new Map();
for (const file of process.argv.slice(3).filter((a) => a !== '--strict')) {
	const lines = fs.readFileSync(file, 'utf8').split('\n');
	lines.forEach((line, i) => {
		if (line.trim() === '')
			return;
		total++;
		let rec;
		try {
			rec = JSON.parse(line);
		} catch (e) {
			failed++;
			failures.set(`${file}:${i + 1}`, { error: 'not a JSON record', count: 1, first: file });
			return;
		}
		if (!rec.status) {
			unanswered++;
			return;
		}
		if (isServerPage(rec)) {
			const key = `${rec.method} ${rec.path.split('?')[0]} ${rec.status}`;
			serverPages.set(key, (serverPages.get(key) || 0) + 1);
			pages++;
			return;
		}
		const r = check(rec);
		if (r === null) {
			outside++;
			return;
		}
		checked++;
		if (r[1] === null)
			return;
		failed++;
		const key = `${r[0]}: ${r[1]}`;
		const f = failures.get(key) || { count: 0, first: `${rec.test || path.basename(file)} [${rec.server || '?'}] ${rec.method} ${rec.path}` };
		f.count++;
		failures.set(key, f);
	});
}
for (const [key, f] of failures)
	process.stdout.write(`FAIL ${key} (${f.count}x; first: ${f.first})\n`);
for (const [key, n] of serverPages)
	process.stdout.write(`SERVER-PAGE ${key}: the web server's own HTML page, not problem+json (${n}x)\n`);
process.stdout.write(`${total} records: ${checked} checked, ${outside} outside the API, ` +
	`${unanswered} unanswered, ${pages} web server pages, ${failed} failed\n`);
process.exit(failed > 0 ? 1 : 0);
