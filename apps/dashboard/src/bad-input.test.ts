import { PROBLEM_BASE } from '@errand/http';
import { eventually, startTestRedis, type TestRedis } from '@errand/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DashboardProcess,
  type Login,
  logIn,
  type RawCall,
  rawRequest,
  startDashboard,
  testUsers,
} from '../test/dashboard.testkit.ts';
import { type DashboardProblemType, dashboardProblems } from './problems.ts';

let redis: TestRedis;
let dashboard: DashboardProcess;
let viewer: Login;
let admin: Login;
let form: { cookie: string; csrf: string };

beforeAll(async () => {
  redis = await startTestRedis();
  dashboard = await startDashboard({ REDIS_URL: redis.url, QUEUE_PREFIX: 'bad' });
  viewer = await logIn(dashboard.url, testUsers.viewer);
  admin = await logIn(dashboard.url, testUsers.admin);
  const page = await fetch(`${dashboard.url}/login`);
  form = {
    cookie: page.headers.getSetCookie()[0]?.split(';')[0] ?? '',
    csrf: /name="csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '',
  };
});
afterAll(async () => {
  await dashboard?.stop();
  await redis?.stop();
});

/** A request sent as written (see `rawRequest`). */
const raw = (...call: RawCall) => rawRequest(dashboard.url, ...call);

const formHeaders = () => ({
  'content-type': 'application/x-www-form-urlencoded',
  cookie: form.cookie,
  origin: dashboard.url,
});
const loginBody = (fields: Record<string, string | string[]>) => {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries({ csrf: form.csrf, ...fields })) {
    for (const item of [value].flat()) params.append(key, item);
  }
  return params.toString();
};

