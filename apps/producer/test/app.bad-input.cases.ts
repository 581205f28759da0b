/** One hostile request of the bad-input battery, and the problem it must get. */
export interface BadCase {
  name: string;
  method?: 'GET' | 'POST' | 'DELETE' | 'PUT';
  path?: string;
  /** A JSON body (serialized as is) … */
  json?: unknown;
  /** … or raw text, sent with `contentType`. */
  raw?: string;
  contentType?: string;
  headers?: Record<string, string>;
  /** The API key to send; the battery's valid key when absent, none when null. */
  key?: string | null;
  status: number;
  type: string;
}

const mail = { to: 'a@example.com', subject: 'Hi', text: 'x' };
const img = { source: { key: 'a.png' }, outputs: [{ format: 'png' }] };
const ev = { id: '1', name: 'signup', timestamp: '2026-01-01T00:00:00Z' };
const email = (data: unknown, extra = {}) => ({ json: { data, ...extra } });
const image = (data: unknown) => ({ path: '/v1/jobs/image', json: { data } });
const analytics = (event: unknown) => ({
  path: '/v1/jobs/analytics',
  json: { data: { events: [event] } },
});
const batch = (json: unknown) => ({ path: '/v1/jobs/email/batch', json });
/** A GET of the analytics read API that must answer 400 `invalid-parameter`. */
const query = (name: string, path: string): BadCase => ({
  name,
  method: 'GET',
  path,
  status: 400,
  type: 'invalid-parameter',
});
const report = '/v1/analytics/signup';
const bad = (name: string, req: Omit<BadCase, 'name' | 'status' | 'type'>) => ({
  name,
  ...req,
  status: 400,
  type: 'invalid-body',
});

