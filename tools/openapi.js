#!/usr/bin/env node
// openapi.js - writes www/openapi.json, the OpenAPI 3.1 description of every
// route of cgi-bin/*.c (their route and field tables) and of API.md.
//
//   node tools/openapi.js > www/openapi.json
//
// The document is written from this script so that the dozens of
// operations share one spelling of the common answers; the committed
// www/openapi.json is what is served and shipped, and t0950 fails when it
// is not this script's output.  Change a route, a field table or a problem
// code in C and this file changes with it: t0950 validates every response
// the integration tests receive against the document.
'use strict';

// Bodies: field tables of cgi-bin/*.c.  FIELD_PRINTABLE is a string
// without control characters; FIELD_NULLABLE accepts null or absence.
// FIELD_NONEMPTY is a string that is not blank (only white space).
const PRINTABLE = '^[^\\u0000-\\u001f\\u007f]*$';
const NONBLANK = '\\S';
const PRINTABLE_NONBLANK = '^[^\\u0000-\\u001f\\u007f]*[^\\s\\u0000-\\u001f\\u007f][^\\u0000-\\u001f\\u007f]*$';
// FIELD_STRING_ARRAY items: 1 to 256 printable characters.
const ITEM = { type: 'string', minLength: 1, maxLength: 256, pattern: PRINTABLE };

function str(max, o = {}) {
	const s = { type: 'string' };
	if (o.min) s.minLength = o.min;
	if (max) s.maxLength = max;
	if (o.printable || o.min)
		s.pattern = o.printable ? (o.min ? PRINTABLE_NONBLANK : PRINTABLE) : NONBLANK;
	if (o.enum) s.enum = o.enum;
	if (o.format) s.format = o.format;
	if (o.description) s.description = o.description;
	return o.nullable ? { type: [s.type, 'null'], ...without(s, 'type'), ...(s.enum ? { enum: [...s.enum, null] } : {}) } : s;
}

function without(o, key) {
	const c = { ...o };
	delete c[key];
	return c;
}

function int(min, max, o = {}) {
	const s = { type: o.nullable ? ['integer', 'null'] : 'integer' };
	if (min !== undefined) s.minimum = min;
	if (max !== undefined) s.maximum = max;
	if (o.description) s.description = o.description;
	return s;
}

function bool(o = {}) {
	const s = { type: o.nullable ? ['boolean', 'null'] : 'boolean' };
	if (o.description) s.description = o.description;
	return s;
}

function strings(maxItems, item = ITEM, o = {}) {
	const s = { type: o.nullable ? ['array', 'null'] : 'array', items: item, maxItems };
	if (o.description) s.description = o.description;
	return s;
}

function ref(name) {
	return { $ref: `#/components/schemas/${name}` };
}

// A request body: additionalProperties false (an unknown field is a 400
// naming it), required as the field table says.
function body(properties, required = [], o = {}) {
	const s = { type: 'object', additionalProperties: false, properties };
	if (required.length) s.required = required;
	if (o.minProperties) s.minProperties = o.minProperties;
	if (o.description) s.description = o.description;
	return s;
}

// A response object: the fields the contract names are required and typed;
// more may come (clients ignore what they do not know).
function obj(properties, required = [], o = {}) {
	const s = { type: 'object', properties };
	if (required.length) s.required = required;
	if (o.description) s.description = o.description;
	return s;
}

const TS = { type: 'string', format: 'date-time', description: 'RFC 3339 in UTC with Z' };
const TSN = { type: ['string', 'null'], format: 'date-time' };
const SN = { type: ['string', 'null'] };
const AGENT_TYPES = ['orchestrator', 'worker', 'inference', 'pipeline', 'service', 'bot', 'llm'];
const TARGET_TYPES = ['agent', 'run', 'mission'];
const SCOPES = ['agents:read', 'agents:write', 'agents:suspend', 'agents:kill',
	'killswitch:check', 'killswitch:write', 'shutdown:read', 'shutdown:write',
	'audit:read', 'webhooks:write', 'keys:admin', 'platform:admin'];
const METADATA_MAX = 16384;

// Every problem code the code emits (lib/*.c, cgi-bin/*.c), by status.
const CODES = {
	400: ['invalid_json', 'invalid_utf8', 'empty_body', 'unknown_field', 'missing_field',
		'invalid_type', 'invalid_field', 'empty_field', 'field_too_long', 'invalid_query',
		'bad_path', 'body_not_allowed', 'conflicting_credentials', 'missing_tenant',
		'invalid_idempotency_key', 'scopes_immutable', 'scopes_not_held',
		'self_delegation', 'invalid_url', 'unsafe_destination'],
	401: ['unauthorized'],
	403: ['insufficient_scope', 'tenant_mismatch', 'scope_escalation'],
	404: ['not_found', 'not_killed'],
	405: ['method_not_allowed'],
	409: ['already_killed', 'already_revoked', 'already_suspended', 'already_resolved',
		'already_terminated', 'already_finalized', 'agent_revoked', 'agent_suspended',
		'receipt_voided', 'kill_switch_active', 'webhook_disabled', 'delivery_pending'],
	413: ['body_too_large'],
	422: ['idempotency_key_reused'],
	429: ['rate_limited'],
	500: ['internal'],
	503: ['emergency_shutdown', 'gate_unavailable', 'key_verification_busy',
		'secrets_unavailable', 'unhealthy', 'storage_full', 'no_master',
		'not_replicated', 'internal'],
	// replication on, a write reaching a replica (README, "High availability")
	307: ['not_master'],
};
// The web servers' own error pages on the API's paths (conf/errors/NNN.html,
// each a problem+json document: issue 16 defect 1): any route may meet one.
const SERVER_ERRORS = require('fs').readdirSync(require('path').join(__dirname, '..', 'conf', 'errors'))
	.filter((f) => /^\d{3}\.html$/.test(f)).sort()
	.map((f) => JSON.parse(require('fs').readFileSync(require('path').join(__dirname, '..', 'conf', 'errors', f), 'utf8')));
const SERVER_CODES = [...new Set(SERVER_ERRORS.map((e) => e.code))].sort();
const ALL_CODES = [...new Set(Object.values(CODES).flat().concat(SERVER_CODES))].sort();

