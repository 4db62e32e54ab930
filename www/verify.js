/*
 * verify.js - checks a transparency-log receipt in the browser, trusting
 * nothing the server computed: the leaf hash is recomputed from the event
 * (RFC 9162: SHA-256 of 0x00 || the event's canonical JSON: RFC 8785 for
 * events marked "canon":"jcs", jansson's sorted ASCII dump for older ones),
 * the inclusion proof is
 * walked to the root (RFC 9162 section 2.1.3.2), and the signed tree head
 * is checked with Ed25519 (WebCrypto) against the log's published key.
 * The tree head message is the one lib/tlog.c signs: 0x00 0x01, the
 * timestamp in ms and the tree size as big-endian u64, then the root.
 */

function b64(text, want, what) {
	let bin;
	try {
		bin = atob(String(text));
	} catch (e) {
		throw new Error(what + ' is not valid base64');
	}
	if (want && bin.length !== want)
		throw new Error(what + ' is ' + bin.length + ' bytes, not ' + want);
	return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function hex4(n) {
	return n.toString(16).toUpperCase().padStart(4, '0');
}

/* A JSON string as jansson writes it with JSON_ENSURE_ASCII. */
function jstring(s) {
	let out = '"';
	for (const ch of s) {
		const c = ch.codePointAt(0);
		if (ch === '"')
			out += '\\"';
		else if (ch === '\\')
			out += '\\\\';
		else if (c === 8)
			out += '\\b';
		else if (c === 12)
			out += '\\f';
		else if (c === 10)
			out += '\\n';
		else if (c === 13)
			out += '\\r';
		else if (c === 9)
			out += '\\t';
		else if (c < 0x20)
			out += '\\u' + hex4(c);
		else if (c > 0xffff) {
			const v = c - 0x10000;
			out += '\\u' + hex4(0xd800 + (v >> 10)) + '\\u' + hex4(0xdc00 + (v & 0x3ff));
		} else if (c > 0x7f)
			out += '\\u' + hex4(c);
		else
			out += ch;
	}
	return out + '"';
}

/* A fraction as jansson prints it: C's "%.17g", then ".0" when it would
 * read as an integer. */
function real(v) {
	if (!Number.isFinite(v))
		throw new Error('the event holds a number JSON cannot carry');
	const [m, x] = v.toExponential(16).split('e');
	const e = Number(x);
	let out;
	if (e < -4 || e >= 17) {
		const mant = m.includes('.') ? m.replace(/0+$/, '').replace(/\.$/, '') : m;
		out = mant + 'e' + (e < 0 ? '-' : '+') + String(Math.abs(e)).padStart(2, '0');
	} else {
		out = v.toFixed(16 - e);
		if (out.includes('.'))
			out = out.replace(/0+$/, '').replace(/\.$/, '');
	}
	return /[.e]/.test(out) ? out : out + '.0';
}

/* The canonical form lib/tlog.c hashes: compact, keys sorted, ASCII. */
export function canonical(v) {
	if (v === null)
		return 'null';
	if (typeof v === 'boolean')
		return v ? 'true' : 'false';
	if (typeof v === 'number')
		return Number.isInteger(v) ? String(v) : real(v);
	if (typeof v === 'string')
		return jstring(v);
	if (Array.isArray(v))
		return '[' + v.map(canonical).join(',') + ']';
	const keys = Object.keys(v).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
	return '{' + keys.map((k) => jstring(k) + ':' + canonical(v[k])).join(',') + '}';
}

/*
 * RFC 8785 (JCS), the form events marked "canon":"jcs" are hashed in: JCS
 * is defined by ECMAScript's own JSON.stringify for strings and numbers,
 * with members sorted by UTF-16 code units (the default sort of strings).
 */
export function jcs(v) {
	if (v === null || typeof v !== 'object')
		return JSON.stringify(v);
	if (Array.isArray(v))
		return '[' + v.map(jcs).join(',') + ']';
	return '{' + Object.keys(v).sort().map((k) => JSON.stringify(k) + ':' + jcs(v[k])).join(',') + '}';
}

/* The bytes an event's leaf covers, by its marker (lib/tlog.c's
 * tlog_canonical): none is the older jansson form, "jcs" RFC 8785. */
function leafText(event) {
	if (event.canon === undefined)
		return canonical(event);
	if (event.canon === 'jcs')
		return jcs(event);
	throw new Error('the event names a canonical form this console does not know (' +
	    String(event.canon) + ')');
}

async function sha256(...parts) {
	let len = 0;
	for (const p of parts)
		len += p.length;
	const buf = new Uint8Array(len);
	let at = 0;
	for (const p of parts) {
		buf.set(p, at);
		at += p.length;
	}
	return new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
}

function same(a, b) {
	return a.length === b.length && a.every((x, i) => x === b[i]);
}

/* RFC 9162 2.1.3.2: the root the inclusion proof leads to, or null. */
async function rootFromProof(leaf, index, size, proof) {
	if (index >= size)
		return null;
	let fn = BigInt(index), sn = BigInt(size) - 1n, r = leaf;
	const one = Uint8Array.of(1);
	for (const p of proof) {
		if (sn === 0n)
			return null;
		if ((fn & 1n) === 1n || fn === sn) {
			r = await sha256(one, p, r);
			if ((fn & 1n) === 0n)
				while (fn !== 0n && (fn & 1n) === 0n) {
					fn >>= 1n;
					sn >>= 1n;
				}
		} else {
			r = await sha256(one, r, p);
		}
		fn >>= 1n;
		sn >>= 1n;
	}
	return sn === 0n ? r : null;
}

/*
 * receipt: the answer of GET /v1/transparency/receipts/{id}; logKey: the
 * base64 key of GET /v1/transparency/key.  -> {ok: true, detail} or
 * {ok: false, reason} naming the first check that failed.
 */
export async function verifyReceipt(receipt, logKey) {
	try {
		const sth = receipt.sth;
		const index = receipt.leaf_index, size = sth && sth.tree_size;
		if (!receipt.event || typeof receipt.event !== 'object' || !sth ||
		    !Array.isArray(receipt.inclusion_proof) || !Number.isInteger(index) ||
		    !Number.isInteger(size) || index < 0 || index >= size ||
		    !Number.isInteger(sth.timestamp))
			return { ok: false, reason: 'the receipt is incomplete' };
		const text = new TextEncoder().encode(leafText(receipt.event));
		const leaf = await sha256(Uint8Array.of(0), text);
		if (receipt.leaf_hash !== undefined && !same(leaf, b64(receipt.leaf_hash, 32, 'the leaf hash')))
			return { ok: false, reason: 'the event does not hash to the receipt\'s leaf hash (the event was altered)' };
		const proof = receipt.inclusion_proof.map((p, i) => b64(p, 32, 'proof hash ' + i));
		const root = b64(sth.root_hash, 32, 'the root hash');
		const got = await rootFromProof(leaf, index, size, proof);
		if (got === null || !same(got, root))
			return { ok: false, reason: 'the inclusion proof does not lead to the signed tree head\'s root hash' };
		if (sth.public_key !== logKey)
			return { ok: false, reason: 'the tree head names a key that is not this log\'s published key' };
		const msg = new Uint8Array(50);
		const view = new DataView(msg.buffer);
		msg[0] = 0;
		msg[1] = 1;
		view.setBigUint64(2, BigInt(sth.timestamp));
		view.setBigUint64(10, BigInt(size));
		msg.set(root, 18);
		let key;
		try {
			key = await crypto.subtle.importKey('raw', b64(logKey, 32, 'the log key'),
			    { name: 'Ed25519' }, false, ['verify']);
		} catch (e) {
			return { ok: false, reason: 'this browser cannot verify Ed25519 signatures (WebCrypto: ' + e.message + ')' };
		}
		const sig = b64(sth.signature, 64, 'the signature');
		if (!await crypto.subtle.verify({ name: 'Ed25519' }, key, sig, msg))
			return { ok: false, reason: 'the tree head signature does not verify' };
		return {
			ok: true,
			detail: 'leaf ' + index + ' of ' + size + ', proof of ' + proof.length +
			    ' hashes, tree head signed at ' + (sth.timestamp_rfc3339 || sth.timestamp),
		};
	} catch (e) {
		return { ok: false, reason: e.message };
	}
}
