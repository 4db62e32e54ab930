/*
 * console.mjs - drives the operator console (www/) in Debian's chromium
 * through playwright-core against a running instance.  Run by
 * tests/t1000-console.sh once per server; prints one "ok - ..." or
 * "not ok - ..." line per check and exits 1 when any failed.
 *
 * Environment: BASE (http://127.0.0.1:PORT), ADMIN_KEY, SERVER (a name
 * for the screenshots), SHOTS (a directory for them), CHROMIUM (default
 * /usr/bin/chromium).
 */
import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import { mkdirSync } from 'node:fs';

const BASE = process.env.BASE;
const KEY = process.env.ADMIN_KEY;
const SERVER = process.env.SERVER || 'server';
const SHOTS = process.env.SHOTS || 'console-shots';
let failed = 0;

function ok(cond, desc, detail) {
	if (cond) {
		console.log('ok - ' + desc);
	} else {
		failed++;
		console.log('not ok - ' + desc + (detail ? ' # ' + String(detail).replace(/\s+/g, ' ').slice(0, 400) : ''));
	}
	return cond;
}

/* The API straight from node, for set-up and for checking what the
 * console did. */
let tenant = '';
async function rest(method, path, body) {
	const headers = { 'X-API-Key': KEY, 'Accept': 'application/json' };
	if (tenant)
		headers['X-Tenant-ID'] = tenant;
	if (body !== undefined)
		headers['Content-Type'] = 'application/json';
	const r = await fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
	const text = await r.text();
	let data = null;
	try { data = JSON.parse(text); } catch (e) { data = text; }
	return { status: r.status, data };
}

async function must(method, path, body, want) {
	const r = await rest(method, path, body);
	if (r.status !== want)
		throw new Error(method + ' ' + path + ' -> ' + r.status + ' ' + JSON.stringify(r.data));
	return r.data;
}

const problems = [];   /* console errors, page errors, CSP violations */
const PAGES = [['kill-switch', '/kill-switch', 'Kill switch'], ['agents', '/agents', 'Agents'],
	['interventions', '/interventions', 'Interventions'], ['emergency', '/emergency', 'Emergency shutdown'],
	['audit', '/audit', 'Audit']];

async function settle(page) {
	await page.waitForLoadState('networkidle', { timeout: 5000 }).catch(() => {});
}

async function visit(page, path, heading) {
	const resp = await page.goto(BASE + path);
	await page.locator('main h1').filter({ hasText: heading }).first().waitFor({ timeout: 10000 });
	await settle(page);
	return resp;
}

