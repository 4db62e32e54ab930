/*
 * page-agents.js - /agents (list with status and type filters, paging)
 * and /agents/{id} (detail, sessions, delegations, receipts; suspend,
 * reactivate, revoke, kill).  Kill and revoke preview their blast radius
 * with dry_run and ask for the agent's name typed before they act.
 */
import { api, query } from './api.js';
import { h, fill, say, status, table, field, select, timeCell } from './dom.js';
import { confirmAction, changed } from './andon.js';
import { pager } from './page-killswitch.js';

const LIMIT = 25;
const STATUSES = [['', 'any status'], ['active', 'active'], ['suspended', 'suspended'], ['revoked', 'revoked']];
const TYPES = [['', 'any type'], ...['orchestrator', 'worker', 'inference', 'pipeline', 'service', 'bot', 'llm']
	.map((t) => [t, t])];

function path(a) {
	return '/agents/' + encodeURIComponent(a.id);
}

export async function list(main, _params, q) {
	const st = select('status', STATUSES, q.get('status') || '');
	const ty = select('agent_type', TYPES, q.get('agent_type') || '');
	let skip = Math.max(0, parseInt(q.get('skip') || '0', 10) || 0);
	const out = status(), area = h('div');
	const load = async () => {
		const params = { status: st.value, agent_type: ty.value, skip: skip || '' };
		history.replaceState(null, '', '/agents' + query(params));
		try {
			const r = await api('GET', '/v1/agents' + query({ ...params, skip, limit: LIMIT }));
			say(out, '');
			fill(area, table('Agents', ['Name', 'Agent id', 'Type', 'Status', 'Sessions', 'Created'],
				r.data.map((a) => [h('a', { href: path(a) }, a.display_name || a.id),
					h('code', {}, a.agent_id), a.agent_type, badge(a.status), String(a.session_count ?? ''),
					timeCell(a.created_at)])),
			    pager('Agents', skip, LIMIT, r.count, (s) => { skip = s; load(); }));
		} catch (e) {
			say(out, 'Could not list agents: ' + e.message, 'error');
		}
	};
	fill(main, h('h1', {}, 'Agents'),
		h('form', { class: 'card inline', novalidate: true, onsubmit: (e) => { e.preventDefault(); skip = 0; load(); } },
			field('Status', st), field('Type', ty),
			h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Filter'))),
		out, area);
	await load();
	return load;
}

export function badge(s) {
	return h('span', { class: 'badge st-' + String(s).replace(/[^a-z]/g, '') }, s);
}

function dl(pairs) {
	return h('dl', { class: 'facts' }, pairs.filter(([, v]) => v !== undefined && v !== null && v !== '')
		.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

export async function detail(main, [ref]) {
	const out = status(), body = h('div');
	const base = '/v1/agents/' + encodeURIComponent(ref);
	const load = async () => {
		let a;
		try {
			a = await api('GET', base);
		} catch (e) {
			if (e.status === 404)
				fill(body, h('p', {}, 'No agent ' + ref + ' in this tenant. '),
					h('p', {}, h('a', { href: '/agents' }, 'All agents')));
			else
				say(out, 'Could not load the agent: ' + e.message, 'error');
			return;
		}
		say(out, '');
		const name = a.display_name || a.agent_id;
		main.querySelector('h1').textContent = 'Agent ' + name;
		fill(body,
			h('div', { class: 'actions' }, actions(a, load)),
			dl([['Status', badge(a.status)], ['Display name', a.display_name], ['Id', h('code', {}, a.id)],
				['Agent id', h('code', {}, a.agent_id)], ['Type', a.agent_type], ['Description', a.description],
				['Scopes', (a.scopes || []).join(', ')], ['Trust score', String(a.trust_score)],
				['Active sessions', String(a.session_count ?? '')], ['Created', timeCell(a.created_at)],
				['Updated', timeCell(a.updated_at)], ['Suspended because', a.suspended_reason],
				['Revoked', a.revoked_at ? timeCell(a.revoked_at) : null], ['Revoked because', a.revoked_reason]]),
			sub('Sessions', base + '/sessions', ['Session', 'Status', 'Scopes', 'Created', 'Expires'],
				(s) => [h('code', {}, s.id), s.status, (s.scopes || []).join(', '), timeCell(s.created_at),
					timeCell(s.expires_at)]),
			sub('Delegations', base + '/delegations', ['Delegation', 'Delegator', 'Delegate', 'Scopes', 'Status'],
				(d) => [h('code', {}, d.id), h('a', { href: '/agents/' + encodeURIComponent(d.delegator_id) }, d.delegator_agent_id),
					h('a', { href: '/agents/' + encodeURIComponent(d.delegate_id) }, d.delegate_agent_id),
					(d.scopes || []).join(', '), d.status]),
			sub('Receipts', base + '/receipts', ['Receipt', 'Action', 'Status', 'Created', 'Log receipt'],
				(r) => [h('code', {}, r.id), r.action, r.status, timeCell(r.created_at),
					r.transparency_receipt_id ? h('a', { href: '/audit?receipt=' + encodeURIComponent(r.transparency_receipt_id) },
						r.transparency_receipt_id) : '']));
	};
	fill(main, h('h1', {}, 'Agent'), h('p', {}, h('a', { href: '/agents' }, '← All agents')), out, body);
	await load();
	return load;
}

function sub(title, url, headers, row) {
	const head = h('h2', {}, title);
	const wrap = h('section', {}, head);
	const out = status();
	wrap.append(out);
	api('GET', url + '?limit=100').then((r) => {
		head.textContent = title + ' (' + r.count + ')';
		wrap.append(table(title, headers, r.data.map(row)));
	}, (e) => say(out, 'Could not load ' + title.toLowerCase() + ': ' + e.message, 'error'));
	return wrap;
}

function actions(a, reload) {
	const name = a.display_name || a.agent_id;
	const base = '/v1/agents/' + encodeURIComponent(a.id);
	if (a.status === 'revoked')
		return [h('p', {}, 'Revoked agents stay revoked: register a new agent instead.')];
	const btns = [];
	if (a.status === 'active')
		btns.push(h('button', { type: 'button', onclick: () => {
			const reason = h('textarea', { rows: 3, maxlength: 1024, required: true });
			confirmAction({ title: 'Suspend ' + name + '?',
				body: [h('p', {}, 'Its sessions fail introspection until it is reactivated.'),
					field('Reason', reason)],
				ok: 'Suspend', danger: true,
				check: () => (reason.value.trim() ? '' : 'Give a reason.'),
				run: async () => {
					await api('POST', base + '/suspend', { reason: reason.value.trim() });
					reload(); changed();
					return 'Suspended ' + name + '.';
				} });
		} }, 'Suspend…'));
	else
		btns.push(h('button', { type: 'button', onclick: () => confirmAction({
			title: 'Reactivate ' + name + '?', body: [h('p', {}, 'It may open sessions and act again.')],
			ok: 'Reactivate',
			run: async () => {
				await api('PATCH', base, { status: 'active' });
				reload(); changed();
				return 'Reactivated ' + name + '.';
			} }) }, 'Reactivate…'));
	btns.push(h('button', { type: 'button', class: 'danger', onclick: () => stop(a, true, reload) }, 'Kill…'));
	btns.push(h('button', { type: 'button', class: 'danger', onclick: () => stop(a, false, reload) }, 'Revoke…'));
	return btns;
}

/* Kill or revoke: reason (operator id, cascade) -> dry-run preview ->
 * typed confirmation -> the call. */
function stop(a, kill, reload) {
	const name = a.display_name || a.agent_id;
	const verb = kill ? 'Kill' : 'Revoke';
	const reason = h('textarea', { rows: 3, maxlength: kill ? 2000 : 1024, required: true });
	const operator = h('input', { autocomplete: 'off', maxlength: 256 });
	const cascade = h('input', { type: 'checkbox' });
	const typed = h('input', { autocomplete: 'off', spellcheck: 'false' });
	const preview = h('div', { class: 'preview', 'aria-live': 'polite' });
	const confirmBox = h('div', { hidden: true }, field('Type ' + name + ' to confirm', typed,
		'This cannot be undone: a revoked agent stays revoked.'));
	let previewed = null;
	const reset = () => {
		previewed = null;
		confirmBox.hidden = true;
		preview.replaceChildren();
		document.getElementById('confirm-ok').textContent = 'Preview ' + verb.toLowerCase();
	};
	reason.addEventListener('input', reset);
	cascade.addEventListener('change', reset);
	operator.addEventListener('input', reset);
	const body = (dry) => {
		const b = { reason: reason.value.trim() };
		if (operator.value.trim())
			b.operator_id = operator.value.trim();
		if (kill)
			b.cascade = cascade.checked;
		if (dry)
			b.dry_run = true;
		return b;
	};
	const p = confirmAction({
		title: verb + ' agent ' + name,
		body: [h('p', {}, kill
			? 'Revokes the agent forever, ends its sessions, voids its pending receipts; with cascade, the same for every agent it delegated to.'
			: 'Revokes the agent forever and ends its sessions.'),
		field('Reason', reason), field('Operator id (optional)', operator, 'Default: the API key\'s name.'),
		kill ? h('div', { class: 'field check' }, cascade, h('label', { for: cascade.id = 'cascade-' + a.id }, 'Cascade to delegated agents')) : null,
		preview, confirmBox],
		ok: 'Preview ' + verb.toLowerCase(), danger: true, keepOpen: 'preview',
		check: () => {
			if (!reason.value.trim())
				return 'Give a reason.';
			if (previewed && typed.value.trim() !== name && typed.value.trim() !== a.agent_id &&
			    typed.value.trim() !== a.id)
				return 'Type ' + name + ' exactly to confirm.';
			return '';
		},
		run: async (out) => {
			if (!previewed) {
				previewed = await api('POST', '/v1/agents/' + encodeURIComponent(a.id) + '/' +
				    verb.toLowerCase(), body(true));
				const ids = previewed.agents || [previewed.agent_id];
				fill(preview, h('h3', {}, 'Blast radius'),
					h('p', {}, ids.length + (ids.length === 1 ? ' agent' : ' agents') + ' would be revoked, ' +
					    (previewed.sessions_terminated ?? 0) + ' sessions ended' +
					    (kill ? ', ' + (previewed.receipts_voided ?? 0) + ' receipts voided' : '') + ':'),
					h('ul', { class: 'blast' }, ids.map((id) => h('li', {}, h('code', {}, id)))));
				confirmBox.hidden = false;
				document.getElementById('confirm-ok').textContent = verb + ' ' + (ids.length === 1 ? 'agent' : ids.length + ' agents');
				say(out, 'Nothing has changed yet. Type the name to confirm.');
				typed.focus();
				return 'preview';
			}
			const r = await api('POST', '/v1/agents/' + encodeURIComponent(a.id) + '/' + verb.toLowerCase(), body(false));
			reload(); changed();
			return verb === 'Kill'
				? 'Killed ' + name + ((r.cascaded || []).length ? ' and ' + r.cascaded.length + ' delegated agents' : '') +
				    (r.receipt_id ? ' (receipt ' + r.receipt_id + ').' : '.')
				: 'Revoked ' + name + '.';
		},
	});
	return p;
}