const schemas = {
	Problem: obj({
		type: { type: 'string', description: 'always about:blank' },
		title: { type: 'string', description: 'the HTTP reason phrase' },
		status: int(300, 599, { description: 'an error status, or 307 (not_master)' }),
		detail: { type: 'string', description: 'what went wrong, for a person; always present' },
		code: { type: 'string', enum: ALL_CODES, description: 'a stable machine word' },
		field: { type: 'string', description: 'the body field or query parameter at fault, when one is' },
		shutdown_id: { type: 'string', description: 'emergency_shutdown only' },
		severity: int(4, 5, { description: 'emergency_shutdown only' }),
		reason: { type: 'string', description: 'emergency_shutdown only' },
	}, ['type', 'title', 'status', 'detail', 'code'], {
		description: 'RFC 9457 problem details (application/problem+json). Codes by status: ' +
			Object.entries(CODES).map(([s, c]) => `${s}: ${c.join(', ')}`).join('; ') + '.',
	}),
	EmergencyWarning: obj({
		shutdown_id: { type: 'string' },
		severity: { const: 3 },
		reason: { type: 'string' },
	}, ['shutdown_id', 'severity', 'reason'], {
		description: 'Added to every JSON body while a severity-3 shutdown covers the caller (with the X-Emergency-Warning header).',
	}),
	AgentKey: obj({
		kid: { type: 'string' }, algorithm: { type: 'string' },
		public_key: { type: 'string' }, status: { type: 'string' },
	}, ['kid', 'algorithm', 'public_key', 'status']),
	Agent: obj({
		id: { type: 'string', format: 'uuid' },
		agent_id: { type: 'string', pattern: '^maip:', description: 'maip:<tenant>:<ULID>' },
		agent_type: { type: 'string', enum: AGENT_TYPES },
		display_name: { type: 'string', maxLength: 256 },
		description: { type: 'string', maxLength: 2048 },
		status: { type: 'string', enum: ['active', 'suspended', 'revoked'] },
		scopes: { type: 'array', items: { type: 'string' } },
		metadata: { type: 'object' },
		trust_score: { type: 'number', minimum: 0, maximum: 1 },
		public_key: SN,
		session_count: int(0),
		keys: { type: 'array', items: ref('AgentKey') },
		created_at: TS, updated_at: TS,
		suspended_reason: SN, revoked_at: TSN, revoked_reason: SN,
		emergency_warning: ref('EmergencyWarning'),
	}, ['id', 'agent_id', 'agent_type', 'display_name', 'description', 'status', 'scopes',
		'metadata', 'trust_score', 'public_key', 'session_count', 'keys', 'created_at',
		'updated_at']),
	StopResult: obj({
		agent: ref('Agent'),
		agent_id: { type: 'string' },
		agent_status: { type: 'string', enum: ['active', 'suspended', 'revoked'] },
		terminated_sessions: int(0), sessions_terminated: int(0),
		receipts_voided: int(0, undefined, { description: 'kill only' }),
		reason: { type: 'string' },
		operator_id: { type: 'string' },
		receipt_id: { type: 'string', description: 'the transparency-log receipt of the stop (not on a dry run)' },
		killed_at: TS, revoked_at: TS,
		cascaded: { type: 'array', items: { type: 'string' }, description: 'kill only: the other agents revoked by the cascade' },
		dry_run: { const: true },
		agents: { type: 'array', items: { type: 'string' }, description: 'dry run: every agent that would be revoked' },
		emergency_warning: ref('EmergencyWarning'),
	}, ['agent', 'agent_id', 'agent_status', 'terminated_sessions', 'sessions_terminated',
		'reason', 'operator_id']),
	Session: obj({
		id: { type: 'string', pattern: '^ses_' },
		agent_id: { type: 'string' },
		agent: { type: 'string' },
		status: { type: 'string' },
		scopes: { type: 'array', items: { type: 'string' } },
		created_at: TS, expires_at: TS,
		iat: int(0), exp: int(0),
		token: { type: ['string', 'null'], description: 'shown once, at creation; null in an Idempotency-Key replay of it' },
	}, ['id', 'agent_id', 'status', 'scopes', 'created_at', 'expires_at']),
	Introspection: obj({
		active: { type: 'boolean' },
		scope: { type: 'string' }, agent_id: { type: 'string' }, sub: { type: 'string' },
		client_id: { type: 'string' }, exp: int(0), iat: int(0),
		token_type: { type: 'string' }, jti: { type: 'string' },
		emergency_warning: ref('EmergencyWarning'),
	}, ['active'], { description: 'RFC 7662: only {"active": false} when the token is not active' }),
	Receipt: obj({
		id: { type: 'string', pattern: '^arc_' },
		agent_id: { type: 'string' }, agent: { type: 'string' },
		action: { type: 'string' },
		payload: { type: ['object', 'null'] },
		payload_sha256: { type: 'string' },
		status: { type: 'string', enum: ['pending', 'finalized', 'voided'] },
		created_at: TS, finalized_at: TSN,
		transparency_receipt_id: SN,
	}, ['id', 'agent_id', 'action', 'status', 'created_at']),
	Delegation: obj({
		id: { type: 'string', pattern: '^dlg_' },
		delegator_agent_id: { type: 'string' }, delegator_id: { type: 'string' },
		delegate_agent_id: { type: 'string' }, delegate_id: { type: 'string' },
		scopes: { type: 'array', items: { type: 'string' } },
		status: { type: 'string' },
		created_at: TS,
	}, ['id', 'delegator_agent_id', 'delegate_agent_id', 'scopes', 'created_at']),
	KeptKill: obj({
		id: { type: 'string', pattern: '^lks_[0-9a-f]{32}$' },
		organization_id: { type: 'string' },
		key_id: { type: 'string' },
		target_type: { type: 'string', enum: TARGET_TYPES },
		target_id: { type: 'string' },
		reason: SN,
		idempotency_key: SN,
		fingerprint: SN,
		killed_at: TS,
		status: { const: 'pending' },
	}, ['id', 'organization_id', 'target_type', 'target_id', 'killed_at', 'status'], {
		description: 'A kill kept on a site while no master could be elected (replication).',
	}),
	KillSwitch: obj({
		id: { type: 'string', format: 'uuid' },
		target_type: { type: 'string', enum: TARGET_TYPES },
		target_id: { type: 'string', minLength: 1, maxLength: 256 },
		reason: SN,
		is_active: { type: 'boolean' },
		killed_by: { type: 'string' },
		killed_at: TS,
		revived_by: SN,
		revived_at: TSN,
		organization_id: { type: 'string' },
		receipt_id: { type: 'string' },
		emergency_warning: ref('EmergencyWarning'),
	}, ['id', 'target_type', 'target_id', 'reason', 'is_active', 'killed_by', 'killed_at',
		'revived_by', 'revived_at', 'organization_id'], { description: 'KillSwitchPublic' }),
	CheckResult: obj({
		is_killed: { type: 'boolean' },
		target_type: { type: 'string', enum: TARGET_TYPES },
		target_id: { type: 'string' },
		reason: SN,
		killed_at: TSN,
		kill_switch_id: SN,
		killed_by: SN,
		source: { type: 'string', enum: ['kill_switch', 'agent_status', 'local_stop'], description: 'local_stop: a kill kept on this site while no master could be elected (replication)' },
		agent_status: { type: 'string', enum: ['suspended', 'revoked'] },
		emergency_warning: ref('EmergencyWarning'),
	}, ['is_killed', 'target_type', 'target_id', 'reason', 'killed_at']),
	Intervention: obj({
		id: { type: 'string', pattern: '^int_' },
		type: { type: 'string' }, outcome: { type: 'string' },
		action_name: SN, agent_id: SN, run_id: SN, mission_id: SN,
		reason: SN, killed_by: SN, kill_switch_id: SN,
		count: int(1),
		first_seen: TS, timestamp: TS,
		organization_id: { type: 'string' },
	}, ['id', 'type', 'outcome', 'action_name', 'agent_id', 'run_id', 'mission_id',
		'reason', 'killed_by', 'kill_switch_id', 'count', 'first_seen', 'timestamp',
		'organization_id']),
	InterventionIn: body({
		id: str(64, { nullable: true, description: 'ignored: the server names the record' }),
		type: str(64, { min: 1, printable: true, description: 'hard_block, soft_block, warning or rate_limited (any case; stored in lower case; another word is a 400)' }),
		outcome: str(64, { min: 1, printable: true, description: 'blocked, allowed, escalated, approved or denied (any case; stored in lower case; another word is a 400)' }),
		action_name: str(256, { nullable: true, printable: true }),
		agent_id: str(256, { nullable: true, printable: true }),
		run_id: str(256, { nullable: true, printable: true }),
		mission_id: str(256, { nullable: true, printable: true }),
		reason: str(2000, { nullable: true }),
		killed_by: str(256, { nullable: true, printable: true }),
		kill_switch_id: str(64, { nullable: true, printable: true }),
		count: int(1, 1e9, { nullable: true }),
		first_seen: str(40, { nullable: true, description: 'RFC 3339; never after timestamp (a missing one is the other; both missing: now)' }),
		timestamp: str(40, { nullable: true, description: 'RFC 3339' }),
		organization_id: str(64, { nullable: true, description: "when given, the caller's organization" }),
	}, ['type', 'outcome']),
	Shutdown: obj({
		id: { type: 'string', pattern: '^esd_' },
		shutdown_id: { type: 'string', pattern: '^esd_' },
		severity: int(1, 5),
		severity_label: { type: 'string', enum: ['Minor', 'Moderate', 'Major', 'Severe', 'Critical'] },
		status: { type: 'string', enum: ['activated', 'resolved'] },
		scope: { type: 'string', enum: ['org', 'key', 'all'] },
		reason: { type: 'string' },
		key_id: SN,
		activated_at: TS,
		activated_by: { type: 'string', description: 'the activating key prefix' },
		message: { type: 'string' },
		organization_id: { type: 'string' },
		affected_scope: obj({
			org_id: { type: 'string' }, scope: { type: 'string' }, key_id: { type: 'string' },
		}, ['org_id', 'scope']),
		resolved_at: TSN, resolved_by: SN, resolution_reason: SN,
		emergency_warning: ref('EmergencyWarning'),
	}, ['id', 'shutdown_id', 'severity', 'severity_label', 'status', 'scope', 'reason',
		'message', 'activated_at'], {
		description: 'A tenant other than the activating one (a scope "all" shutdown) is shown only id, shutdown_id, severity, severity_label, status, scope, reason, message, activated_at and resolved_at: never the organization, its keys or its resolution note.',
	}),
	OwnShutdown: {
		description: 'A shutdown as the activating tenant sees it.',
		allOf: [ref('Shutdown')],
		required: ['activated_by', 'organization_id', 'affected_scope'],
	},
	ApiKey: obj({
		id: { type: 'string', pattern: '^key_' },
		tenant: { type: 'string' },
		name: { type: 'string' },
		prefix: { type: 'string' },
		scopes: { type: 'array', items: { type: 'string' } },
		created_at: TS, expires_at: TSN, last_used_at: TSN, revoked_at: TSN,
		created_by: { type: 'string' },
		key: { type: ['string', 'null'], description: 'the secret: only in the 201 of its creation; null in an Idempotency-Key replay of it' },
		effective_scopes: { type: 'array', items: { type: 'string', enum: SCOPES }, description: '/self only: "*" spelled out' },
		emergency_warning: ref('EmergencyWarning'),
	}, ['id', 'name', 'prefix', 'scopes', 'created_at'], {
		description: 'An API key record; never its hash.',
	}),
	Health: obj({
		status: { const: 'ok' }, database: { const: 'ok' },
		replication: obj({
			role: { type: 'string', enum: ['master', 'replica'] },
			master: { type: 'string', description: "the master's base URL" },
			lag_bytes: { type: ['integer', 'null'], minimum: 0 },
			lag_seconds: { type: ['number', 'null'], minimum: 0, description: 'how far this site is behind its master (0 on the master); null when the master has not answered for 3 s' },
		}, ['role', 'master', 'lag_bytes', 'lag_seconds'], {
			description: 'With replication on only.',
		}),
	}, ['status', 'database']),
	AuditEvent: obj({
		id: { type: 'string', pattern: '^evt_' },
		seq: int(1),
		type: { type: 'string' },
		tenant: { type: 'string' },
		actor: obj({ key_id: SN, key_name: SN, operator_id: SN }, ['key_id', 'key_name', 'operator_id']),
		target: obj({ type: SN, id: SN }, ['type', 'id']),
		reason: SN,
		data: {},
		at: TS,
		prev_hash: { type: 'string' },
		hash: { type: 'string' },
		receipt_id: { type: 'string' },
		canon: { type: 'string' },
	}, ['id', 'seq', 'type', 'tenant', 'actor', 'target', 'reason', 'at', 'prev_hash', 'hash']),
	SignedTreeHead: obj({
		tree_size: int(0), timestamp: int(0), timestamp_rfc3339: TS,
		root_hash: { type: 'string', contentEncoding: 'base64' },
		signature: { type: 'string', contentEncoding: 'base64' },
		public_key: { type: 'string', contentEncoding: 'base64' },
		emergency_warning: ref('EmergencyWarning'),
	}, ['tree_size', 'timestamp', 'root_hash', 'signature', 'public_key']),
	TransparencyReceipt: obj({
		receipt_id: { type: 'string' },
		leaf_index: int(0), tree_size: int(1),
		leaf_hash: { type: 'string' },
		event: ref('AuditEvent'),
		inclusion_proof: { type: 'array', items: { type: 'string' } },
		sth: ref('SignedTreeHead'),
		public_key: { type: 'string' },
	}, ['receipt_id', 'leaf_index', 'tree_size', 'leaf_hash', 'event', 'inclusion_proof', 'sth', 'public_key']),
	Consistency: obj({
		first: int(1), second: int(1), proof: { type: 'array', items: { type: 'string' } },
	}, ['first', 'second', 'proof']),
	LogKey: obj({ algorithm: { const: 'ed25519' }, public_key: { type: 'string' } }, ['algorithm', 'public_key']),
	Webhook: obj({
		id: { type: 'string', pattern: '^wh_' },
		url: { type: 'string' },
		events: { type: 'array', items: { type: 'string' } },
		description: SN,
		enabled: { type: 'boolean' },
		created_at: TS, updated_at: TS,
		failing_since: TSN,
		secret: { type: ['string', 'null'], pattern: '^whsec_', description: 'only in the answer that made it; null in an Idempotency-Key replay of it' },
		emergency_warning: ref('EmergencyWarning'),
	}, ['id', 'url', 'events', 'enabled', 'created_at', 'updated_at']),
	Delivery: obj({
		id: { type: 'string', pattern: '^dlv_' },
		webhook_id: { type: 'string' },
		event_id: { type: 'string' },
		event_seq: int(1),
		type: { type: 'string' },
		state: { type: 'string', enum: ['pending', 'delivered', 'dead'] },
		attempts: { type: 'array', items: { type: 'object' } },
		attempt_count: int(0),
		created_at: TS,
		emergency_warning: ref('EmergencyWarning'),
	}, ['id', 'webhook_id', 'event_id', 'type', 'state', 'attempts']),
	Queued: obj({
		status: { const: 'queued' }, receipt_id: { type: 'string' },
		emergency_warning: ref('EmergencyWarning'),
	}, ['status', 'receipt_id']),
};