export const badCases: BadCase[] = [
  // Not JSON, or not the JSON we take.
  { name: 'malformed JSON', raw: '{"data":', status: 400, type: 'malformed-json' },
  { name: 'a bare string', raw: '"hello"', status: 400, type: 'malformed-json' },
  { name: 'a bare number', raw: '42', status: 400, type: 'malformed-json' },
  { name: 'null', raw: 'null', status: 400, type: 'malformed-json' },
  { name: 'trailing garbage', raw: '{"data":{}} x', status: 400, type: 'malformed-json' },
  bad('a JSON array', { raw: '[1,2,3]' }),
  bad('an empty object', { json: {} }),
  {
    name: 'form-encoded',
    raw: 'to=a@example.com',
    contentType: 'application/x-www-form-urlencoded',
    status: 415,
    type: 'unsupported-media-type',
  },
  {
    name: 'text/plain',
    raw: JSON.stringify({ data: mail }),
    contentType: 'text/plain',
    status: 415,
    type: 'unsupported-media-type',
  },
  {
    name: 'multipart',
    raw: '--x--',
    contentType: 'multipart/form-data; boundary=x',
    status: 415,
    type: 'unsupported-media-type',
  },
  {
    name: 'a non-UTF-8 charset',
    raw: JSON.stringify({ data: mail }),
    contentType: 'application/json; charset=latin1',
    status: 415,
    type: 'unsupported-media-type',
  },
  {
    name: 'a body over the limit',
    ...email({ ...mail, text: 'x'.repeat(70_000) }),
    status: 413,
    type: 'body-too-large',
  },
  // The envelope.
  bad('an unknown envelope field', email(mail, { queue: 'x' })),
  bad('a job id of its own', email(mail, { jobId: 'mine' })),
  bad('data missing', { json: { delay: 1 } }),
  bad('data null', email(null)),
  bad('data an array', email([mail])),
  bad('delay and runAt together', email(mail, { delay: 10, runAt: '2030-01-01T00:00:00Z' })),
  bad('a negative delay', email(mail, { delay: -1 })),
  bad('a fractional delay', email(mail, { delay: 1.5 })),
  bad('a delay as a string', email(mail, { delay: '10' })),
  bad('a delay over a year', email(mail, { delay: 400 * 24 * 3600 * 1000 })),
  bad('runAt not an ISO time', email(mail, { runAt: 'tomorrow' })),
  bad('priority 0', email(mail, { priority: 0 })),
  bad('priority too large', email(mail, { priority: 3_000_000 })),
  bad('attempts 0', email(mail, { attempts: 0 })),
  bad('attempts 101', email(mail, { attempts: 101 })),
  // Email payloads.
  bad('an unknown payload field', email({ ...mail, attachments: ['/etc/passwd'] })),
  bad('a __proto__ key in the payload', {
    raw: '{"data":{"to":"a@example.com","subject":"x","text":"x","__proto__":{"admin":true}}}',
  }),
  bad('a __proto__ key in the envelope', {
    raw: '{"__proto__":{"admin":true},"data":{"to":"a@example.com","subject":"x","text":"x"}}',
  }),
  bad('a __proto__ key deep in template data', {
    raw: '{"data":{"to":"a@example.com","subject":"x","template":{"name":"welcome","data":{"__proto__":{"admin":true}}}}}',
  }),
  bad('an escaped __proto__ key', {
    raw: '{"data":{"to":"a@example.com","subject":"x","template":{"name":"welcome","data":{"\\u005f_proto__":{"admin":true}}}}}',
  }),
  bad('a constructor key', email({ ...mail, constructor: { prototype: { admin: true } } })),
  bad('CRLF in the subject', email({ ...mail, subject: 'Hi\r\nBcc: x@example.com' })),
  bad('LF alone in the subject', email({ ...mail, subject: 'Hi\nBcc: x@example.com' })),
  bad('CRLF in an address', email({ ...mail, to: 'a@example.com\r\nBcc: x@example.com' })),
  bad('CRLF in cc', email({ ...mail, cc: ['b@example.com\r\nBcc: x@example.com'] })),
  bad('CRLF in replyTo', email({ ...mail, replyTo: 'r@example.com\nX-Evil: 1' })),
  bad('not an address', email({ ...mail, to: 'nobody' })),
  bad(
    '51 recipients',
    email({ ...mail, to: Array.from({ length: 51 }, (_, i) => `u${i}@example.com`) }),
  ),
  bad('a huge subject', email({ ...mail, subject: 's'.repeat(5_000) })),
  bad('an empty subject', email({ ...mail, subject: '' })),
  bad('wrong types', email({ to: 42, subject: ['x'], text: {} })),
  bad('neither text nor template', email({ to: 'a@example.com', subject: 'x' })),
  bad('text and a template', email({ ...mail, template: { name: 'welcome', data: {} } })),
  bad(
    'an unknown template',
    email({ to: 'a@example.com', subject: 'x', template: { name: 'invoice' } }),
  ),
  bad('deep nesting', email(JSON.parse(`${'{"a":'.repeat(2_000)}1${'}'.repeat(2_000)}`))),
  // Image payloads.
  bad(
    'an image URL that is not http(s)',
    image({ source: { url: 'file:///etc/passwd' }, outputs: [{ format: 'png' }] }),
  ),
  bad(
    'a javascript: URL',
    image({ source: { url: 'javascript:alert(1)' }, outputs: [{ format: 'png' }] }),
  ),
  bad(
    'an image key that climbs out',
    image({ source: { key: '../../etc/passwd' }, outputs: [{ format: 'png' }] }),
  ),
  bad(
    'an absolute image key',
    image({ source: { key: '/etc/passwd' }, outputs: [{ format: 'png' }] }),
  ),
  bad(
    'both url and key',
    image({
      source: { key: 'a.png', url: 'https://example.com/a.png' },
      outputs: [{ format: 'png' }],
    }),
  ),
  bad(
    'eleven outputs',
    image({ ...img, outputs: Array.from({ length: 11 }, () => ({ format: 'png' })) }),
  ),
  bad('a zero width', image({ ...img, outputs: [{ format: 'png', width: 0 }] })),
  bad('a width over 8192', image({ ...img, outputs: [{ format: 'png', width: 9000 }] })),
  bad('an unknown format', image({ ...img, outputs: [{ format: 'gif' }] })),
  bad('quality 101', image({ ...img, outputs: [{ format: 'jpeg', quality: 101 }] })),
  // Analytics payloads.
  bad('no events', { path: '/v1/jobs/analytics', json: { data: { events: [] } } }),
  bad('1,001 events', {
    path: '/v1/jobs/analytics',
    json: { data: { events: Array.from({ length: 1001 }, (_, i) => ({ ...ev, id: `${i}` })) } },
  }),
  bad('userId and anonymousId', analytics({ ...ev, userId: 'u', anonymousId: 'a' })),
  bad('a bad timestamp', analytics({ ...ev, timestamp: '01/02/2026' })),
  bad('an event name with spaces', analytics({ ...ev, name: 'sign up' })),
  bad('a nested property value', analytics({ ...ev, properties: { plan: { tier: 1 } } })),
  bad(
    '65 properties on one event',
    analytics({
      ...ev,
      properties: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`p${i}`, 'v'])),
    }),
  ),
  bad('a property name with a brace', analytics({ ...ev, properties: { '{x}': 'v' } })),
  // Batches.
  bad('an empty batch', batch({ jobs: [] })),
  bad('a batch that is not an array', batch({ jobs: { data: mail } })),
  bad(
    '1,001 jobs in a batch',
    batch({ jobs: Array.from({ length: 1001 }, () => ({ data: mail })) }),
  ),
  bad('one bad item in a batch', batch({ jobs: [{ data: mail }, { data: { ...mail, to: 'x' } }] })),
  bad('an unknown field in a batch', batch({ jobs: [{ data: mail }], atomic: false })),
  // Analytics queries: dates, ranges, granularities, property names, hostile event names.
  query('an unknown granularity', `${report}?granularity=week`),
  query('a granularity in capitals', `${report}?granularity=HOUR`),
  query('from not a date', `${report}?from=yesterday`),
  query('from a date that does not exist', `${report}?from=2026-02-30`),
  query('to in a format of its own', `${report}?to=11%2F24%2F2026`),
  query('to before from', `${report}?from=2026-11-25T00:00:00Z&to=2026-11-24T00:00:00Z`),
  query('to equal to from', `${report}?from=2026-11-24T00:00:00Z&to=2026-11-24T00:00:00Z`),
  query(
    '1,501 minute buckets',
    `${report}?granularity=minute&from=2026-11-01&to=2026-11-02T01:01:00Z`,
  ),
  query('2,000 years of days', `${report}?granularity=day&from=0001-01-01&to=2001-01-01`),
  query('from given twice', `${report}?from=2026-11-01&from=2026-11-02`),
  query('an unknown query parameter', `${report}?granulrity=hour`),
  query('a top property with a space', `${report}?top=plan,sign%20up`),
  query('an empty top', `${report}?top=`),
  query('a top property with a brace', `${report}?top=%7Bplan%7D`),
  query('eleven top properties', `${report}?top=a,b,c,d,e,f,g,h,i,j,k`),
  query('limit 0', `${report}?top=plan&limit=0`),
  query('limit 101', `${report}?top=plan&limit=101`),
  query('limit not a number', `${report}?limit=ten`),
  query('a fractional limit', `${report}?limit=1.5`),
  query('an event name with a space', '/v1/analytics/sign%20up'),
  query('an event name with a hash tag brace', '/v1/analytics/%7Bsignup%7D'),
  query('an event name with a glob', '/v1/analytics/sign*'),
  query('an event name with CRLF', '/v1/analytics/signup%0D%0AX-Evil:%201'),
  query('an event name that climbs out', '/v1/analytics/..%2F..%2Fetc'),
  query('an event name of 101 characters', `/v1/analytics/${'e'.repeat(101)}`),
  query('a Lua-looking event name', "/v1/analytics/x'%5D);redis.call('FLUSHALL"),
  query('an event list limit of 1,001', '/v1/analytics?limit=1001'),
  query('an event list with an unknown parameter', '/v1/analytics?cursor=0'),
  // Headers.
  {
    name: 'an Idempotency-Key over 255 characters',
    ...email(mail),
    headers: { 'idempotency-key': 'k'.repeat(256) },
    status: 400,
    type: 'invalid-header',
  },
  {
    name: 'an Idempotency-Key with spaces',
    ...email(mail),
    headers: { 'idempotency-key': 'a key' },
    status: 400,
    type: 'invalid-header',
  },
  // Keys.
  { name: 'no API key', ...email(mail), key: null, status: 401, type: 'unauthorized' },
  {
    name: 'a wrong API key',
    ...email(mail),
    key: 'wrong-key-0123456789abcdef',
    status: 401,
    type: 'unauthorized',
  },
  {
    name: 'a Basic header',
    ...email(mail),
    key: null,
    headers: { authorization: 'Basic YTpi' },
    status: 401,
    type: 'unauthorized',
  },
  {
    name: 'an empty Bearer',
    ...email(mail),
    key: null,
    headers: { authorization: 'Bearer ' },
    status: 401,
    type: 'unauthorized',
  },
  {
    name: 'a key too long to be one',
    ...email(mail),
    key: 'k'.repeat(600),
    status: 401,
    type: 'unauthorized',
  },
  {
    name: 'a read-only key enqueueing',
    ...email(mail),
    key: 'reader-key-0123456789abcdef',
    status: 403,
    type: 'forbidden',
  },
  {
    name: 'a read-only key cancelling',
    method: 'DELETE',
    path: '/v1/jobs/email/1',
    key: 'reader-key-0123456789abcdef',
    status: 403,
    type: 'forbidden',
  },
  // Types, ids, routes.
  {
    name: 'an unknown job type',
    path: '/v1/jobs/sms',
    json: { data: mail },
    status: 404,
    type: 'unknown-job-type',
  },
  {
    name: 'a prototype name as job type',
    path: '/v1/jobs/__proto__',
    json: { data: mail },
    status: 404,
    type: 'unknown-job-type',
  },
  {
    name: 'constructor as job type',
    path: '/v1/jobs/constructor/batch',
    json: { jobs: [{ data: mail }] },
    status: 404,
    type: 'unknown-job-type',
  },
  {
    name: 'an upper-case job type',
    method: 'GET',
    path: '/v1/jobs/EMAIL/1',
    status: 404,
    type: 'unknown-job-type',
  },
  {
    name: 'a bad job id',
    method: 'GET',
    path: '/v1/jobs/email/..%2F..%2Fetc',
    status: 404,
    type: 'job-not-found',
  },
  {
    name: 'a job id over 160 characters',
    method: 'GET',
    path: `/v1/jobs/email/${'1'.repeat(161)}`,
    status: 404,
    type: 'job-not-found',
  },
  {
    name: 'a job id with a space',
    method: 'DELETE',
    path: '/v1/jobs/email/a%20b',
    status: 404,
    type: 'job-not-found',
  },
  // the queue's own keys are no jobs, whatever the route
  ...(
    [
      ['GET', 'meta'],
      ['GET', 'events'],
      ['DELETE', 'id'],
      ['POST', 'meta/retry'],
      ['GET', 'repeat:daily'],
      ['GET', '1:logs'],
    ] as const
  ).map(([method, id]) => ({
    name: `the queue's key ${id} for a job id`,
    method,
    path: `/v1/jobs/email/${id}`,
    ...(method === 'POST' ? { json: {} } : {}),
    status: 404,
    type: 'job-not-found',
  })),
  {
    name: 'an unknown job',
    method: 'GET',
    path: '/v1/jobs/email/424242',
    status: 404,
    type: 'job-not-found',
  },
  {
    name: 'events of an unknown job',
    method: 'GET',
    path: '/v1/jobs/email/424242/events',
    status: 404,
    type: 'job-not-found',
  },
  {
    name: 'retry of an unknown job',
    method: 'POST',
    path: '/v1/jobs/email/424242/retry',
    json: {},
    status: 404,
    type: 'job-not-found',
  },
  { name: 'an unknown route', method: 'GET', path: '/v1/nothing', status: 404, type: 'not-found' },
  {
    name: 'a method no route takes',
    method: 'PUT',
    path: '/v1/jobs/email',
    json: { data: mail },
    status: 404,
    type: 'not-found',
  },
];
