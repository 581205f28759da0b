import type { BadCase } from './app.bad-input.cases.ts';

/** A well-formed subscription and replay; each case below breaks one thing of them. */
const good = { url: 'https://hooks.example.com/errand', events: ['job.completed'] };
const since = '2026-01-01T00:00:00Z';
const put = (name: string, json: unknown, id = 'mail'): BadCase => ({
  name: `webhook: ${name}`,
  method: 'PUT',
  path: `/v1/webhooks/${id}`,
  json,
  status: 400,
  type: 'invalid-body',
});
const replay = (name: string, json: unknown): BadCase => ({
  ...put(name, json),
  method: 'POST',
  path: '/v1/webhooks/mail/replay',
});
const param = (name: string, method: BadCase['method'], path: string, json?: unknown): BadCase => ({
  name: `webhook: ${name}`,
  method,
  path,
  ...(json === undefined ? {} : { json }),
  status: 400,
  type: 'invalid-parameter',
});
const missing = (
  name: string,
  method: BadCase['method'],
  path: string,
  json?: unknown,
): BadCase => ({
  ...param(name, method, path, json),
  status: 404,
  type: 'webhook-not-found',
});

/** Malformed and hostile webhook requests: each gets its problem, writes and enqueues nothing. */
export const webhookCases: BadCase[] = [
  put('an unknown event type', { ...good, events: ['job.started'] }),
  put('no events', { ...good, events: [] }),
  put('a file: URL', { ...good, url: 'file:///etc/passwd' }),
  put('a gopher: URL', { ...good, url: 'gopher://127.0.0.1:6379/_FLUSHALL' }),
  put('a URL with a user and password', { ...good, url: 'https://user:pw@hooks.example.com/' }),
  put('a URL over 2,048 characters', { ...good, url: `https://example.com/${'a'.repeat(2_040)}` }),
  put('an unknown field', { ...good, secret: 'whsec_mine' }),
  put('an unknown job type in types', { ...good, types: ['email', 'sms'] }),
  put('webhook in types', { ...good, types: ['webhook'] }),
  put('an empty types', { ...good, types: [] }),
  put('a producer name with a space', { ...good, producers: ['a b'] }),
  put('a description over 500 characters', { ...good, description: 'd'.repeat(501) }),
  param('an id with a space', 'PUT', '/v1/webhooks/a%20b', good),
  param('an id over 64 characters', 'GET', `/v1/webhooks/${'a'.repeat(65)}`),
  param('an id with a colon', 'DELETE', '/v1/webhooks/a:b'),
  param('an id with braces', 'POST', '/v1/webhooks/%7Bx%7D/rotate-secret', {}),
  replay('a since that is no time', { since: 'yesterday' }),
  replay('no since', { limit: 10 }),
  replay('an until that is no time', { since, until: '2026-13-01T00:00:00Z' }),
  replay('until before since', { since, until: '2025-12-31T00:00:00Z' }),
  replay('a replay limit of 0', { since, limit: 0 }),
  replay('a replay limit of 1,001', { since, limit: 1_001 }),
  replay('a cursor that is not one', { since, cursor: '../x' }),
  replay('a cursor past what a stream id holds', { since, cursor: '99999999999999999999-1' }),
  replay('an unknown replay field', { since, types: ['email'] }),
  param('a deliveries limit of 0', 'GET', '/v1/webhooks/mail/deliveries?limit=0'),
  param('a deliveries limit of 101', 'GET', '/v1/webhooks/mail/deliveries?limit=101'),
  param('a deliveries limit that is no number', 'GET', '/v1/webhooks/mail/deliveries?limit=ten'),
  missing('reading one that does not exist', 'GET', '/v1/webhooks/nothing-here'),
  missing('deleting one that does not exist', 'DELETE', '/v1/webhooks/nothing-here'),
  missing(
    'rotating one that does not exist',
    'POST',
    '/v1/webhooks/nothing-here/rotate-secret',
    {},
  ),
  missing('replaying one that does not exist', 'POST', '/v1/webhooks/nothing-here/replay', {
    since,
  }),
  {
    name: 'webhook: a body that is not JSON',
    method: 'PUT',
    path: '/v1/webhooks/mail',
    raw: 'url=https://hooks.example.com',
    contentType: 'text/plain',
    status: 415,
    type: 'unsupported-media-type',
  },
  {
    name: 'webhook: a read-only key writing',
    method: 'PUT',
    path: '/v1/webhooks/mail',
    json: good,
    key: 'reader-key-0123456789abcdef',
    status: 403,
    type: 'forbidden',
  },
  {
    name: 'webhook: a read-only key rotating its signing secret',
    method: 'POST',
    path: '/v1/signing-secret',
    json: {},
    key: 'reader-key-0123456789abcdef',
    status: 403,
    type: 'forbidden',
  },
];
