/*
 * page-killswitch.js - /kill-switch: the active switches with a Revive
 * button per row, the check of a target or a context, a target's history.
 */
import { api, query } from './api.js';
import { h, fill, say, status, table, field, select, timeCell, age } from './dom.js';
import { confirmAction, openKill, changed } from './andon.js';

const LIMIT = 20;
const TYPES = [['agent', 'agent'], ['run', 'run'], ['mission', 'mission']];

/* Prev / next buttons for {skip, limit, count}; go(skip) loads a page. */
export function pager(label, skip, limit, count, go) {
	const last = Math.min(skip + limit, count);
	return h('nav', { class: 'pager', 'aria-label': label + ' pages' },
		h('button', { type: 'button', disabled: skip <= 0, onclick: () => go(Math.max(0, skip - limit)) }, 'Previous'),
		h('span', {}, count ? (skip + 1) + '–' + last + ' of ' + count : '0 of 0'),
		h('button', { type: 'button', disabled: last >= count, onclick: () => go(skip + limit) }, 'Next'));
}

function revive(rec) {
	const name = rec.target_type + ' ' + rec.target_id;
	return confirmAction({
		title: 'Revive ' + name + '?',
		body: [h('p', {}, 'The ' + rec.target_type + ' ', h('strong', {}, rec.target_id),
			' may act again at its next kill-switch check.')],
		ok: 'Revive',
		run: async () => {
			await api('POST', '/api/v1/kill-switch/revive',
			    { target_type: rec.target_type, target_id: rec.target_id });
			changed();
			return 'Revived ' + name + '.';
		},
	});
}

export async function render(main) {
	let skip = 0;
	const out = status(), list = h('div');
	const load = async () => {
		try {
			const r = await api('GET', '/api/v1/kill-switch/active' + query({ skip, limit: LIMIT }));
			if (r.count > 0 && skip >= r.count) {
				skip = Math.max(0, r.count - LIMIT);
				return load();
			}
			say(out, '');
			fill(list, table('Active kill switches', ['Target type', 'Target id', 'Reason', 'Killed by',
				'Killed at', 'Age', 'Action'], r.data.map((k) => [
				k.target_type, h('code', {}, k.target_id), k.reason || '', k.killed_by || '',
				timeCell(k.killed_at), age(k.killed_at),
				h('button', { type: 'button', onclick: () => revive(k),
					'aria-label': 'Revive ' + k.target_type + ' ' + k.target_id }, 'Revive')])),
			    pager('Active kill switches', skip, LIMIT, r.count, (s) => { skip = s; load(); }));
		} catch (e) {
			say(out, 'Could not load the active kill switches: ' + e.message, 'error');
		}
	};
	fill(main,
		h('h1', {}, 'Kill switch'),
		h('section', { 'aria-labelledby': 'ks-active' },
			h('div', { class: 'section-head' }, h('h2', { id: 'ks-active' }, 'Active kill switches'),
				h('button', { type: 'button', class: 'danger', onclick: () => openKill() }, 'Emergency Kill…')),
			out, list),
		checkSection(), historySection());
	await load();
	return load;
}

function answerLines(r) {
	if (!r.is_killed)
		return [h('strong', { class: 'ok-text' }, 'Not killed'), ': the ' + (r.target_type || 'target') +
			' may act.'];
	return [h('strong', { class: 'bad-text' }, 'KILLED'), ': ' + r.target_type + ' ' + r.target_id +
		(r.reason ? ' — ' + r.reason : '') + (r.killed_at ? ' (since ' + r.killed_at + ')' : '') +
		(r.source ? ' [' + r.source + ']' : '')];
}

function checkSection() {
	const tType = select('target_type', TYPES, 'agent'), tId = h('input', { name: 'target_id', autocomplete: 'off' });
	const cAgent = h('input', { name: 'agent_id', autocomplete: 'off' });
	const cRun = h('input', { name: 'run_id', autocomplete: 'off' });
	const cMission = h('input', { name: 'mission_id', autocomplete: 'off' });
	const cAction = h('input', { name: 'action', autocomplete: 'off' });
	const out1 = status(), out2 = status();
	const ask = async (params, out) => {
		say(out, 'Checking…');
		try {
			const r = await api('GET', '/api/v1/kill-switch/check' + query(params));
			fill(out, answerLines(r));
			out.className = 'status ' + (r.is_killed ? 'error' : 'ok');
		} catch (e) {
			say(out, e.message, 'error');
		}
	};
	return h('section', { 'aria-labelledby': 'ks-check' },
		h('h2', { id: 'ks-check' }, 'Check'),
		h('div', { class: 'cols' },
			h('form', { class: 'card', novalidate: true, onsubmit: (e) => {
				e.preventDefault();
				if (!tId.value.trim())
					return say(out1, 'Name a target id.', 'error');
				ask({ target_type: tType.value, target_id: tId.value.trim() }, out1);
			} },
				h('h3', {}, 'A target'), field('Target type', tType), field('Target id', tId),
				h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Check target')), out1),
			h('form', { class: 'card', novalidate: true, onsubmit: (e) => {
				e.preventDefault();
				const p = { agent_id: cAgent.value.trim(), run_id: cRun.value.trim(),
					mission_id: cMission.value.trim(), action: cAction.value.trim() };
				if (!p.agent_id && !p.run_id && !p.mission_id)
					return say(out2, 'Name an agent, a run or a mission.', 'error');
				ask(p, out2);
			} },
				h('h3', {}, 'A context'), field('Agent id', cAgent), field('Run id', cRun),
				field('Mission id', cMission), field('Action (optional)', cAction),
				h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Check context')), out2)));
}

function historySection() {
	const tType = select('target_type', TYPES, 'agent'), tId = h('input', { name: 'target_id', autocomplete: 'off' });
	const out = status(), list = h('div');
	return h('section', { 'aria-labelledby': 'ks-history' },
		h('h2', { id: 'ks-history' }, 'History of a target'),
		h('form', { class: 'card inline', novalidate: true, onsubmit: async (e) => {
			e.preventDefault();
			if (!tId.value.trim())
				return say(out, 'Name a target id.', 'error');
			say(out, 'Loading…');
			try {
				const r = await api('GET', '/api/v1/kill-switch/history' +
				    query({ target_type: tType.value, target_id: tId.value.trim() }));
				const rows = r.data || r.history || [];
				say(out, '');
				fill(list, table('History of ' + tType.value + ' ' + tId.value.trim(),
					['Active', 'Reason', 'Killed by', 'Killed at', 'Revived by', 'Revived at'],
					rows.map((k) => [k.is_active ? 'yes' : 'no', k.reason || '', k.killed_by || '',
						timeCell(k.killed_at), k.revived_by || '', timeCell(k.revived_at)])));
			} catch (err) {
				say(out, err.message, 'error');
			}
		} },
			field('Target type', tType), field('Target id', tId),
			h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Show history'))),
		out, list);
}
