/*
 * api.js - the one way the console talks to the API: the key from
 * sessionStorage as X-API-Key, problems (RFC 9457) turned into a message
 * an operator can act on, nothing failing silently.
 */

const KEY = 'andon.key';
let tenant = '';
let onUnauthorized = () => {};

export function storedKey() {
	return sessionStorage.getItem(KEY) || '';
}

export function remember(key, tenantId) {
	sessionStorage.setItem(KEY, key);
	tenant = tenantId;
}

export function forget() {
	sessionStorage.removeItem(KEY);
	tenant = '';
}

/* fn(reason) runs on any 401: back to sign-in with the reason. */
export function whenUnauthorized(fn) {
	onUnauthorized = fn;
}

export class ApiError extends Error {
	constructor(status, problem, message) {
		super(message);
		this.status = status;
		this.problem = problem || {};
		this.code = this.problem.code || '';
	}
}

/* The message for a refused call: the problem's detail and code, and what
 * the status means for the operator. */
function explain(status, problem, headers) {
	const detail = problem.detail || problem.title || ('HTTP ' + status);
	const code = problem.code ? ' (' + problem.code + ')' : '';
	if (status === 503 && problem.code === 'emergency_shutdown')
		return 'Refused by the emergency shutdown: ' + detail + code;
	if (status === 429) {
		const after = headers.get('Retry-After');
		return 'Rate limited: ' + detail + code +
		    (after ? '. Retry in ' + after + ' s.' : '');
	}
	if (status === 403)
		return 'Forbidden: ' + detail + code;
	return detail + code;
}

/*
 * api('POST', '/api/v1/kill-switch/kill', {...}) -> parsed JSON body.
 * Throws ApiError: status 0 for a network failure.
 */
export async function api(method, path, body, { raw = false } = {}) {
	const headers = { 'Accept': 'application/json', 'X-API-Key': storedKey() };
	if (/^\/v1\/(agents|sessions)(\/|\?|$)/.test(path) && tenant)
		headers['X-Tenant-ID'] = tenant;
	if (body !== undefined)
		headers['Content-Type'] = 'application/json';
	if (method === 'POST')
		headers['Idempotency-Key'] = crypto.randomUUID();
	let r;
	try {
		r = await fetch(path, {
			method, headers, cache: 'no-store', credentials: 'omit',
			body: body === undefined ? undefined : JSON.stringify(body),
		});
	} catch (e) {
		throw new ApiError(0, null, 'Network failure: the server could not be reached (' +
		    e.message + ').');
	}
	let data = null;
	const type = r.headers.get('Content-Type') || '';
	if (type.includes('json')) {
		try {
			data = await r.json();
		} catch (e) {
			throw new ApiError(r.status, null, 'The server answered malformed JSON (HTTP ' +
			    r.status + ').');
		}
	}
	if (r.ok)
		return raw ? { data, headers: r.headers } : data;
	const problem = data && typeof data === 'object' ? data : {};
	const err = new ApiError(r.status, problem, explain(r.status, problem, r.headers));
	if (r.status === 401 && path !== '/v1/api-keys/self')
		onUnauthorized(err.message);
	throw err;
}

/* "?a=1&b=2" from an object, skipping empty values. */
export function query(params) {
	const q = new URLSearchParams();
	for (const [k, v] of Object.entries(params))
		if (v !== '' && v !== null && v !== undefined)
			q.set(k, String(v));
	const s = q.toString();
	return s ? '?' + s : '';
}