// {data: [item], count}: a page of a list (API.md section 2).
function page(item, key = 'data') {
	return obj({ [key]: { type: 'array', items: ref(item) }, count: int(0, undefined, { description: 'every match, not the page size' }), emergency_warning: ref('EmergencyWarning') }, [key, 'count']);
}
schemas.AgentList = page('Agent');
schemas.SessionList = page('Session');
schemas.ReceiptList = page('Receipt');
schemas.DelegationList = page('Delegation');
schemas.KillSwitchList = page('KillSwitch');
schemas.InterventionList = page('Intervention', 'interventions');
schemas.ShutdownList = page('Shutdown', 'active_shutdowns');
schemas.ApiKeyList = page('ApiKey');
schemas.AuditEventList = page('AuditEvent');
schemas.WebhookList = page('Webhook');
schemas.DeliveryList = page('Delivery');

// Common answers.
const H = (description, schema = { type: 'string' }) => ({ description, schema });
const headers = {
	'X-Request-Id': H('Echoes a sane incoming X-Request-Id, else a new one; on every response.'),
	'X-Emergency-Warning': H('While a severity-3 emergency shutdown covers the caller: "esd_…; severity=3" (the JSON body carries emergency_warning too).'),
	'Retry-After': H('Seconds to wait before retrying.', { type: 'integer' }),
	'WWW-Authenticate': H('Bearer realm="andon", error="invalid_token"'),
	'Location': H('The master\'s base URL with the same path and query.'),
};

