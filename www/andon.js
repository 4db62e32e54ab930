/*
 * andon.js - the console shell: sign-in, the page router, the header
 * (live "N Active Kill Switches" count, who is signed in), the emergency
 * shutdown banner, the Emergency Kill dialog (shortcut "k" from any page)
 * and the confirmation dialog every page uses.
 */
import { api, storedKey, remember, forget, whenUnauthorized } from './api.js';
import { h, fill, say, field } from './dom.js';
import * as killswitch from './page-killswitch.js';
import * as agents from './page-agents.js';
import * as interventions from './page-interventions.js';
import * as emergency from './page-emergency.js';
import * as audit from './page-audit.js';

/* How often the header count and the shutdown banner are refreshed. */
export const POLL_MS = 5000;

const $ = (id) => document.getElementById(id);
const main = $('main');
let who = null;
let pageRefresh = null;
let signInReason = '';

const routes = [
	[/^\/(kill-switch)?\/?$/, 'Kill switch', killswitch.render],
	[/^\/agents\/?$/, 'Agents', agents.list],
	[/^\/agents\/([^/]+)\/?$/, 'Agent', agents.detail],
	[/^\/interventions\/?$/, 'Interventions', interventions.render],
	[/^\/emergency\/?$/, 'Emergency shutdown', emergency.render],
	[/^\/audit\/?$/, 'Audit', audit.render],
];

/* The page says so in the live region under the banner. */
export function flash(text) {
	$('flash').textContent = text;
}

export function go(path) {
	history.pushState(null, '', path);
	route(true);
}

/* Something changed: refresh the header and the page's data now. */
export function changed() {
	poll();
	if (pageRefresh)
		pageRefresh();
}

export function signedIn() {
	return who;
}

function isConsoleLink(a) {
	return a && a.origin === location.origin && !a.target && !a.hasAttribute('download') &&
	    !/^\/(v1|api)\//.test(a.pathname);
}

async function route(moved) {
	pageRefresh = null;
	if (!who) {
		signIn();
		return;
	}
	const path = location.pathname;
	for (const a of document.querySelectorAll('#nav a'))
		if (path === a.pathname || path.startsWith(a.pathname + '/'))
			a.setAttribute('aria-current', 'page');
		else
			a.removeAttribute('aria-current');
	let found = null;
	for (const [re, title, render] of routes) {
		const m = re.exec(path);
		if (m) {
			found = [title, render, m.slice(1).map(decodeURIComponent)];
			break;
		}
	}
	main.replaceChildren();
	if (!found) {
		document.title = 'Not found - Andon';
		fill(main, h('h1', {}, 'Not found'),
			h('p', {}, 'No console page at ' + path + '. '),
			h('p', {}, h('a', { href: '/kill-switch' }, 'Go to the kill switch')));
	} else {
		document.title = found[0] + ' - Andon';
		pageRefresh = await found[1](main, found[2], new URLSearchParams(location.search)) || null;
	}
	if (moved)
		main.focus();
}

