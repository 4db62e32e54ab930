/*
 * dom.js - building the page from API data without ever parsing it as
 * HTML: every value becomes a text node (textContent), never markup.
 */

/* h('td', {class: 'x'}, 'text', node, [more]) -> element.  Attributes
 * named on* become listeners; true is a bare attribute; null/false skip. */
export function h(tag, attrs, ...kids) {
	const el = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === null || v === undefined || v === false)
			continue;
		if (k.startsWith('on') && typeof v === 'function')
			el.addEventListener(k.slice(2), v);
		else if (k === 'class')
			el.className = v;
		else
			el.setAttribute(k, v === true ? '' : String(v));
	}
	add(el, kids);
	return el;
}

function add(el, kids) {
	for (const kid of kids) {
		if (kid === null || kid === undefined || kid === false)
			continue;
		if (Array.isArray(kid))
			add(el, kid);
		else
			el.append(kid instanceof Node ? kid : String(kid));
	}
}

/* Replaces the children of el. */
export function fill(el, ...kids) {
	el.replaceChildren();
	add(el, kids);
	return el;
}

/* "2026-04-18 17:00:00 UTC" from RFC 3339; the raw text when unparsable. */
export function when(text) {
	if (!text)
		return '';
	const d = new Date(text);
	if (Number.isNaN(d.getTime()))
		return String(text);
	return d.toISOString().replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');
}

/* "3 min ago" from RFC 3339. */
export function age(text) {
	const t = new Date(text).getTime();
	if (Number.isNaN(t))
		return '';
	let s = Math.max(0, Math.round((Date.now() - t) / 1000));
	if (s < 60)
		return s + ' s ago';
	if ((s = Math.floor(s / 60)) < 60)
		return s + ' min ago';
	if ((s = Math.floor(s / 60)) < 48)
		return s + ' h ago';
	return Math.floor(s / 24) + ' d ago';
}

/* A <time> with the absolute UTC time and the age as its title. */
export function timeCell(text) {
	return h('time', { datetime: text || null, title: text ? age(text) : null }, when(text));
}

/* A table: headers, rows of cells (each a node, text or array). */
export function table(caption, headers, rows) {
	return h('div', { class: 'table-wrap' },
		h('table', {},
			h('caption', {}, caption),
			h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))),
			h('tbody', {}, rows.length ? rows.map((r) => h('tr', {}, r.map((c, i) => h('td', { 'data-label': headers[i] }, c))))
				: h('tr', {}, h('td', { colspan: headers.length, class: 'empty' }, 'None.')))));
}

/* A labelled control: label text, then the control; returns the wrapper. */
export function field(text, control, hint) {
	const id = control.id || (control.id = 'f-' + Math.random().toString(36).slice(2, 10));
	return h('div', { class: 'field' }, h('label', { for: id }, text), control,
		hint ? h('small', {}, hint) : null);
}

/* A <select> of [value, text] pairs. */
export function select(name, options, value) {
	return h('select', { name },
		options.map(([v, t]) => h('option', { value: v, selected: v === value }, t)));
}

/* A live status line: shows an error (role=alert) or a message. */
export function status() {
	return h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
}

export function say(el, text, kind) {
	el.className = 'status' + (kind ? ' ' + kind : '');
	el.setAttribute('role', kind === 'error' ? 'alert' : 'status');
	el.textContent = text;
}