function problem(description, extraHeaders = []) {
	const r = { description, content: { 'application/problem+json': { schema: ref('Problem') } } };
	r.headers = { 'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' } };
	for (const h of extraHeaders)
		r.headers[h] = { $ref: `#/components/headers/${h}` };
	return r;
}

const responses = {
	BadRequest: problem('Bad request: ' + CODES[400].join(', ') + '.'),
	Unauthorized: problem('No credential, or a wrong, expired or revoked one (unauthorized).', ['WWW-Authenticate']),
	Forbidden: problem('Valid key lacking the scope (insufficient_scope), X-Tenant-ID of another tenant (tenant_mismatch), or a key granting what it does not hold (scope_escalation).'),
	NotFound: problem('No such record in the caller\'s tenant (a foreign id is 404, never 403).'),
	Conflict: problem('The record is not in a state that allows this: ' + CODES[409].join(', ') + '.'),
	TooLarge: problem('The body is larger than max_body (default 64 KiB).'),
	IdempotencyReused: problem('The Idempotency-Key was used with a different body.'),
	RateLimited: problem('Over the key\'s rate limit.', ['Retry-After']),
	Internal: problem('The request could not be completed (never a stack, path or database message).'),
	Unavailable: problem('emergency_shutdown (severity 4-5 covering the caller; shutdown_id, severity and reason in the body), gate_unavailable (the gate could not be read: fail closed), key_verification_busy, secrets_unavailable, storage_full (the data directory is full: the write was not acknowledged; retry it, with the same Idempotency-Key, once space is freed), no_master (replication: no site is the master now, an election runs), not_replicated (replication: a quorum of sites did not acknowledge the write; retry it with the same Idempotency-Key), or a transient database failure (internal). Retry after Retry-After.', ['Retry-After']),
	Redirect: problem('Replication on, this site is a replica (not_master): repeat the request, with the same method, body and Idempotency-Key, at Location, the master\'s base URL with the same path and query.', ['Location']),
};

function json(schema, description, extraHeaders = []) {
	const r = { description, content: { 'application/json': { schema: typeof schema === 'string' ? ref(schema) : schema } } };
	r.headers = {
		'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' },
		'X-Emergency-Warning': { $ref: '#/components/headers/X-Emergency-Warning' },
	};
	for (const h of extraHeaders)
		r.headers[h] = { $ref: `#/components/headers/${h}` };
	return r;
}

const R = (name) => ({ $ref: `#/components/responses/${name}` });

// An operation.  o: summary, description, scope (or null: public),
// tenantHeader, body (schema), bodyOptional, query (parameters), ok
// ({status: response}), conflict, notFound, idempotent (POST writes).
function op(tag, id, o) {
	const x = { tags: [tag], operationId: id, summary: o.summary };
	if (o.description) x.description = o.description;
	if (o.scope === null) {
		x.security = [];
	} else if (o.scope) {
		x.description = (x.description ? x.description + '\n\n' : '') + `Scope: \`${o.scope}\`.`;
		x['x-scope'] = o.scope;
	} else {
		x.description = (x.description ? x.description + '\n\n' : '') + 'Any valid key.';
	}
	const params = [];
	if (o.tenantHeader)
		params.push({ $ref: '#/components/parameters/TenantRequired' });
	else if (o.scope !== null)
		params.push({ $ref: '#/components/parameters/TenantOptional' });
	if (o.idempotent)
		params.push({ $ref: '#/components/parameters/IdempotencyKey' });
	for (const q of o.query || [])
		params.push(typeof q === 'string' ? { $ref: `#/components/parameters/${q}` } : q);
	if (params.length)
		x.parameters = params;
	if (o.body) {
		x.requestBody = {
			required: !o.bodyOptional,
			content: { 'application/json': { schema: typeof o.body === 'string' ? ref(o.body) : o.body } },
		};
		if (o.bodyOptional)
			x.requestBody.description = 'Optional: no body at all, or a JSON object.';
	}
	x.responses = { ...o.ok };
	x.responses['400'] = R('BadRequest');
	if (o.scope !== null) {
		x.responses['401'] = R('Unauthorized');
		x.responses['403'] = R('Forbidden');
	}
	if (o.notFound)
		x.responses['404'] = R('NotFound');
	if (o.conflict)
		x.responses['409'] = R('Conflict');
	if (o.body || o.bodyless)
		x.responses['413'] = R('TooLarge');
	if (o.idempotent)
		x.responses['422'] = R('IdempotencyReused');
	if (o.scope !== null)
		x.responses['429'] = R('RateLimited');
	x.responses['500'] = R('Internal');
	x.responses['503'] = R('Unavailable');
	return x;
}

const listParams = ['Skip', 'Limit'];
const agentPath = { $ref: '#/components/parameters/AgentId' };
const idPath = (name, description) => ({ name, in: 'path', required: true, description, schema: { type: 'string', minLength: 1 } });
const q = (name, schema, description) => ({ name, in: 'query', required: false, description, schema });

const FAIL_CLOSED = `**Fail closed.** An SDK acts only on a \`200\` whose body is JSON with \`is_killed: false\`. Everything else means *do not act*: \`is_killed: true\`; a timeout or connection error; \`401\`, \`403\`, \`429\` or any \`5xx\` (a \`503\` \`emergency_shutdown\` is a halt covering the caller, \`gate_unavailable\` an unreadable gate); a body that is not JSON or lacks \`is_killed\`; any other status.

**Timeout and retry.** Call check before every guarded action with a total timeout of 2 s (connect included). On a timeout, a connection error, a \`429\` or a \`503\`, the action is not taken; the SDK may retry the check up to 2 times with jittered backoff (200 ms, then 400 ms; honour \`Retry-After\` when it is longer), and still refuses the action if no retry gives a \`200\` with \`is_killed: false\`. Never cache a "not killed" answer: a kill is visible to every check that starts after the kill's response. A \`401\` or \`403\` is not retried: fix the key.

**Local enforcement.** An SDK that enforces locally (a cached kill, a policy evaluated in process, a check that failed closed) reports each blocked action to \`POST /api/v1/interventions\` in batches (up to 1000 objects, the shape of the interventions list), so that the organization's intervention record is complete; posting is best-effort and never a condition for refusing the action.

Every check that answers killed records a \`hard_block\` intervention (aggregated per target, not one write per call).`;