/* Sign-in: paste a key; GET /v1/api-keys/self says whose it is. */
function signIn() {
	for (const id of ['nav', 'ks-count', 'kill-open', 'who', 'sign-out'])
		$(id).hidden = true;
	$('banner').hidden = true;
	document.title = 'Sign in - Andon';
	const input = h('input', { type: 'password', name: 'key', required: true, autocomplete: 'off',
		spellcheck: 'false' });
	const out = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
	const form = h('form', { class: 'card', novalidate: true },
		field('API key', input, 'Kept in this tab only (sessionStorage); sent as X-API-Key.'),
		out,
		h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Sign in')));
	if (signInReason)
		say(out, 'Signed out: ' + signInReason, 'error');
	form.addEventListener('submit', async (e) => {
		e.preventDefault();
		const key = input.value.trim();
		if (!key) {
			say(out, 'Paste an API key first.', 'error');
			input.focus();
			return;
		}
		say(out, 'Checking the key…');
		if (await start(key, out)) {
			signInReason = '';
			route(true);
		}
	});
	fill(main, h('h1', {}, 'Sign in to Andon'), form);
	input.focus();
}

/* Signs in with key; on failure says why in out (when given). */
async function start(key, out) {
	remember(key, '');
	try {
		who = await api('GET', '/v1/api-keys/self');
	} catch (e) {
		forget();
		who = null;
		if (out)
			say(out, e.status === 401 ? 'This key is not valid: ' + e.message : e.message, 'error');
		return false;
	}
	remember(key, who.tenant);
	fill($('who'), h('span', { class: 'tenant' }, who.tenant), ' · ', who.name || who.id,
		h('span', { class: 'scopes' }, ' · ' + (who.scopes || []).join(', ')));
	$('who').title = 'Key ' + (who.prefix || who.id) + '; effective scopes: ' +
	    (who.effective_scopes || []).join(', ');
	for (const id of ['nav', 'ks-count', 'kill-open', 'who', 'sign-out'])
		$(id).hidden = false;
	poll();
	return true;
}

function signOut(reason) {
	forget();
	who = null;
	signInReason = reason || '';
	flash('');
	route(true);
}

/* The header count and the banner, every POLL_MS while the tab shows. */
let polling = false;
async function poll() {
	if (!who || polling)
		return;
	polling = true;
	try {
		await Promise.all([pollCount(), pollShutdowns()]);
	} finally {
		polling = false;
	}
}

async function pollCount() {
	const el = $('ks-count');
	try {
		const r = await api('GET', '/api/v1/kill-switch/active?limit=1');
		el.textContent = r.count + (r.count === 1 ? ' Active Kill Switch' : ' Active Kill Switches');
		el.classList.toggle('hot', r.count > 0);
		el.title = 'Refreshed every ' + POLL_MS / 1000 + ' s';
	} catch (e) {
		el.textContent = e.code === 'emergency_shutdown' ? 'Count refused (shutdown)'
			: e.status === 403 ? 'Count: no killswitch:check' : 'Count unavailable';
		el.classList.remove('hot');
		el.title = e.message;
	}
}

const LABELS = ['', 'Minor', 'Moderate', 'Major', 'Severe', 'Critical'];

async function pollShutdowns() {
	const banner = $('banner');
	let list;
	try {
		list = (await api('GET', '/v1/emergency-shutdown')).active_shutdowns || [];
	} catch (e) {
		banner.className = 'banner unknown';
		fill(banner, 'Emergency shutdown status unknown: ' + e.message);
		banner.hidden = false;
		return;
	}
	emergency.setActive(list);
	if (!list.length) {
		banner.hidden = true;
		banner.replaceChildren();
		return;
	}
	const top = list.reduce((a, b) => (b.severity > a.severity ? b : a));
	const sev = top.severity;
	const what = sev >= 4
		? 'Governance calls are refused (503) until it is resolved; kills, suspends, key revocation, audit reads and resolving still work.'
		: sev === 3 ? 'Calls proceed with a warning.' : 'Calls proceed; it is logged and audited.';
	banner.className = 'banner sev-' + sev;
	fill(banner, h('strong', {}, 'Emergency shutdown active: severity ' + sev + ' (' +
	    (top.severity_label || LABELS[sev] || '') + ')'), ' — ', top.reason || '', ' (',
	    top.shutdown_id, ', scope ', top.scope || 'org', '). ', what,
	    list.length > 1 ? ' ' + list.length + ' shutdowns are active.' : '', ' ',
	    h('a', { href: '/emergency' }, 'Resolve on the emergency page'));
	banner.hidden = false;
}

/*
 * The confirmation dialog: title, body nodes, the OK button's text and
 * class, and run(status) doing the action: resolves to a message (shown
 * in the flash line) and closes, or throws and shows the error in the
 * dialog, next to the action.  check() may refuse before run (a message).
 * Returns a promise of true (done) or false (cancelled).
 */
export function confirmAction({ title, body, ok, danger, check, run, keepOpen }) {
	const dlg = $('confirm-dialog'), form = $('confirm-form'), out = $('confirm-status');
	const back = document.activeElement;
	$('confirm-title').textContent = title;
	fill($('confirm-body'), body || []);
	$('confirm-ok').textContent = ok || 'OK';
	$('confirm-ok').className = danger ? 'danger' : 'primary';
	say(out, '');
	return new Promise((resolve) => {
		let busy = false;
		const done = (value) => {
			form.onsubmit = null;
			$('confirm-cancel').onclick = null;
			dlg.onclose = null;
			if (dlg.open)
				dlg.close();
			if (back && back.isConnected)
				back.focus();
			resolve(value);
		};
		form.onsubmit = async (e) => {
			e.preventDefault();
			if (busy)
				return;
			const why = check ? check() : '';
			if (why) {
				say(out, why, 'error');
				return;
			}
			busy = true;
			$('confirm-ok').disabled = true;
			say(out, 'Working…');
			try {
				const msg = await run(out);
				if (keepOpen && msg === keepOpen) {
					return;
				}
				flash(msg || '');
				done(true);
			} catch (err) {
				say(out, err.message, 'error');
			} finally {
				busy = false;
				$('confirm-ok').disabled = false;
			}
		};
		$('confirm-cancel').onclick = () => done(false);
		dlg.onclose = () => done(false);
		dlg.showModal();
		const first = $('confirm-body').querySelector('input, select, textarea');
		(first || $('confirm-ok')).focus();
	});
}

/* The Emergency Kill dialog, optionally filled in. */
export function openKill(type, id) {
	const dlg = $('kill-dialog');
	if (dlg.open || !who)
		return;
	dlg.returnTo = document.activeElement;
	$('kill-form').reset();
	if (type)
		$('kill-type').value = type;
	if (id)
		$('kill-id').value = id;
	say($('kill-status'), '');
	dlg.showModal();
	(id ? $('kill-reason') : $('kill-id')).focus();
}

function wireKillDialog() {
	const dlg = $('kill-dialog'), out = $('kill-status');
	$('kill-open').addEventListener('click', () => openKill());
	$('kill-cancel').addEventListener('click', () => dlg.close());
	dlg.addEventListener('close', () => {
		if (dlg.returnTo && dlg.returnTo.isConnected)
			dlg.returnTo.focus();
	});
	$('kill-form').addEventListener('submit', async (e) => {
		e.preventDefault();
		const body = { target_type: $('kill-type').value, target_id: $('kill-id').value.trim() };
		const reason = $('kill-reason').value.trim();
		if (!body.target_id) {
			say(out, 'Name the target id to kill.', 'error');
			$('kill-id').focus();
			return;
		}
		if (reason)
			body.reason = reason;
		$('kill-submit').disabled = true;
		say(out, 'Killing…');
		try {
			const r = await api('POST', '/api/v1/kill-switch/kill', body);
			flash('Killed ' + r.target_type + ' ' + r.target_id + ' (' + r.id + ').');
			dlg.close();
			changed();
		} catch (err) {
			say(out, err.message, 'error');
		} finally {
			$('kill-submit').disabled = false;
		}
	});
	document.addEventListener('keydown', (e) => {
		if (e.key !== 'k' || e.ctrlKey || e.metaKey || e.altKey || e.repeat)
			return;
		const t = e.target;
		if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)))
			return;
		if (document.querySelector('dialog[open]'))
			return;
		e.preventDefault();
		openKill();
	});
}