describe('the login, given hostile input', () => {
  const { name, password } = testUsers.operator;
  const cases: [string, () => [Record<string, string>, string | Buffer], number][] = [
    ['no body', () => [formHeaders(), ''], 403],
    ['no form token', () => [formHeaders(), `name=${name}&password=${password}`], 403],
    [
      'a wrong form token',
      () => [formHeaders(), loginBody({ name, password, csrf: 'x'.repeat(32) })],
      403,
    ],
    [
      'another origin',
      () => [{ ...formHeaders(), origin: 'http://evil.example' }, loginBody({ name, password })],
      403,
    ],
    ['no origin', () => [{ ...formHeaders(), origin: '' }, loginBody({ name, password })], 403],
    [
      'no login cookie',
      () => [{ ...formHeaders(), cookie: '' }, loginBody({ name, password })],
      403,
    ],
    [
      'JSON instead of a form',
      () => [
        { ...formHeaders(), 'content-type': 'application/json' },
        JSON.stringify({ name, password, csrf: form.csrf }),
      ],
      403,
    ],
    ['the name twice', () => [formHeaders(), loginBody({ name: [name, 'ada'], password })], 400],
    ['an empty password', () => [formHeaders(), loginBody({ name, password: '' })], 400],
    [
      'a 65-character name',
      () => [formHeaders(), loginBody({ name: 'a'.repeat(65), password })],
      400,
    ],
    [
      'a 1,025-character password',
      () => [formHeaders(), loginBody({ name, password: 'p'.repeat(1_025) })],
      400,
    ],
    [
      'a 100 kB password',
      () => [formHeaders(), loginBody({ name, password: 'p'.repeat(100_000) })],
      413,
    ],
    [
      'too many fields',
      () => [
        formHeaders(),
        loginBody(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}`, 'x']))),
      ],
      413,
    ],
    ['a unicode name', () => [formHeaders(), loginBody({ name: 'ötto', password })], 401],
    [
      'a name with a newline',
      () => [formHeaders(), loginBody({ name: 'otto\nadmin', password })],
      401,
    ],
    ['a NUL in the name', () => [formHeaders(), loginBody({ name: 'otto\u0000', password })], 401],
    [
      'a name of HTML',
      () => [formHeaders(), loginBody({ name: '<img src=x onerror=alert(1)>', password })],
      401,
    ],
    [
      'bytes that are not UTF-8',
      () => [
        formHeaders(),
        Buffer.concat([Buffer.from(loginBody({ password })), Buffer.from('&name=%C3%28%FF')]),
      ],
      401,
    ],
    [
      'the right password with a trailing space',
      () => [formHeaders(), loginBody({ name, password: `${password} ` })],
      401,
    ],
  ];
  it.each(cases)('answers %s with a clear 4xx and no session', async (_case, make, status) => {
    const [headers, body] = make();
    const answer = await raw('POST', '/login', headers, body);
    expect(answer.status).toBe(status);
    expect(answer.sessionCookie).toBe(false);
    expect(answer.body).not.toMatch(/<img src=x/); // what the caller sent comes back escaped
  });
});

describe('cookies and paths, given hostile input', () => {
  const noSession: [string, Record<string, string>][] = [
    ['a garbage session cookie', { cookie: 'errand_session=garbage' }],
    [
      'a session id of the right shape that nobody has',
      { cookie: `errand_session=${'A'.repeat(43)}` },
    ],
    ['a session cookie of 8 kB', { cookie: `errand_session=${'A'.repeat(8_000)}` }],
    [
      'a thousand cookies',
      { cookie: Array.from({ length: 1_000 }, (_, i) => `c${i}=1`).join('; ') },
    ],
    ['a unicode cookie', { cookie: 'errand_session=%E2%9C%93%00' }],
    [
      'two session cookies, one forged',
      { cookie: `errand_session=${'B'.repeat(43)}; errand_session=x` },
    ],
    ['a proxy user header without a proxy', { 'x-forwarded-user': testUsers.admin.name }],
  ];
  it.each(noSession)('refuses %s: 401, no session', async (_case, headers) => {
    const answer = await raw('GET', '/api/queues', headers);
    expect(answer.status).toBe(401);
    expect(answer.sessionCookie).toBe(false);
  });

  const paths: [string, string, number][] = [
    // the static folder refuses to be left (403) and never serves a NUL (400)
    ['GET', '/errand/../../package.json', 403],
    ['GET', '/errand/%2e%2e/%2e%2e/package.json', 403],
    ['GET', '/errand/..%2f..%2fpackage.json', 403],
    ['GET', '/errand/%2e%2e%2f%2e%2e%2fsrc%2fmain.ts', 403],
    ['GET', '/errand/board.js%00.png', 400],
    ['GET', '/errand/nothing-here.js', 404],
    ['GET', '/static/..%2f..%2f..%2fpackage.json', 404],
    ['GET', '/api/queues/..%2f..%2fredis%2fstats', 404],
    ['GET', '/api/queues/nope/metrics', 404],
    ['GET', `/api/queues/email/${'9'.repeat(5_000)}`, 404],
    ['GET', '/api/queues/email/%00', 404],
    ['GET', '/audit', 403],
    // Bull Board's paging numbers: bounded before they reach Redis
    ['GET', '/api/queues?activeQueue=email&status=failed&page=1e300', 400],
    ['GET', '/api/queues?activeQueue=email&status=failed&page=0', 400],
    ['GET', '/api/queues?activeQueue=email&status=failed&jobsPerPage=100000000000', 400],
    ['GET', '/api/queues?activeQueue=email&status=failed&jobsPerPage=-5', 400],
    ['GET', '/api/queues?activeQueue=email&status=failed&page=2&jobsPerPage=50', 200],
    ['GET', '/audit/../api/queues', 404], // no route of that name: paths are not re-read
  ];
  it.each(paths)('answers %s %s for a viewer with %i, never 500', async (method, path, status) => {
    const answer = await raw(method, path, { cookie: viewer.cookie });
    expect(answer.status).toBe(status);
    expect(answer.body).not.toContain('"name": "errand"');
  });

  const adminCalls: [string, string, string, Record<string, string>, number][] = [
    ['GET', '/audit?limit=-1', '', {}, 400],
    ['GET', '/audit?limit=abc', '', {}, 400],
    ['GET', '/audit?limit[x]=1', '', {}, 200], // an unknown parameter, ignored
    ['PUT', '/api/queues/nope/pause', '', {}, 404],
    [
      'PATCH',
      '/api/queues/email/1/update-data',
      '{"data":',
      { 'content-type': 'application/json' },
      400,
    ],
    [
      'PATCH',
      '/api/queues/email/1/update-data',
      JSON.stringify({ data: 'x'.repeat(200_000) }),
      { 'content-type': 'application/json' },
      413,
    ],
    ['PUT', '/api/queues/email/pause', '', { 'x-csrf-token': '' }, 403],
    ['PUT', '/api/queues/email/pause', '', { 'x-csrf-token': 'x'.repeat(10_000) }, 403],
    ['PUT', '/api/queues/email/pause', '', { origin: 'null' }, 403],
    [
      'POST',
      '/logout',
      'csrf=nope',
      { 'content-type': 'application/x-www-form-urlencoded', 'x-csrf-token': '' },
      403,
    ],
  ];
  it.each(adminCalls)(
    'answers an admin’s %s %s (case %#) as expected',
    async (method, path, body, extra, status) => {
      const headers = {
        cookie: admin.cookie,
        origin: dashboard.url,
        'x-csrf-token': admin.csrf,
        ...extra,
      };
      const answer = await raw(method, path, headers, body);
      expect(answer.status).toBe(status);
      expect(answer.sessionCookie).toBe(false);
    },
  );

  // The dashboard's own errors, one of each kind, as problem+json. Bull Board's own refusals
  // (its API's 4xx, the permission table's among them) keep the shape its page reads.
  const ownErrors: [
    string,
    string,
    'nobody' | 'viewer' | 'admin',
    Record<string, string>,
    DashboardProblemType,
    number,
  ][] = [
    ['GET', '/api/queues', 'nobody', {}, 'unauthorized', 401],
    ['GET', '/audit', 'viewer', {}, 'forbidden', 403],
    ['GET', '/audit?limit=abc', 'admin', {}, 'invalid-parameter', 400],
    ['PUT', '/api/queues/email/pause', 'admin', { 'x-csrf-token': '' }, 'csrf', 403],
    ['GET', '/no-such-page', 'viewer', {}, 'not-found', 404],
    ['GET', '/errand/nothing-here.js', 'nobody', {}, 'not-found', 404],
    ['GET', '/errand/../../package.json', 'nobody', {}, 'bad-request', 403],
    [
      'POST',
      '/logout',
      'admin',
      { 'content-type': 'application/x-www-form-urlencoded' },
      'bad-request',
      413,
    ],
  ];
  it.each(ownErrors)(
    'answers %s %s (%s) as problem+json: %s, %i',
    async (method, path, who, extra, type, status) => {
      const headers = {
        ...(who === 'nobody' ? {} : { cookie: { viewer, admin }[who].cookie }),
        origin: dashboard.url,
        'x-csrf-token': who === 'admin' ? admin.csrf : '',
        ...extra,
      };
      const body = status === 413 ? `csrf=${'x'.repeat(4_000)}` : '';
      const answer = await raw(method, path, headers, body);
      expect([answer.status, answer.contentType]).toEqual([
        status,
        expect.stringMatching(/^application\/problem\+json/),
      ]);
      expect(JSON.parse(answer.body)).toEqual({
        type: `${PROBLEM_BASE}${type}`,
        title: dashboardProblems[type].title,
        status,
        detail: expect.any(String),
      });
    },
  );

  it('is still up and never answered 500', async () => {
    expect((await viewer.fetch('/api/queues')).status).toBe(200);
    expect(dashboard.output()).not.toContain('request failed');
  });
});

describe('without Redis', () => {
  it('answers a logged-in request with 503 redis-unavailable as problem+json, and logs why', async () => {
    const gone = await startTestRedis();
    const alone = await startDashboard({ REDIS_URL: gone.url, QUEUE_PREFIX: 'gone' });
    try {
      const login = await logIn(alone.url, testUsers.viewer);
      await gone.kill();
      const answer = await eventually(async () => {
        const got = await rawRequest(alone.url, 'GET', '/api/queues', { cookie: login.cookie });
        return got.status === 503 ? got : undefined;
      });
      expect(answer.contentType).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(answer.body)).toMatchObject({
        type: `${PROBLEM_BASE}redis-unavailable`,
        status: 503,
      });
      await alone.waitForLine('dashboard: request failed', 5_000);
    } finally {
      await alone.stop();
      await gone.stop();
    }
  });
});