// The routes that are not GET and still not writes (no ROUTE_WRITE in
// their cgi-bin/*.c route table): a replica answers them itself.
const NOT_WRITES = new Set(['POST /v1/sessions/introspect']);

const paths = {};
function route(path, method, x) {
	// a write reaching a replica goes to the master (lib/server.c: only
	// ROUTE_WRITE routes are redirected)
	if (method !== 'GET' && !NOT_WRITES.has(method + ' ' + path))
		x.responses = { ...x.responses, 307: { $ref: '#/components/responses/Redirect' } };
	paths[path] = paths[path] || {};
	paths[path][method.toLowerCase()] = x;
}

// agents.fcgi (cgi-bin/agents.c)
const T = true;
route('/v1/agents', 'POST', op('agents', 'registerAgent', {
	summary: 'Register an agent', scope: 'agents:write', tenantHeader: T, idempotent: T,
	body: body({
		agent_type: str(0, { enum: AGENT_TYPES }),
		display_name: str(256, { min: 1, printable: true }),
		description: str(2048, { nullable: true }),
		scopes: strings(64, ITEM, { nullable: true }),
		metadata: { type: ['object', 'null'], description: `at most ${METADATA_MAX} bytes serialized` },
		trust_score: { type: ['number', 'null'], minimum: 0, maximum: 1, description: 'default 0.5' },
		public_key: str(256, { nullable: true, printable: true, description: 'base64' }),
	}, ['agent_type', 'display_name']),
	ok: { 201: json('Agent', 'The registered agent.') },
}));
route('/v1/agents', 'GET', op('agents', 'listAgents', {
	summary: 'List agents', scope: 'agents:read', tenantHeader: T,
	query: [q('status', { type: 'string', enum: ['active', 'suspended', 'revoked'] }, 'an unknown value is 400'),
		q('agent_type', { type: 'string', enum: AGENT_TYPES }, 'an unknown value is 400'), ...listParams],
	ok: { 200: json('AgentList', 'A page of agents, newest first.') },
}));
route('/v1/agents/{agentId}', 'GET', op('agents', 'getAgent', {
	summary: 'Get an agent', scope: 'agents:read', tenantHeader: T, notFound: T,
	ok: { 200: json('Agent', 'The agent.') },
}));
route('/v1/agents/{agentId}', 'PATCH', op('agents', 'updateAgent', {
	summary: 'Update an agent',
	description: 'Only display_name, description, metadata (replaced whole) and status (active|suspended; a status change also needs agents:suspend). scopes is 400 scopes_immutable; status "revoked" is 400 (use kill); any change to a revoked agent is 409 agent_revoked.',
	scope: 'agents:write', tenantHeader: T, notFound: T, conflict: T,
	body: body({
		scopes: { type: 'array', description: 'refused: 400 scopes_immutable (use delegations or re-register)' },
		status: str(0, { enum: ['active', 'suspended', 'revoked'], description: 'revoked is refused (use kill)' }),
		display_name: str(256, { min: 1, printable: true }),
		description: str(2048),
		metadata: { type: 'object', description: `replaces the whole object; at most ${METADATA_MAX} bytes serialized` },
	}, [], { minProperties: 1 }),
	ok: { 200: json('Agent', 'The changed agent.') },
}));
const reasonField = (max) => str(max, { min: 1 });
route('/v1/agents/{agentId}/suspend', 'POST', op('agents', 'suspendAgent', {
	summary: 'Suspend an agent', scope: 'agents:suspend', tenantHeader: T, idempotent: T, notFound: T, conflict: T,
	description: 'Reachable during every emergency shutdown (it only reduces privilege).',
	body: body({ reason: reasonField(1024) }, ['reason']),
	ok: { 200: json('Agent', 'The suspended agent.') },
}));
route('/v1/agents/{agentId}/kill', 'POST', op('agents', 'killAgent', {
	summary: 'Kill an agent (irreversible)',
	description: 'In one transaction: revoked forever, every session ended, every pending receipt voided, and with cascade the same for every agent reachable through its delegations. dry_run answers what would happen and changes nothing. Reachable during every emergency shutdown.',
	scope: 'agents:kill', tenantHeader: T, idempotent: T, notFound: T, conflict: T,
	body: body({
		reason: reasonField(2000),
		operator_id: str(256, { min: 1, printable: true, nullable: true, description: "default: the key's name" }),
		cascade: bool({ nullable: true, description: 'default false' }),
		dry_run: bool({ nullable: true }),
	}, ['reason']),
	ok: { 200: json('StopResult', 'What the kill did (or would do).') },
}));
route('/v1/agents/{agentId}/revoke', 'POST', op('agents', 'revokeAgent', {
	summary: 'Revoke (decommission) an agent',
	description: 'Status revoked, sessions ended; no cascade, receipts untouched. Reachable during every emergency shutdown.',
	scope: 'agents:kill', tenantHeader: T, idempotent: T, notFound: T, conflict: T,
	body: body({
		reason: reasonField(1024),
		operator_id: str(256, { min: 1, printable: true, nullable: true }),
		dry_run: bool({ nullable: true }),
	}, ['reason']),
	ok: { 200: json('StopResult', 'What the revocation did (or would do).') },
}));
route('/v1/agents/{agentId}/sessions', 'POST', op('agents', 'openSession', {
	summary: 'Open a session (token shown once)', scope: 'agents:write', tenantHeader: T, idempotent: T,
	notFound: T, conflict: T, bodyOptional: T,
	body: body({
		ttl_seconds: int(60, 86400, { nullable: true, description: 'default 3600' }),
		scopes: strings(64, ITEM, { nullable: true, description: "a subset of the agent's" }),
	}),
	ok: { 201: json('Session', 'The session with its token (a replay does not carry the token).') },
}));
route('/v1/agents/{agentId}/sessions', 'GET', op('agents', 'listSessions', {
	summary: "List an agent's sessions", scope: 'agents:read', tenantHeader: T, notFound: T,
	query: listParams, ok: { 200: json('SessionList', 'A page of sessions.') },
}));
route('/v1/agents/{agentId}/sessions/{sessionId}', 'DELETE', op('agents', 'endSession', {
	summary: 'End a session', scope: 'agents:write', tenantHeader: T, notFound: T, conflict: T, bodyless: T,
	ok: { 200: json('Session', 'The ended session.') },
}));
route('/v1/sessions/introspect', 'POST', op('agents', 'introspectSession', {
	summary: 'Introspect a session token (RFC 7662)',
	description: 'Inactive when expired, ended, its agent suspended or revoked, the scope not held, or a kill switch or a severity 4-5 shutdown blocks the agent.',
	scope: 'agents:read', tenantHeader: T,
	body: body({
		token: str(512, { min: 1, printable: true }),
		scope: str(4096, { nullable: true, printable: true, description: 'space-separated scopes the token must hold' }),
		token_type_hint: str(64, { nullable: true, printable: true }),
	}, ['token']),
	ok: { 200: json('Introspection', 'The token\'s state.') },
}));
route('/v1/agents/{agentId}/receipts', 'POST', op('agents', 'createReceipt', {
	summary: 'Record an agent action (pending receipt)', scope: 'agents:write', tenantHeader: T, idempotent: T,
	notFound: T, conflict: T,
	body: body({
		action: str(256, { min: 1, printable: true }),
		payload: { type: ['object', 'null'], description: `at most ${METADATA_MAX} bytes serialized` },
	}, ['action']),
	ok: { 201: json('Receipt', 'The pending receipt.') },
}));
route('/v1/agents/{agentId}/receipts', 'GET', op('agents', 'listReceipts', {
	summary: "List an agent's receipts", scope: 'agents:read', tenantHeader: T, notFound: T,
	query: [q('status', { type: 'string', enum: ['pending', 'finalized', 'voided'] }, 'an unknown value is 400'), ...listParams],
	ok: { 200: json('ReceiptList', 'A page of receipts.') },
}));
route('/v1/agents/{agentId}/receipts/{receiptId}/finalize', 'POST', op('agents', 'finalizeReceipt', {
	summary: 'Finalize a receipt (anchored in the transparency log)', scope: 'agents:write', tenantHeader: T,
	idempotent: T, notFound: T, conflict: T, bodyOptional: T,
	body: body({}, [], { description: 'no body, or {}' }),
	ok: { 200: json('Receipt', 'The finalized receipt.') },
}));
route('/v1/agents/{agentId}/delegations', 'POST', op('agents', 'createDelegation', {
	summary: 'Delegate scopes to another agent', scope: 'agents:write', tenantHeader: T, idempotent: T,
	notFound: T, conflict: T,
	body: body({
		delegate_agent_id: str(256, { min: 1, printable: true }),
		scopes: strings(64, ITEM, { description: "a subset of the delegator's" }),
	}, ['delegate_agent_id', 'scopes']),
	ok: { 201: json('Delegation', 'The delegation.') },
}));
route('/v1/agents/{agentId}/delegations', 'GET', op('agents', 'listDelegations', {
	summary: "List an agent's delegations", scope: 'agents:read', tenantHeader: T, notFound: T,
	query: listParams, ok: { 200: json('DelegationList', 'A page of delegations.') },
}));
route('/v1/agents/{agentId}/delegations/{delegationId}', 'DELETE', op('agents', 'revokeDelegation', {
	summary: 'Revoke a delegation', scope: 'agents:write', tenantHeader: T, notFound: T, conflict: T, bodyless: T,
	ok: { 200: json('Delegation', 'The revoked delegation.') },
}));

