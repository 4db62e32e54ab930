/*
 * page-interventions.js - /interventions: the filters of API.md section 6
 * (type, outcome, action, agent, run, date range) and paging, newest first.
 */
import { api, query } from './api.js';
import { h, fill, say, status, table, field, timeCell } from './dom.js';
import { pager } from './page-killswitch.js';

const LIMIT = 50;
const FILTERS = [['type', 'Type', 'e.g. hard_block'], ['outcome', 'Outcome', 'e.g. blocked'],
	['action_name', 'Action', ''], ['agent_id', 'Agent id', ''], ['run_id', 'Run id', '']];

/* "2026-12-01T10:00" (a datetime-local, read as UTC) -> RFC 3339. */
export function utc(local) {
	if (!local)
		return '';
	return local.length === 16 ? local + ':00Z' : local + 'Z';
}

export async function render(main, _params, q) {
	const inputs = {};
	for (const [name, , hint] of FILTERS)
		inputs[name] = h('input', { name, autocomplete: 'off', value: q.get(name) || '', placeholder: hint || null });
	const from = h('input', { type: 'datetime-local', name: 'start_date' });
	const to = h('input', { type: 'datetime-local', name: 'end_date' });
	let skip = 0;
	const out = status(), area = h('div');
	const load = async () => {
		const params = { skip, limit: LIMIT, start_date: utc(from.value), end_date: utc(to.value) };
		for (const [name] of FILTERS)
			params[name] = inputs[name].value.trim();
		try {
			const r = await api('GET', '/api/v1/interventions' + query(params));
			say(out, '');
			fill(area, table('Interventions', ['When', 'Type', 'Outcome', 'Action', 'Agent', 'Run',
				'Mission', 'Count', 'Reason', 'Killed by'], r.interventions.map((i) => [
				timeCell(i.timestamp), i.type, i.outcome, i.action_name || '', i.agent_id || '',
				i.run_id || '', i.mission_id || '', String(i.count ?? 1), i.reason || '', i.killed_by || ''])),
			    pager('Interventions', skip, LIMIT, r.count, (s) => { skip = s; load(); }));
		} catch (e) {
			say(out, 'Could not list interventions: ' + e.message, 'error');
		}
	};
	fill(main, h('h1', {}, 'Interventions'),
		h('p', {}, 'Every blocked action a kill-switch check refused (and what SDKs report), newest first.'),
		h('form', { class: 'card filters', novalidate: true, onsubmit: (e) => { e.preventDefault(); skip = 0; load(); } },
			FILTERS.map(([name, label]) => field(label, inputs[name])),
			field('From (UTC)', from), field('Until (UTC)', to),
			h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Filter'))),
		out, area);
	await load();
	return load;
}