async function axe(page, name) {
	const r = await new AxeBuilder({ page }).analyze();
	const bad = r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
	ok(bad.length === 0, 'axe: no serious or critical violation on ' + name,
	    bad.map((v) => v.id + ' (' + v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ') + ')').join('; '));
}

async function shoot(page, name) {
	for (const [w, hgt] of [[1280, 800], [390, 844]]) {
		await page.setViewportSize({ width: w, height: hgt });
		await page.screenshot({ path: `${SHOTS}/${SERVER}-${name}-${w}.png`, fullPage: true });
	}
	await page.setViewportSize({ width: 1280, height: 800 });
}

async function main() {
	mkdirSync(SHOTS, { recursive: true });
	const self = await must('GET', '/v1/api-keys/self', undefined, 200);
	tenant = self.tenant;
	const browser = await chromium.launch({
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		args: ['--no-sandbox'],
	});
	const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
	const page = await context.newPage();
	await page.exposeFunction('__cspViolation', (text) => problems.push('CSP violation: ' + text));
	await page.addInitScript(() => {
		document.addEventListener('securitypolicyviolation', (e) =>
			window.__cspViolation(e.violatedDirective + ' blocked ' + e.blockedURI + ' at ' + e.sourceFile + ':' + e.lineNumber));
	});
	page.on('console', (m) => {
		if (m.type() !== 'error')
			return;
		/* Chromium logs every refused fetch; the refusals the test provokes
		 * (401 at sign-in, 403 of a narrow key, 404 of a missing page or audit route, 409, 503)
		 * are answers, not console errors of the page's own. */
		const url = m.location().url || '';
		if (/^Failed to load resource: the server responded with a status of (401|403|404|409|503)/.test(m.text()) &&
		    url.startsWith(BASE))
			return;
		problems.push('console error: ' + m.text() + ' at ' + url);
	});
	page.on('pageerror', (e) => problems.push('page error: ' + e.message));
	let alerts = 0;
	page.on('dialog', (d) => { alerts++; d.dismiss(); });

	/* --- sign in --- */
	await page.goto(BASE + '/kill-switch');
	await page.getByLabel('API key').waitFor();
	ok(await page.locator('#kill-open').isHidden(), 'signed out: no Emergency Kill button yet');
	await axe(page, 'sign-in');
	await shoot(page, 'sign-in');
	await page.getByLabel('API key').fill('andon_0123456789abcdef_wrongwrongwrongwrongwrongwrongwrongwrong123');
	await page.getByRole('button', { name: 'Sign in' }).click();
	await page.locator('main .status.error').waitFor();
	ok(/not valid/i.test(await page.locator('main .status.error').textContent()), 'a wrong key is refused with the reason');
	await page.getByLabel('API key').fill(KEY);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await page.locator('main h1', { hasText: 'Kill switch' }).waitFor();
	const who = await page.locator('#who').textContent();
	ok(who.includes(tenant) && who.includes('admin'), 'the header names the tenant and the key', who);
	await page.locator('#ks-count', { hasText: 'Active Kill Switches' }).waitFor();
	ok(/^0 Active Kill Switches$/.test(await page.locator('#ks-count').textContent()), 'header count 0');

	/* --- kill from the Emergency Kill dialog, count and table change --- */
	await page.locator('body').press('k');
	ok(await page.locator('#kill-dialog').evaluate((d) => d.open), 'the shortcut k opens the Emergency Kill dialog');
	ok(await page.evaluate(() => document.activeElement.id) === 'kill-id', 'focus moves into the dialog');
	await page.locator('#kill-type').selectOption('run');
	await page.locator('#kill-id').fill('run-console-1');
	await page.locator('#kill-reason').fill('<b>runaway</b> loop');
	await page.locator('#kill-submit').click();
	await page.locator('#ks-count', { hasText: '1 Active Kill Switch' }).waitFor({ timeout: 10000 });
	ok(true, 'the header count becomes 1');
	const row = page.locator('main table tr', { hasText: 'run-console-1' });
	await row.waitFor();
	ok((await row.textContent()).includes('<b>runaway</b> loop'), 'the table shows the kill, its reason as text');
	ok(await page.locator('main table b').count() === 0, 'no markup from the reason');

	await page.locator('body').press('k');
	await page.locator('#kill-type').selectOption('run');
	await page.locator('#kill-id').fill('run-console-1');
	await page.locator('#kill-submit').click();
	await page.locator('#kill-status.error').waitFor();
	const conflict = await page.locator('#kill-status').textContent();
	const api409 = await rest('POST', '/api/v1/kill-switch/kill', { target_type: 'run', target_id: 'run-console-1' });
	ok(api409.status === 409 && conflict.includes(api409.data.detail) && conflict.includes('already_killed'),
	    'a second kill shows the 409 detail and code in the dialog', conflict);
	await page.keyboard.press('Escape');
	ok(!await page.locator('#kill-dialog').evaluate((d) => d.open), 'Escape closes the dialog');

	/* the check boxes: a target, and a context with an action */
	const checks = page.locator('main form.card');
	await checks.nth(0).getByLabel('Target type').selectOption('run');
	await checks.nth(0).getByLabel('Target id').fill('run-console-1');
	await checks.nth(0).getByRole('button', { name: 'Check target' }).click();
	await checks.nth(0).locator('.status', { hasText: 'KILLED' }).waitFor();
	ok((await checks.nth(0).locator('.status').textContent()).includes('<b>runaway</b> loop'),
	    'checking the target answers killed, with its reason');
	await checks.nth(1).getByLabel('Run id').fill('run-console-1');
	await checks.nth(1).getByLabel('Mission id').fill('mission-free');
	await checks.nth(1).getByLabel('Action (optional)').fill('deploy-prod');
	await checks.nth(1).getByRole('button', { name: 'Check context' }).click();
	await checks.nth(1).locator('.status', { hasText: 'KILLED' }).waitFor();
	ok(true, 'checking a context with the run answers killed');
	await checks.nth(0).getByLabel('Target id').fill('run-other');
	await checks.nth(0).getByRole('button', { name: 'Check target' }).click();
	await checks.nth(0).locator('.status', { hasText: 'Not killed' }).waitFor();
	ok(true, 'checking another target answers not killed');

	await page.getByRole('button', { name: 'Revive run run-console-1' }).click();
	await page.locator('#confirm-dialog[open]').waitFor();
	await page.locator('#confirm-ok').click();
	await page.locator('#ks-count', { hasText: '0 Active Kill Switches' }).waitFor({ timeout: 10000 });
	await page.locator('main table tr', { hasText: 'run-console-1' }).waitFor({ state: 'detached' });
	ok(true, 'revive from the row: the row goes, the count is 0');

	/* --- keyboard only: kill and revive --- */
	await page.keyboard.press('k');
	await page.keyboard.type('kb-target');
	await page.keyboard.press('Enter');
	await page.locator('main table tr', { hasText: 'kb-target' }).waitFor({ timeout: 10000 });
	ok(true, 'keyboard: k, type the id, Enter kills');
	let reached = false;
	for (let i = 0; i < 80 && !reached; i++) {
		await page.keyboard.press('Tab');
		reached = await page.evaluate(() => document.activeElement &&
		    document.activeElement.getAttribute('aria-label') === 'Revive agent kb-target');
	}
	ok(reached, 'keyboard: Tab reaches the row\'s Revive button');
	await page.keyboard.press('Enter');
	await page.locator('#confirm-dialog[open]').waitFor();
	ok(await page.evaluate(() => document.activeElement.id) === 'confirm-ok', 'keyboard: focus on the confirmation');
	await page.keyboard.press('Enter');
	await page.locator('main table tr', { hasText: 'kb-target' }).waitFor({ state: 'detached', timeout: 10000 });
	ok(true, 'keyboard: Enter revives');

	/* --- direct loads and reloads of every page; not found --- */
	for (const [name, path, heading] of PAGES) {
		const r = await visit(page, path, heading);
		ok(r.status() === 200, 'direct load of ' + path + ' answers 200 with the console');
		await page.reload();
		await page.locator('main h1').filter({ hasText: heading }).first().waitFor();
		ok(true, 'reload of ' + path + ' shows ' + heading);
	}
	const nf = await page.goto(BASE + '/no-such-page/deeper');
	await page.locator('main h1', { hasText: 'Not found' }).waitFor();
	ok(nf.status() === 404, 'an unknown path answers 404 with the not-found view');
	await axe(page, 'not-found');
	await shoot(page, 'not-found');

	/* the blocked check is an intervention, found by its action */
	await visit(page, '/interventions', 'Interventions');
	await page.locator('main').getByLabel('Action').fill('deploy-prod');
	await page.locator('main').getByRole('button', { name: 'Filter' }).click();
	await page.locator('main table tr', { hasText: 'deploy-prod' }).waitFor();
	ok((await page.locator('main table tr', { hasText: 'deploy-prod' }).textContent()).includes('hard_block'),
	    'the interventions page lists the blocked check, filtered by action');
	await page.locator('main').getByLabel('Action').fill('no-such-action');
	await page.locator('main').getByRole('button', { name: 'Filter' }).click();
	await page.locator('main table td.empty').waitFor();
	ok(true, 'a filter matching nothing shows an empty table');

	/* --- XSS probe --- */
	const probe = '<img src=x onerror=alert(1)>';
	const xss = await must('POST', '/v1/agents', { agent_type: 'bot', display_name: probe }, 201);
	await visit(page, '/agents', 'Agents');
	await page.locator('main table a', { hasText: probe }).waitFor();
	ok(await page.locator('main img').count() === 0, 'the XSS probe renders as text in the agent list');
	await visit(page, '/agents/' + xss.id, 'Agent');
	await page.locator('main h1', { hasText: probe }).waitFor();
	ok(await page.locator('main img').count() === 0, 'the XSS probe renders as text on the agent page');

	/* --- cascade kill with preview and typed confirmation --- */
	const mk = (n) => must('POST', '/v1/agents', { agent_type: 'orchestrator', display_name: n, scopes: ['tools:use'] }, 201);
	const a = await mk('chain-root'), b = await mk('chain-mid'), c = await mk('chain-leaf');
	await must('POST', `/v1/agents/${a.id}/delegations`, { delegate_agent_id: b.agent_id, scopes: ['tools:use'] }, 201);
	await must('POST', `/v1/agents/${b.id}/delegations`, { delegate_agent_id: c.agent_id, scopes: ['tools:use'] }, 201);
	await visit(page, '/agents/' + a.id, 'chain-root');
	await page.locator('main table', { hasText: b.agent_id }).waitFor();
	ok(true, 'the agent page lists its delegation');
	await axe(page, 'agent');
	await shoot(page, 'agent');
	await page.getByRole('button', { name: 'Kill…' }).click();
	const dlg = page.locator('#confirm-dialog');
	await dlg.getByLabel('Reason').fill('compromised chain');
	await dlg.getByLabel('Cascade to delegated agents').check();
	await page.locator('#confirm-ok').click();
	await page.locator('.blast li').nth(2).waitFor();
	const blast = await page.locator('.blast').textContent();
	ok([a, b, c].every((x) => blast.includes(x.agent_id)), 'the dry-run preview lists the whole chain', blast);
	ok((await rest('GET', '/v1/agents/' + a.id)).data.status === 'active', 'the preview changed nothing');
	await shoot(page, 'kill-preview');
	await page.locator('#confirm-ok').click();
	await page.locator('#confirm-status.error').waitFor();
	ok(/Type chain-root/.test(await page.locator('#confirm-status').textContent()), 'the kill needs the typed name');
	await dlg.getByLabel('Type chain-root to confirm').fill('chain-root');
	await page.locator('#confirm-ok').click();
	await page.locator('#flash', { hasText: 'Killed chain-root' }).waitFor({ timeout: 10000 });
	const statuses = await Promise.all([a, b, c].map(async (x) => (await rest('GET', '/v1/agents/' + x.id)).data.status));
	ok(statuses.every((s) => s === 'revoked'), 'every agent of the chain is revoked', statuses.join(','));
	await visit(page, '/agents?status=revoked', 'Agents');
	for (const x of [a, b, c])
		ok(await page.locator('main tr', { hasText: x.agent_id }).locator('.badge', { hasText: 'revoked' }).count() === 1,
		    'the list shows ' + x.display_name + ' revoked');

	/* --- severity-5 shutdown --- */
	await must('POST', '/api/v1/kill-switch/kill', { target_type: 'mission', target_id: 'm-esd' }, 201);
	await visit(page, '/kill-switch', 'Kill switch');
	await page.locator('main table tr', { hasText: 'm-esd' }).waitFor();
	const esd = await must('POST', '/v1/emergency-shutdown', { severity: 5, reason: 'console drill', scope: 'org' }, 201);
	await page.locator('#banner.sev-5').waitFor({ timeout: 12000 });
	ok((await page.locator('#banner').textContent()).includes('console drill'), 'the banner names the reason (poll)');
	await page.getByRole('button', { name: 'Revive mission m-esd' }).click();
	await page.locator('#confirm-ok').click();
	await page.locator('#confirm-status.error').waitFor();
	const refused = await page.locator('#confirm-status').textContent();
	const api503 = await rest('POST', '/api/v1/kill-switch/revive', { target_type: 'mission', target_id: 'm-esd' });
	ok(api503.status === 503 && refused.includes(api503.data.detail) && /emergency shutdown/i.test(refused),
	    'a revive is refused with the 503 detail', refused);
	await page.keyboard.press('Escape');
	await page.keyboard.press('k');
	await page.locator('#kill-id').fill('run-during-esd');
	await page.locator('#kill-submit').click();
	await page.locator('#flash', { hasText: 'Killed agent run-during-esd' }).waitFor({ timeout: 10000 });
	ok(true, 'a kill still works during the shutdown');
	for (const [name, path, heading] of PAGES) {
		await visit(page, path, heading);
		await page.locator('#banner.sev-5').waitFor();
		ok(true, 'the banner shows on ' + path);
		await axe(page, name + ' (shutdown)');
		await shoot(page, name + '-shutdown');
	}
	await visit(page, '/kill-switch', 'Kill switch');
	await page.locator('main .status.error').first().waitFor();
	ok(/emergency shutdown/i.test(await page.locator('main .status.error').first().textContent()),
	    'a page refused by the shutdown says why');
	await visit(page, '/emergency', 'Emergency shutdown');
	await page.getByRole('button', { name: 'Resolve ' + esd.shutdown_id }).click();
	await page.locator('#confirm-ok').click();
	await page.locator('#banner').waitFor({ state: 'hidden', timeout: 10000 });
	ok(true, 'resolving clears the banner');

	/* activation from the console, typed confirmation at severity 5 */
	await page.locator('main').getByLabel('Severity').selectOption('5');
	await page.locator('main').getByLabel('Reason').fill('drill from the console');
	await page.getByRole('button', { name: 'Activate shutdown…' }).click();
	await page.locator('#confirm-ok').click();
	await page.locator('#confirm-status.error').waitFor();
	ok(/Type Critical/.test(await page.locator('#confirm-status').textContent()), 'severity 5 needs the label typed');
	await page.locator('#confirm-dialog').getByLabel('Type Critical to confirm').fill('Critical');
	await page.locator('#confirm-ok').click();
	await page.locator('#banner.sev-5', { hasText: 'drill from the console' }).waitFor({ timeout: 10000 });
	ok(true, 'activating from the console shows the banner');
	const act = (await must('GET', '/v1/emergency-shutdown', undefined, 200)).active_shutdowns;
	await page.getByRole('button', { name: 'Resolve ' + act[0].shutdown_id }).click();
	await page.locator('#confirm-ok').click();
	await page.locator('#banner').waitFor({ state: 'hidden', timeout: 10000 });
	ok(true, 'and resolving it clears the banner');

	/* --- receipts verified in the browser --- */
	const victim = await mk('receipt-holder');
	const killed = await must('POST', `/v1/agents/${victim.id}/kill`, { reason: 'Drained €3k — über limit' }, 200);
	await visit(page, '/audit?receipt=' + killed.receipt_id, 'Audit');
	await page.locator('main .status.ok', { hasText: 'Verified' }).waitFor({ timeout: 10000 });
	ok(true, 'a receipt verifies in the browser');
	await shoot(page, 'audit-verified');
	const tamper = async (fn, want, desc) => {
		await page.route('**/v1/transparency/receipts/**', async (route) => {
			const resp = await route.fetch();
			const body = await resp.json();
			fn(body);
			await route.fulfill({ response: resp, json: body });
		});
		await visit(page, '/audit?receipt=' + killed.receipt_id, 'Audit');
		await page.locator('main .status.error', { hasText: 'Not verified' }).waitFor({ timeout: 10000 });
		const text = await page.locator('main .status.error', { hasText: 'Not verified' }).textContent();
		ok(text.includes(want), desc, text);
		await page.unroute('**/v1/transparency/receipts/**');
	};
	await tamper((r) => { r.event.reason = 'nothing happened'; }, 'altered', 'a tampered event is refused');
	await tamper((r) => {
		const p = r.inclusion_proof.length ? r.inclusion_proof : null;
		if (p)
			p[0] = btoa(String.fromCharCode(...new Uint8Array(32).fill(7)));
		else
			r.sth.root_hash = btoa(String.fromCharCode(...new Uint8Array(32).fill(7)));
	}, 'inclusion proof', 'a tampered proof is refused');
	await tamper((r) => {
		const s = atob(r.sth.signature).split('').map((ch) => ch.charCodeAt(0));
		s[0] ^= 1;
		r.sth.signature = btoa(String.fromCharCode(...s));
	}, 'signature', 'a tampered tree head signature is refused');

	/* the audit events list, from the real GET /v1/audit/events; the
	 * newest event is the kill above, whose reason is non-ASCII */
	const events = await rest('GET', '/v1/audit/events?limit=5');
	ok(events.status === 200 && events.data.count > 0, 'GET /v1/audit/events lists events', JSON.stringify(events.data).slice(0, 200));
	await visit(page, '/audit', 'Audit');
	await page.locator('main table tbody tr').first().waitFor();
	ok(await page.locator('main script, main i').count() === 0, 'audit events render as text');
	await page.locator('main table tbody tr').first().getByRole('button').click();
	await page.locator('.detail h3').waitFor();
	ok(true, 'an event\'s detail opens');
	const vbtn = page.locator('.detail button', { hasText: 'Verify receipt' });
	await vbtn.click();
	await page.locator('.detail .status.ok', { hasText: 'Verified' }).waitFor({ timeout: 10000 });
	ok(true, 'the event\'s receipt verifies from its detail');
	await shoot(page, 'audit-events');

	/* --- axe and screenshots of every page in the normal state --- */
	for (const [name, path, heading] of PAGES) {
		await visit(page, path, heading);
		await axe(page, name);
		await shoot(page, name);
	}
	await page.locator('body').press('k');
	await shoot(page, 'kill-dialog');
	await page.keyboard.press('Escape');

	/* --- suspend and reactivate from the agent page --- */
	const sus = await mk('suspend-me');
	await visit(page, '/agents/' + sus.id, 'suspend-me');
	await page.getByRole('button', { name: 'Suspend…' }).click();
	await page.locator('#confirm-ok').click();
	await page.locator('#confirm-status.error', { hasText: 'Give a reason' }).waitFor();
	ok(true, 'a suspend needs a reason');
	await page.locator('#confirm-dialog').getByLabel('Reason').fill('looks odd');
	await page.keyboard.press('Enter');
	await page.locator('#flash', { hasText: 'Suspended suspend-me' }).waitFor({ timeout: 10000 });
	ok((await rest('GET', '/v1/agents/' + sus.id)).data.status === 'suspended', 'suspend from the console (Enter submits)');
	await page.locator('main .badge', { hasText: 'suspended' }).waitFor();
	await page.getByRole('button', { name: 'Reactivate…' }).click();
	await page.locator('#confirm-ok').click();
	await page.locator('#flash', { hasText: 'Reactivated suspend-me' }).waitFor({ timeout: 10000 });
	ok((await rest('GET', '/v1/agents/' + sus.id)).data.status === 'active', 'reactivate from the console');

	/* --- a network failure is said as such --- */
	await visit(page, '/kill-switch', 'Kill switch');
	await page.route('**/api/v1/kill-switch/check?**', (route) => route.abort('connectionrefused'));
	await page.locator('main form.card').nth(0).getByLabel('Target id').fill('anything');
	await page.locator('main form.card').nth(0).getByRole('button', { name: 'Check target' }).click();
	await page.locator('main .status.error', { hasText: 'Network failure' }).waitFor();
	ok(true, 'a network failure is said as such');
	await page.unroute('**/api/v1/kill-switch/check?**');
	/* the aborted fetch logs a net:: error of its own: not the page's */
	for (let i = problems.length - 1; i >= 0; i--)
		if (/ERR_CONNECTION_REFUSED|ERR_FAILED/.test(problems[i]) && problems[i].includes('/api/v1/kill-switch/check'))
			problems.splice(i, 1);

	/* --- dark colour scheme: axe and screenshots --- */
	await page.emulateMedia({ colorScheme: 'dark' });
	for (const [name, path, heading] of PAGES) {
		await visit(page, path, heading);
		await axe(page, name + ' (dark)');
		await shoot(page, name + '-dark');
	}
	await page.emulateMedia({ colorScheme: 'light' });

	/* --- sign-out forgets the key --- */
	await page.getByRole('button', { name: 'Sign out' }).click();
	await page.getByLabel('API key').waitFor();
	ok(await page.evaluate(() => sessionStorage.length) === 0, 'sign-out forgets the key');

	/* --- a key without killswitch:write: the 403 names the scope --- */
	const narrow = await must('POST', '/v1/api-keys', { name: 'watcher', scopes: ['killswitch:check', 'shutdown:read'] }, 201);
	await page.getByLabel('API key').fill(narrow.key);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await page.locator('#who', { hasText: 'watcher' }).waitFor();
	await page.locator('#nav').getByRole('link', { name: 'Kill switch' }).click();
	await page.locator('main h1', { hasText: 'Kill switch' }).waitFor();
	ok(await page.evaluate(() => location.pathname) === '/kill-switch', 'the nav moves between pages without a reload');
	await page.keyboard.press('k');
	await page.locator('#kill-id').fill('forbidden-target');
	await page.keyboard.press('Enter');
	await page.locator('#kill-status.error').waitFor();
	ok(/killswitch:write/.test(await page.locator('#kill-status').textContent()), 'a 403 says which scope is missing',
	    await page.locator('#kill-status').textContent());
	await page.keyboard.press('Escape');

	/* --- the key revoked mid-session: back to sign-in with the reason --- */
	await must('DELETE', '/v1/api-keys/' + narrow.id, undefined, 200);
	await page.locator('main form.card').nth(0).getByLabel('Target id').fill('anything');
	await page.locator('main form.card').nth(0).getByRole('button', { name: 'Check target' }).click();
	await page.getByLabel('API key').waitFor({ timeout: 10000 });
	await page.locator('main .status.error', { hasText: 'Signed out' }).waitFor();
	ok(await page.evaluate(() => sessionStorage.length) === 0, 'a 401 returns to sign-in with the reason');

	ok(alerts === 0, 'no script dialog ever opened (XSS)', alerts + ' dialogs');
	ok(problems.length === 0, 'no console error, page error or CSP violation', problems.join(' | '));
	await browser.close();
}

main().then(() => process.exit(failed ? 1 : 0), (e) => {
	console.log('not ok - the run stopped: ' + String(e && e.stack || e).replace(/\s+/g, ' ').slice(0, 600));
	if (problems.length)
		console.log('# problems so far: ' + problems.join(' | '));
	process.exit(1);
});
