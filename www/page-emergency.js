/*
 * page-emergency.js - /emergency: the active shutdowns with Resolve, and
 * activating one (severity with its label, reason, scope); severity 4-5
 * asks for the label typed before it halts the tenant.
 */
import { api } from './api.js';
import { h, fill, say, status, table, field, select, timeCell } from './dom.js';
import { confirmAction, changed, signedIn } from './andon.js';

const LABELS = ['', 'Minor', 'Moderate', 'Major', 'Severe', 'Critical'];
const EFFECT = ['', 'logged and audited only', 'logged and audited only',
	'calls proceed with a warning header', 'governance calls refused (503); stops still work',
	'governance calls refused (503); stops still work'];
let active = [];
let redraw = null;

/* The shell's poll hands over the active list. */
export function setActive(list) {
	const before = JSON.stringify(active.map((s) => s.shutdown_id));
	active = list;
	if (redraw && before !== JSON.stringify(list.map((s) => s.shutdown_id)))
		redraw();
}

function resolve(s) {
	const reason = h('textarea', { rows: 2, maxlength: 2000 });
	return confirmAction({
		title: 'Resolve ' + s.shutdown_id + '?',
		body: [h('p', {}, 'Severity ' + s.severity + ' (' + (s.severity_label || LABELS[s.severity]) + '): ' + (s.reason || '')),
			field('Resolution note (optional)', reason)],
		ok: 'Resolve',
		run: async () => {
			const body = reason.value.trim() ? { reason: reason.value.trim() } : {};
			await api('POST', '/v1/emergency-shutdown/' + encodeURIComponent(s.shutdown_id) + '/resolve', body);
			changed();
			return 'Resolved ' + s.shutdown_id + '.';
		},
	});
}

export async function render(main) {
	const list = h('div'), out = status();
	const draw = () => fill(list, table('Active emergency shutdowns', ['Shutdown', 'Severity', 'Reason', 'Scope',
		'Activated', 'By', 'Action'], active.map((s) => [h('code', {}, s.shutdown_id),
		s.severity + ' ' + (s.severity_label || LABELS[s.severity] || ''), s.reason || '',
		s.scope + (s.affected_scope && s.affected_scope.key_id ? ' ' + s.affected_scope.key_id : ''),
		timeCell(s.activated_at), s.activated_by || '',
		h('button', { type: 'button', onclick: () => resolve(s), 'aria-label': 'Resolve ' + s.shutdown_id }, 'Resolve')])));
	const load = async () => {
		try {
			const r = await api('GET', '/v1/emergency-shutdown');
			active = r.active_shutdowns || [];
			say(out, '');
			draw();
		} catch (e) {
			say(out, 'Could not list shutdowns: ' + e.message, 'error');
		}
	};
	redraw = () => { if (list.isConnected) draw(); };
	const sev = select('severity', [1, 2, 3, 4, 5].map((n) => [String(n), n + ' — ' + LABELS[n] + ': ' + EFFECT[n]]), '3');
	const reason = h('textarea', { name: 'reason', rows: 3, maxlength: 2000 });
	const scope = select('scope', [['org', 'org — this tenant'], ['key', 'key — one API key'],
		['all', 'all — every tenant (platform:admin)']], 'org');
	const keyId = h('input', { name: 'key_id', autocomplete: 'off', placeholder: 'default: this key' });
	const keyField = field('Key id', keyId);
	keyField.hidden = true;
	scope.addEventListener('change', () => { keyField.hidden = scope.value !== 'key'; });
	const formOut = status();
	const form = h('form', { class: 'card', novalidate: true, onsubmit: (e) => {
		e.preventDefault();
		const n = Number(sev.value);
		if (!reason.value.trim())
			return say(formOut, 'Give a reason: it is shown to everyone the shutdown refuses.', 'error');
		const body = { severity: n, reason: reason.value.trim(), scope: scope.value };
		if (scope.value === 'key' && keyId.value.trim())
			body.key_id = keyId.value.trim();
		const typed = h('input', { autocomplete: 'off', spellcheck: 'false' });
		const who = signedIn();
		say(formOut, '');
		confirmAction({
			title: 'Activate a severity ' + n + ' (' + LABELS[n] + ') shutdown?',
			body: [h('p', {}, 'Scope ' + body.scope + (body.scope === 'org' && who ? ' (tenant ' + who.tenant + ')' : '') +
				': ' + EFFECT[n] + '.'), h('p', {}, 'Reason: ' + body.reason),
				n >= 4 ? field('Type ' + LABELS[n] + ' to confirm', typed) : null],
			ok: 'Activate shutdown', danger: n >= 4,
			check: () => (n >= 4 && typed.value.trim().toLowerCase() !== LABELS[n].toLowerCase()
				? 'Type ' + LABELS[n] + ' to confirm.' : ''),
			run: async () => {
				const r = await api('POST', '/v1/emergency-shutdown', body);
				reason.value = '';
				changed();
				return 'Activated ' + r.shutdown_id + ' (severity ' + r.severity + ').';
			},
		});
	} },
		field('Severity', sev), field('Reason', reason), field('Scope', scope), keyField, formOut,
		h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'danger' }, 'Activate shutdown…')));
	fill(main, h('h1', {}, 'Emergency shutdown'),
		h('section', { 'aria-labelledby': 'esd-active' }, h('h2', { id: 'esd-active' }, 'Active'), out, list),
		h('section', { 'aria-labelledby': 'esd-new' }, h('h2', { id: 'esd-new' }, 'Activate'),
			h('p', {}, 'Severity 4 and 5 refuse every governance call of the scope until resolved; kills, suspends, key revocation, audit reads and resolving stay reachable.'),
			form));
	await load();
	return load;
}