// killswitch.fcgi (cgi-bin/killswitch.c)
const targetBody = {
	target_type: str(0, { enum: TARGET_TYPES }),
	target_id: str(256, { min: 1, printable: true }),
};
route('/api/v1/kill-switch/kill', 'POST', op('kill-switch', 'kill', {
	summary: 'Kill a target (agent, run or mission)',
	description: 'Concurrent kills of one target: exactly one 201. Reachable during every emergency shutdown.',
	scope: 'killswitch:write', idempotent: T, conflict: T,
	body: body({ ...targetBody, reason: str(2000, { nullable: true }) }, ['target_type', 'target_id']),
	ok: {
		201: json('KillSwitch', 'The active kill switch.'),
		202: json('KeptKill', 'Replication: no site of the group is the master, so no write can be committed; the kill is kept on this site (its checks answer killed at once, source local_stop) and handed to the master once one is elected. A retry with the same Idempotency-Key answers the same 202.'),
	},
}));
route('/api/v1/kill-switch/revive', 'POST', op('kill-switch', 'revive', {
	summary: 'Revive a killed target', scope: 'killswitch:write', idempotent: T, notFound: T, conflict: T,
	body: body(targetBody, ['target_type', 'target_id']),
	ok: { 200: json('KillSwitch', 'The revived record.') },
}));
const target = (name) => q(name, { type: 'string', minLength: 1, maxLength: 256 }, 'printable');
route('/api/v1/kill-switch/check', 'GET', op('kill-switch', 'check', {
	summary: 'Check before a guarded action (fail closed)',
	description: 'Either target_type and target_id, or any non-empty subset of agent_id, run_id, mission_id (a context check: killed when any named target is; agent before mission before run). For an agent, a registry agent that is suspended or revoked is killed too (source "agent_status").\n\n' + FAIL_CLOSED,
	scope: 'killswitch:check',
	query: [q('target_type', { type: 'string', enum: TARGET_TYPES }), target('target_id'),
		target('agent_id'), target('run_id'), target('mission_id'),
		q('action', { type: 'string', maxLength: 256 }, 'the guarded action, recorded as action_name when blocked')],
	ok: { 200: json('CheckResult', 'Act only when is_killed is false.') },
}));
route('/api/v1/kill-switch/active', 'GET', op('kill-switch', 'listActive', {
	summary: 'List active kill switches', scope: 'killswitch:check', query: listParams,
	ok: { 200: json('KillSwitchList', 'killed_at descending.') },
}));
route('/api/v1/kill-switch/history', 'GET', op('kill-switch', 'history', {
	summary: 'Past and present kill switches', scope: 'killswitch:check',
	query: [q('target_type', { type: 'string', enum: TARGET_TYPES }), target('target_id'), ...listParams],
	ok: { 200: json('KillSwitchList', 'killed_at descending.') },
}));
route('/api/v1/interventions', 'GET', op('kill-switch', 'listInterventions', {
	summary: 'List interventions', scope: 'killswitch:check',
	query: [q('type', { type: 'string', maxLength: 256 }, 'hard_block, soft_block, warning or rate_limited, any case; another word is a 400 invalid_query'),
		q('outcome', { type: 'string', maxLength: 256 }, 'blocked, allowed, escalated, approved or denied, any case; another word is a 400 invalid_query'),
		q('action_name', { type: 'string', maxLength: 256 }), q('agent_id', { type: 'string', maxLength: 256 }),
		q('run_id', { type: 'string', maxLength: 256 }),
		q('start_date', { type: 'string', format: 'date-time' }), q('end_date', { type: 'string', format: 'date-time' }),
		'Skip', { $ref: '#/components/parameters/Limit50' }],
	ok: { 200: json('InterventionList', 'Newest first.') },
}));
route('/api/v1/interventions', 'POST', op('kill-switch', 'postInterventions', {
	summary: 'Report interventions enforced locally by an SDK',
	description: 'For SDKs that enforce locally: a batch of up to 1000 interventions (the shape of the list), each validated like every body (interventions[i].field names the one at fault); all or nothing.',
	scope: 'killswitch:check', idempotent: T,
	body: body({ interventions: { type: 'array', maxItems: 1000, items: ref('InterventionIn') } }, ['interventions']),
	ok: { 201: json(obj({ interventions: { type: 'array', items: ref('Intervention') }, count: int(0), emergency_warning: ref('EmergencyWarning') }, ['interventions', 'count']), 'The stored interventions.') },
}));

