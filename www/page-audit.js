/*
 * page-audit.js - /audit: the tenant's audit events with the filters of
 * GET /v1/audit/events, an event's detail, and "verify receipt": the
 * inclusion proof and signed tree head checked in the browser (verify.js).
 */
import { api, query } from './api.js';
import { h, fill, say, status, table, field, timeCell } from './dom.js';
import { pager } from './page-killswitch.js';
import { utc } from './page-interventions.js';
import { verifyReceipt } from './verify.js';

const LIMIT = 50;

function actorText(a) {
	if (!a)
		return '';
	if (typeof a !== 'object')
		return String(a);
	return [a.name, a.operator_id && a.operator_id !== a.name ? 'operator ' + a.operator_id : '', a.key_id]
		.filter(Boolean).join(' · ');
}

function targetText(e) {
	const t = e.target;
	if (t && typeof t === 'object')
		return [t.type, t.id].filter(Boolean).join(' ');
	return [e.target_type, t || e.target_id].filter(Boolean).join(' ');
}

/* Fetches and verifies receipt id; says the verdict in out. */
async function verify(id, out) {
	say(out, 'Verifying ' + id + '…');
	let receipt, key;
	try {
		receipt = await api('GET', '/v1/transparency/receipts/' + encodeURIComponent(id));
		key = await api('GET', '/v1/transparency/key');
	} catch (e) {
		say(out, 'Could not fetch the receipt: ' + e.message, 'error');
		return;
	}
	const v = await verifyReceipt(receipt, key.public_key);
	if (v.ok) {
		fill(out, h('strong', {}, 'Verified'), ': ' + id + ' (event ' + (receipt.event.type || '') + ', ' +
		    v.detail + ').');
		out.className = 'status ok';
		out.setAttribute('role', 'status');
	} else {
		fill(out, h('strong', {}, 'Not verified'), ': ' + id + ': ' + v.reason + '.');
		out.className = 'status error';
		out.setAttribute('role', 'alert');
	}
}

async function showEvent(id, box) {
	fill(box, h('p', {}, 'Loading ' + id + '…'));
	let e;
	try {
		e = await api('GET', '/v1/audit/events/' + encodeURIComponent(id));
	} catch (err) {
		fill(box, h('p', { class: 'status error', role: 'alert' }, err.status === 404 && !err.code
			? 'Audit reads are not available on this server.' : 'Could not load the event: ' + err.message));
		return;
	}
	const out = status();
	fill(box, h('h3', {}, 'Event ' + (e.seq ?? '') + ' — ' + e.type),
		h('dl', { class: 'facts' },
			[['Id', e.id], ['Sequence', e.seq], ['Type', e.type], ['At', e.at], ['Actor', actorText(e.actor)],
				['Target', targetText(e)], ['Reason', e.reason], ['Hash', e.hash], ['Previous hash', e.prev_hash],
				['Receipt', e.receipt_id]].filter(([, v]) => v !== undefined && v !== null && v !== '')
				.map(([k, v]) => [h('dt', {}, k), h('dd', {}, typeof v === 'string' && /hash/i.test(k) ? h('code', {}, v) : String(v))])),
		e.data !== undefined ? [h('h4', {}, 'Data'), h('pre', {}, JSON.stringify(e.data, null, 2))] : null,
		e.receipt_id ? h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => verify(e.receipt_id, out) },
			'Verify receipt ' + e.receipt_id)) : null, out);
	box.focus();
}

export async function render(main, _params, q) {
	const f = {
		type: h('input', { name: 'type', autocomplete: 'off', placeholder: 'e.g. killswitch.activated' }),
		target_id: h('input', { name: 'target_id', autocomplete: 'off' }),
		actor: h('input', { name: 'actor', autocomplete: 'off' }),
		since: h('input', { type: 'datetime-local', name: 'since' }),
		until: h('input', { type: 'datetime-local', name: 'until' }),
	};
	let skip = 0;
	const out = status(), area = h('div'), detailBox = h('div', { class: 'detail', tabindex: '-1' });
	const load = async () => {
		const params = { type: f.type.value.trim(), target_id: f.target_id.value.trim(),
			actor: f.actor.value.trim(), since: utc(f.since.value), until: utc(f.until.value), skip, limit: LIMIT };
		try {
			const r = await api('GET', '/v1/audit/events' + query(params));
			say(out, '');
			fill(area, table('Audit events', ['Seq', 'At', 'Type', 'Actor', 'Target', 'Receipt', 'Details'],
				r.data.map((e) => [String(e.seq ?? ''), timeCell(e.at), e.type, actorText(e.actor), targetText(e),
					e.receipt_id ? h('code', {}, e.receipt_id) : '',
					h('button', { type: 'button', onclick: () => showEvent(e.id, detailBox),
						'aria-label': 'Details of event ' + (e.seq ?? e.id) }, 'Details')])),
			    pager('Audit events', skip, LIMIT, r.count, (s) => { skip = s; load(); }));
		} catch (e) {
			if (e.status === 404)
				say(out, 'Audit reads are not available on this server (GET /v1/audit/events answered 404). Receipts can still be verified above.', 'note');
			else
				say(out, 'Could not list audit events: ' + e.message, 'error');
			area.replaceChildren();
		}
	};
	const rid = h('input', { name: 'receipt', autocomplete: 'off', spellcheck: 'false', value: q.get('receipt') || '',
		placeholder: 'rcpt_0000000000000000' });
	const vout = status();
	fill(main, h('h1', {}, 'Audit'),
		h('section', { 'aria-labelledby': 'audit-verify' }, h('h2', { id: 'audit-verify' }, 'Verify a receipt'),
			h('p', {}, 'Checks in this browser that the event is in the transparency log: its leaf hash, the inclusion proof up to the signed tree head, and the Ed25519 signature against the log\'s key.'),
			h('form', { class: 'card inline', novalidate: true, onsubmit: (e) => {
				e.preventDefault();
				if (!/^rcpt_[0-9a-f]{16}$/.test(rid.value.trim()))
					return say(vout, 'A receipt id looks like rcpt_ and 16 hex digits.', 'error');
				verify(rid.value.trim(), vout);
			} }, field('Receipt id', rid), h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Verify receipt'))),
			vout),
		h('section', { 'aria-labelledby': 'audit-events' }, h('h2', { id: 'audit-events' }, 'Events'),
			h('form', { class: 'card filters', novalidate: true, onsubmit: (e) => { e.preventDefault(); skip = 0; load(); } },
				field('Type', f.type), field('Target id', f.target_id), field('Actor', f.actor),
				field('Since (UTC)', f.since), field('Until (UTC)', f.until),
				h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Filter'))),
			out, area, detailBox));
	await load();
	if (rid.value)
		verify(rid.value.trim(), vout);
	return null;
}