/* In a dialog, Enter submits from a reason box too (Shift+Enter is a new
 * line): every dialog acts on Enter and closes on Escape. */
function enterSubmits(e) {
	if (e.key !== 'Enter' || e.shiftKey || e.isComposing || e.target.tagName !== 'TEXTAREA')
		return;
	const form = e.target.form;
	if (form && form.closest('dialog')) {
		e.preventDefault();
		form.requestSubmit();
	}
}

function boot() {
	whenUnauthorized((reason) => signOut(reason));
	document.addEventListener('keydown', enterSubmits);
	wireKillDialog();
	$('sign-out').addEventListener('click', () => signOut(''));
	document.addEventListener('click', (e) => {
		const a = e.target.closest && e.target.closest('a[href]');
		if (!isConsoleLink(a) || e.defaultPrevented || e.button !== 0 ||
		    e.ctrlKey || e.metaKey || e.shiftKey || e.altKey || a.hash && a.pathname === location.pathname)
			return;
		e.preventDefault();
		go(a.pathname + a.search);
	});
	window.addEventListener('popstate', () => route(true));
	setInterval(() => {
		if (!document.hidden)
			poll();
	}, POLL_MS);
	const key = storedKey();
	if (key)
		start(key, null).then(() => route(false));
	else
		route(false);
}

boot();