// shutdown.fcgi (cgi-bin/shutdown.c): every route gate-exempt
route('/v1/emergency-shutdown', 'POST', op('emergency-shutdown', 'activateShutdown', {
	summary: 'Activate an emergency shutdown',
	description: 'Severity 4-5: every governance call of the covered tenants answers 503 emergency_shutdown; 3: calls proceed with X-Emergency-Warning; 1-2: audited only. Scope all needs platform:admin.',
	scope: 'shutdown:write', idempotent: T,
	body: body({
		severity: int(1, 5),
		reason: str(2000, { min: 1 }),
		scope: str(0, { nullable: true, enum: ['org', 'key', 'all'], description: 'default org' }),
		key_id: str(64, { nullable: true, printable: true, description: "scope key: the key covered (default the caller's)" }),
	}, ['severity', 'reason']),
	ok: { 201: json('OwnShutdown', 'The activated shutdown.') },
}));
route('/v1/emergency-shutdown', 'GET', op('emergency-shutdown', 'listShutdowns', {
	summary: 'List active shutdowns', scope: 'shutdown:read',
	ok: { 200: json('ShutdownList', 'The active shutdowns covering the caller.') },
}));
route('/v1/emergency-shutdown/{id}', 'GET', op('emergency-shutdown', 'getShutdown', {
	summary: 'Get a shutdown', scope: 'shutdown:read', notFound: T,
	ok: { 200: json('Shutdown', 'The shutdown.') },
}));
route('/v1/emergency-shutdown/{id}/resolve', 'POST', op('emergency-shutdown', 'resolveShutdown', {
	summary: 'Resolve a shutdown', scope: 'shutdown:write', idempotent: T, notFound: T, conflict: T, bodyOptional: T,
	body: body({ reason: str(2000, { nullable: true }) }),
	ok: { 200: json('OwnShutdown', 'The resolved shutdown.') },
}));

// admin.fcgi (cgi-bin/admin.c)
route('/v1/api-keys', 'POST', op('api-keys', 'createKey', {
	summary: 'Create an API key (shown once)',
	description: 'A key cannot grant scopes it does not hold (403 scope_escalation) nor expire later than the key creating it.',
	scope: 'keys:admin', idempotent: T,
	body: body({
		name: str(128, { min: 1, printable: true }),
		scopes: { type: 'array', minItems: 1, maxItems: 16, items: { type: 'string', enum: [...SCOPES, '*'] } },
		expires_at: str(40, { nullable: true, description: 'a future RFC 3339 time' }),
	}, ['name', 'scopes']),
	ok: { 201: json('ApiKey', 'The key record with the secret in key.') },
}));
route('/v1/api-keys', 'GET', op('api-keys', 'listKeys', {
	summary: 'List API keys', scope: 'keys:admin', query: listParams,
	ok: { 200: json('ApiKeyList', 'A page of key records (never a secret).') },
}));
route('/v1/api-keys/self', 'GET', op('api-keys', 'selfKey', {
	summary: "The caller's key", scope: undefined,
	ok: { 200: json('ApiKey', 'The caller\'s key record with tenant and effective_scopes.') },
}));
route('/v1/api-keys/{id}', 'DELETE', op('api-keys', 'revokeKey', {
	summary: 'Revoke an API key', scope: 'keys:admin', notFound: T, conflict: T, bodyless: T,
	description: 'Reachable during every emergency shutdown.',
	ok: { 200: json('ApiKey', 'The revoked key record.') },
}));
route('/healthz', 'GET', op('operations', 'health', {
	summary: 'Health check (public)', scope: null,
	description: 'With replication on, a site that is not the master and knows no master answers 503 no_master (it still answers checks from its own copy, which may be stale, and refuses writes): take it out of a load balancer\'s rotation.',
	ok: { 200: json('Health', 'The database answers (and, with replication on, a master is known).') },
}));
route('/metrics', 'GET', op('operations', 'metrics', {
	summary: 'Prometheus metrics (all tenants)', scope: 'platform:admin',
	ok: { 200: { description: 'The Prometheus text format.', headers: { 'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' } }, content: { 'text/plain': { schema: { type: 'string' } } } } },
}));

// audit.fcgi (cgi-bin/audit.c): every route gate-exempt
route('/v1/audit/events', 'GET', op('audit', 'listEvents', {
	summary: 'Audit events (or an NDJSON export)',
	description: 'JSON: newest first, {data, count}. With Accept: application/x-ndjson every match oldest first, one event a line, resumable with after_seq (skip is refused). An unknown or repeated parameter is 400.',
	scope: 'audit:read',
	query: [q('type', { type: 'string', maxLength: 64 }, 'an event type, or a prefix with .* (killswitch.*)'),
		q('target_id', { type: 'string', maxLength: 256 }), q('actor', { type: 'string', maxLength: 256 }),
		q('since', { type: 'string', format: 'date-time' }), q('until', { type: 'string', format: 'date-time' }),
		q('after_seq', { type: 'integer', minimum: 0 }), 'Skip', { $ref: '#/components/parameters/Limit50' }],
	ok: { 200: { ...json('AuditEventList', 'A page of events, or the export.'),
		content: { 'application/json': { schema: ref('AuditEventList') },
			'application/x-ndjson': { schema: { type: 'string', description: 'one AuditEvent a line' } } } } },
}));
route('/v1/audit/events/{id}', 'GET', op('audit', 'getEvent', {
	summary: 'One audit event', scope: 'audit:read', notFound: T,
	ok: { 200: json('AuditEvent', 'The event.') },
}));
route('/v1/transparency/receipts/{id}', 'GET', op('audit', 'getReceipt', {
	summary: 'A transparency-log receipt with its inclusion proof', scope: 'audit:read', notFound: T,
	ok: { 200: json('TransparencyReceipt', 'Leaf, inclusion proof and signed tree head.') },
}));
route('/v1/transparency/sth', 'GET', op('audit', 'getSth', {
	summary: 'The signed tree head', scope: 'audit:read',
	ok: { 200: json('SignedTreeHead', 'Ed25519-signed tree head.') },
}));
route('/v1/transparency/consistency', 'GET', op('audit', 'getConsistency', {
	summary: 'A consistency proof between two tree sizes', scope: 'audit:read',
	query: [q('first', { type: 'integer', minimum: 1 }, '1 <= first <= second'),
		q('second', { type: 'integer', minimum: 1 }, 'default: the current size')],
	ok: { 200: json('Consistency', 'RFC 9162 consistency proof.') },
}));
route('/v1/transparency/key', 'GET', op('audit', 'getLogKey', {
	summary: "The transparency log's public key (public)", scope: null,
	ok: { 200: json('LogKey', 'Ed25519 public key, base64.') },
}));

