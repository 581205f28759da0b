import type { BadCase } from './app.bad-input.cases.ts';

/** The dead-letter routes' hostile requests: listing, bulk retry, bulk discard. */
const list = '/v1/jobs/email';
const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const query = (name: string, path: string, method: 'GET' | 'DELETE' = 'GET'): BadCase => ({
  name,
  method,
  path,
  status: 400,
  type: 'invalid-parameter',
});
const retry = (name: string, json: unknown): BadCase => ({
  name,
  path: '/v1/jobs/email/retry',
  json,
  status: 400,
  type: 'invalid-body',
});

export const deadLetterCases: BadCase[] = [
  // GET /v1/jobs/{type}
  query('a listing of an unknown state', `${list}?state=zombie`),
  query('a listing of waiting-children', `${list}?state=waiting-children`),
  query('a listing limit of 0', `${list}?limit=0`),
  query('a listing limit of 1,001', `${list}?limit=1001`),
  query('a listing limit that is no number', `${list}?limit=all`),
  query('a listing cursor of no base64', `${list}?cursor=not%20a%20cursor`),
  query('a listing cursor of base64 garbage', `${list}?cursor=AAAA`),
  query('a listing cursor of another kind', `${list}?cursor=${cursorOf({ offset: 2 })}`),
  query('a listing cursor with a bad id', `${list}?cursor=${cursorOf({ score: 1, id: 'a b' })}`),
  query('a listing cursor over 400 characters', `${list}?cursor=${'A'.repeat(401)}`),
  query('a listing since that is no date', `${list}?since=yesterday`),
  query('a listing since that does not exist', `${list}?since=2026-02-30T00:00:00Z`),
  query('a listing until without an offset', `${list}?until=2026-01-01T00:00:00`),
  query(
    'a listing until before since',
    `${list}?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z`,
  ),
  query(
    'a listing of waiting jobs since a time',
    `${list}?state=waiting&since=2026-01-01T00:00:00Z`,
  ),
  query('a listing with an unknown parameter', `${list}?reason=timeout`),
  query('a listing state given twice', `${list}?state=failed&state=completed`),
  {
    name: 'a listing of an unknown job type',
    method: 'GET',
    path: '/v1/jobs/sms',
    status: 404,
    type: 'unknown-job-type',
  },
  // POST /v1/jobs/{type}/retry
  retry('a retry of completed jobs', { state: 'completed' }),
  retry('a retry of waiting jobs', { state: 'waiting' }),
  retry('a retry reasonPrefix over 200 characters', { reasonPrefix: 'x'.repeat(201) }),
  retry('an empty retry reasonPrefix', { reasonPrefix: '' }),
  retry('a retry limit of 0', { limit: 0 }),
  retry('a retry limit of 1,001', { limit: 1001 }),
  retry('a retry limit as a string', { limit: '10' }),
  retry('a retry with an unknown field', { reason: 'timeout' }),
  retry('a retry cursor of garbage', { cursor: 'AAAA' }),
  retry('a retry since that is no date', { since: 'last week' }),
  retry('a retry until before since', {
    since: '2026-01-02T00:00:00Z',
    until: '2026-01-01T00:00:00Z',
  }),
  retry('a retry filter that is an array', []),
  {
    name: 'a retry filter that is not JSON',
    path: '/v1/jobs/email/retry',
    raw: 'state=failed',
    contentType: 'application/x-www-form-urlencoded',
    status: 415,
    type: 'unsupported-media-type',
  },
  {
    name: 'a read-only key retrying in bulk',
    path: '/v1/jobs/email/retry',
    json: {},
    key: 'reader-key-0123456789abcdef',
    status: 403,
    type: 'forbidden',
  },
  // DELETE /v1/jobs/{type}
  query('a discard of waiting jobs', `${list}?state=waiting`, 'DELETE'),
  query('a discard of active jobs', `${list}?state=active`, 'DELETE'),
  query('a discard of delayed jobs', `${list}?state=delayed`, 'DELETE'),
  query(
    'a discard of completed jobs by reason',
    `${list}?state=completed&reasonPrefix=x`,
    'DELETE',
  ),
  query(
    'a discard reasonPrefix over 200 characters',
    `${list}?reasonPrefix=${'x'.repeat(201)}`,
    'DELETE',
  ),
  query('a discard limit of 0', `${list}?limit=0`, 'DELETE'),
  query('a discard limit of 1,001', `${list}?limit=1001`, 'DELETE'),
  query('a discard cursor of garbage', `${list}?cursor=AAAA`, 'DELETE'),
  query('a discard with an unknown parameter', `${list}?force=true`, 'DELETE'),
  {
    name: 'a read-only key discarding in bulk',
    method: 'DELETE',
    path: list,
    key: 'reader-key-0123456789abcdef',
    status: 403,
    type: 'forbidden',
  },
];