// webhooks.fcgi (cgi-bin/webhooks.c)
const urlField = str(2048, { min: 1, description: 'https://; private, loopback, link-local and multicast destinations are refused unless conf allows them' });
const eventsField = strings(64, ITEM, { description: 'event types or prefixes (killswitch.*)' });
route('/v1/webhooks', 'POST', op('webhooks', 'createWebhook', {
	summary: 'Subscribe a webhook (secret shown once)', scope: 'webhooks:write', idempotent: T,
	body: body({ url: urlField, events: eventsField, description: str(1024, { nullable: true, printable: true }) }, ['url', 'events']),
	ok: { 201: json('Webhook', 'The subscription with its whsec_ secret.') },
}));
route('/v1/webhooks', 'GET', op('webhooks', 'listWebhooks', {
	summary: 'List webhooks', scope: 'audit:read', query: listParams,
	ok: { 200: json('WebhookList', 'A page of subscriptions.') },
}));
route('/v1/webhooks/{id}', 'GET', op('webhooks', 'getWebhook', {
	summary: 'Get a webhook', scope: 'audit:read', notFound: T,
	ok: { 200: json('Webhook', 'The subscription.') },
}));
route('/v1/webhooks/{id}', 'PATCH', op('webhooks', 'updateWebhook', {
	summary: 'Change a webhook', scope: 'webhooks:write', notFound: T,
	body: body({ url: urlField, events: eventsField, enabled: bool(), description: str(1024, { nullable: true, printable: true }) }, [], { minProperties: 1 }),
	ok: { 200: json('Webhook', 'The changed subscription.') },
}));
route('/v1/webhooks/{id}', 'DELETE', op('webhooks', 'deleteWebhook', {
	summary: 'Delete a webhook', scope: 'webhooks:write', notFound: T, bodyless: T,
	ok: { 200: json('Webhook', 'The deleted subscription.') },
}));
const noFields = body({}, [], { description: 'no body, or {}' });
route('/v1/webhooks/{id}/rotate-secret', 'POST', op('webhooks', 'rotateSecret', {
	summary: 'Rotate the signing secret (shown once)', scope: 'webhooks:write', idempotent: T, notFound: T,
	bodyOptional: T, body: noFields,
	ok: { 200: json('Webhook', 'The subscription with the new secret; the previous one keeps signing for the overlap of conf.') },
}));
route('/v1/webhooks/{id}/test', 'POST', op('webhooks', 'testWebhook', {
	summary: 'Queue a webhook.test event', scope: 'webhooks:write', idempotent: T, notFound: T, conflict: T,
	bodyOptional: T, body: noFields,
	ok: { 202: json('Queued', 'Queued for the notifier.') },
}));
route('/v1/webhooks/{id}/deliveries', 'GET', op('webhooks', 'listDeliveries', {
	summary: "A webhook's deliveries", scope: 'audit:read', notFound: T, query: listParams,
	ok: { 200: json('DeliveryList', 'Newest first.') },
}));
route('/v1/webhooks/{id}/deliveries/{deliveryId}/retry', 'POST', op('webhooks', 'retryDelivery', {
	summary: 'Retry a dead delivery', scope: 'webhooks:write', idempotent: T, notFound: T, conflict: T,
	bodyOptional: T, body: noFields,
	ok: { 202: json('Delivery', 'The delivery, pending again.') },
}));

// Path parameters, declared once per path.
for (const [path, item] of Object.entries(paths)) {
	const names = [...path.matchAll(/\{([A-Za-z]+)\}/g)].map((m) => m[1]);
	if (names.length)
		item.parameters = names.map((n) => n === 'agentId' ? agentPath : idPath(n, `the ${n.replace(/Id$/, '')} id`));
}

const doc = {
	openapi: '3.1.0',
	info: {
		title: 'Andon',
		version: '1.0.0',
		summary: 'Emergency control plane for AI agents',
		description: `The HTTP contract of Andon (API.md): agent registry with suspend and irreversible kill, an org-scoped kill switch that SDKs check before every guarded action, severity-based emergency shutdowns, and a tamper-evident audit trail.

Conventions: JSON in and out (UTF-8). Errors are application/problem+json with detail and a stable code. Lists take skip and limit (1..1000) and answer {data, count} with count the total. A foreign id is 404. An unknown path is 404, a known path with another method 405 with Allow; OPTIONS answers 204 with Allow, HEAD as GET without a body. Every response carries X-Request-Id. Every state-changing POST honours Idempotency-Key: the same key and body within 24 h replays the first answer; another body is 422 idempotency_key_reused.

Emergency shutdowns (severity 4-5) answer 503 problem emergency_shutdown with Retry-After on every governance call of the tenants they cover, except /v1/emergency-shutdown*, /healthz, audit reads and the calls that only reduce privilege (kills, suspends, revocations). Severity 3 adds the X-Emergency-Warning header and an emergency_warning member to JSON bodies.

The web server's own errors on these paths (an unknown path, a bodiless POST under lighttpd 1.4, a URI, headers or body too large, an executable that is down) are problem+json too, with these statuses and codes: ${SERVER_ERRORS.map((e) => `${e.status} ${e.code}`).join(', ')}; any operation may meet one (x-server-errors).

${FAIL_CLOSED}`,
	},
	'x-server-errors': SERVER_ERRORS.map((e) => ({ status: e.status, code: e.code })),
	servers: [{ url: '/', description: 'the instance serving this document' }],
	security: [{ ApiKey: [] }, { Bearer: [] }, { TorkApiKey: [] }],
	tags: [
		{ name: 'agents', description: 'agents.fcgi: /v1/agents, /v1/sessions' },
		{ name: 'kill-switch', description: 'killswitch.fcgi: /api/v1/kill-switch, /api/v1/interventions' },
		{ name: 'emergency-shutdown', description: 'shutdown.fcgi: /v1/emergency-shutdown (always reachable)' },
		{ name: 'audit', description: 'audit.fcgi: /v1/audit, /v1/transparency' },
		{ name: 'webhooks', description: 'webhooks.fcgi: /v1/webhooks' },
		{ name: 'api-keys', description: 'admin.fcgi: /v1/api-keys' },
		{ name: 'operations', description: 'admin.fcgi: /healthz, /metrics' },
	],
	paths,
	components: {
		securitySchemes: {
			ApiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'An API key (andon_…). Exactly one credential per request: two different ones are 400 conflicting_credentials.' },
			Bearer: { type: 'http', scheme: 'bearer', description: 'The same API key as Authorization: Bearer.' },
			TorkApiKey: { type: 'apiKey', in: 'header', name: 'X-Tork-API-Key', description: 'The same API key under the seed vendor\'s header name (kept for its SDKs). A header spelled with underscores or dots never counts.' },
		},
		parameters: {
			TenantRequired: { name: 'X-Tenant-ID', in: 'header', required: true, description: "The key's tenant (required on /v1/agents* and /v1/sessions*: 400 missing_tenant; another tenant: 403 tenant_mismatch).", schema: { type: 'string' } },
			TenantOptional: { name: 'X-Tenant-ID', in: 'header', required: false, description: "When present, the key's tenant (else 403 tenant_mismatch).", schema: { type: 'string' } },
			IdempotencyKey: { name: 'Idempotency-Key', in: 'header', required: false, description: 'At most 255 printable characters: a retry with the same key and body, by the same key within 24 h, gets the first answer (a secret is not shown again); another body is 422.', schema: { type: 'string', minLength: 1, maxLength: 255 } },
			AgentId: { name: 'agentId', in: 'path', required: true, description: 'The agent\'s id (UUID) or agent_id (maip:…)', schema: { type: 'string', minLength: 1 } },
			Skip: { name: 'skip', in: 'query', required: false, schema: { type: 'integer', minimum: 0, default: 0 } },
			Limit: { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
			Limit50: { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 50 } },
		},
		headers,
		responses,
		schemas,
	},
};

process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
