/**
 * Bull Board's API given bad paths, numbers and bodies by users allowed to call it (the login
 * and the session are `bad-input.test.ts`'s): every refusal is a 4xx that leaves the queue as
 * it was, never a 500. See `board-input.ts` for what is checked before Bull Board runs.
 */
import { closeQueues, openQueues, type Queues, queuePrefix } from '@errand/queues';
import { eventually, startTestRedis, type TestRedis } from '@errand/testing';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADD,
  add,
  type Call,
  MAIL,
  notFound,
  refused,
  type Who,
} from '../test/board-input.cases.ts';
import {
  type DashboardProcess,
  type Login,
  logIn,
  type RawCall,
  rawRequest,
  startDashboard,
  testUsers,
} from '../test/dashboard.testkit.ts';

const PREFIX = 'bad';
let redis: TestRedis;
let connection: Redis;
let queues: Queues;
let dashboard: DashboardProcess;
let viewer: Login;
let operator: Login;
let admin: Login;
/** When the email queue's schedule was made (see `seedEmailQueue`). */
let seededAt = 0;

beforeAll(async () => {
  redis = await startTestRedis();
  connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  queues = openQueues(connection, PREFIX);
  seededAt = await seedEmailQueue();
  dashboard = await startDashboard({ REDIS_URL: redis.url, QUEUE_PREFIX: PREFIX });
  viewer = await logIn(dashboard.url, testUsers.viewer);
  operator = await logIn(dashboard.url, testUsers.operator);
  admin = await logIn(dashboard.url, testUsers.admin);
});
afterAll(async () => {
  await dashboard?.stop();
  if (queues) await closeQueues(queues);
  connection?.disconnect();
  await redis?.stop();
});

/** A request sent as written (see `rawRequest`). */
const raw = (...call: RawCall) => rawRequest(dashboard.url, ...call);

/** The headers of `who`: the session cookie, our Origin and the session's CSRF token. */
function headersOf(who: Who, body = ''): Record<string, string> {
  const json: Record<string, string> = body ? { 'content-type': 'application/json' } : {};
  if (who === 'nobody') return json;
  const login = { viewer, operator, admin }[who];
  return { cookie: login.cookie, origin: dashboard.url, 'x-csrf-token': login.csrf, ...json };
}
const send = ([who, method, path, body]: Call) => raw(method, path, headersOf(who, body), body);

/**
 * What a refused call must leave as it was: the email queue's job counts by state and job ids,
 * the scores that order its delayed and prioritized jobs, its schedules and its settings.
 */
async function emailQueue() {
  const key = (name: string) => `${PREFIX}:email:${name}`;
  return {
    counts: await queues.email.getJobCounts(),
    jobs: (await queues.email.getJobs()).map((job) => job.id).sort(),
    delayed: await connection.zrange(key('delayed'), 0, '-1', 'WITHSCORES'),
    prioritized: await connection.zrange(key('prioritized'), 0, '-1', 'WITHSCORES'),
    schedules: (await queues.email.getJobSchedulers()).map((scheduler) => scheduler.key).sort(),
    settings: await connection.hgetall(key('meta')),
  };
}

/**
 * One job in each state a call could touch, a setting only an admin may change (the global
 * concurrency) and a schedule every second. No worker runs after this, so from 5 s on the
 * schedule's run is overdue. Resolves with the time the schedule was made.
 */
async function seedEmailQueue(): Promise<number> {
  const workerConnection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const run = async (job: { name: string }) => {
    if (job.name === 'fail') throw new Error('seeded failure');
  };
  const worker = new Worker('email', run, {
    connection: workerConnection,
    prefix: queuePrefix(PREFIX, 'email'),
  });
  try {
    await queues.email.add('fail', {}, { jobId: 'seed-failed', attempts: 1 });
    await queues.email.add('pass', {}, { jobId: 'seed-completed' });
    await eventually(async () => {
      const { completed, failed } = await queues.email.getJobCounts('completed', 'failed');
      return completed === 1 && failed === 1 ? true : undefined;
    });
  } finally {
    await worker.close();
    workerConnection.disconnect();
  }
  await queues.email.add('wait', {}, { jobId: 'seed-waiting' });
  await queues.email.add('later', {}, { jobId: 'seed-delayed', delay: 3_600_000 });
  await queues.email.add('first', {}, { jobId: 'seed-prioritized', priority: 3 });
  await queues.email.setGlobalConcurrency(4);
  await queues.email.upsertJobScheduler('seed-every-second', { every: 1_000 }, { name: 'tick' });
  return Date.now();
}

describe('Bull Board’s actions, given bad numbers and values', () => {
  it.each(refused)(
    'refuses %s, says why, and changes nothing',
    async (_case, call, status, words) => {
      const before = await emailQueue();
      const answer = await send(call);
      expect(answer.status).toBe(status);
      expect(answer.body).toContain(words);
      expect(await emailQueue()).toEqual(before);
    },
  );

  it('refuses "repeat" for the status of a clean, and keeps an overdue schedule', async () => {
    // From 5 s after the schedule was made (no worker runs), BullMQ's clean of "repeat"
    // would take the schedule's entry for an old finished job and delete it.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, seededAt + 5_500 - Date.now())));
    const before = await emailQueue();
    expect(before.schedules).toEqual(['seed-every-second']);
    const answer = await send(['operator', 'PUT', '/api/queues/email/clean/repeat', '']);
    expect(answer.status).toBe(400);
    expect(await emailQueue()).toEqual(before);
  });

  it('adds a job by hand that the contract accepts, with the queue’s default options', async () => {
    const options = { attempts: 5, backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 } };
    const answer = await send(['admin', 'POST', ADD, add({ ...options, priority: 2 })]);
    expect(answer.status).toBe(200);
    const added = (await queues.email.getJobs(['prioritized'])).filter(
      (job) => job.name === 'by-hand',
    );
    expect(added.map((job) => [job.data, job.opts.attempts])).toEqual([[MAIL, 5]]);
    await added[0]?.remove();
  });

  it('shows an http job’s header values redacted, even to an admin', async () => {
    const job = await queues.http.add('svc', {
      url: 'https://api.example.com/x',
      method: 'GET',
      headers: { authorization: 'Bearer s3cret-token', 'x-trace': 'abc' },
    });
    for (const who of ['viewer', 'admin'] as const) {
      const answer = await fetch(`${dashboard.url}/api/queues/http/${job.id}`, {
        headers: headersOf(who),
      });
      expect(answer.status).toBe(200);
      const text = await answer.text();
      expect(text).not.toContain('s3cret-token');
      expect(JSON.parse(text).job.data.headers).toEqual({
        authorization: '[redacted]',
        'x-trace': '[redacted]',
      });
    }
    await job.remove();
  });

  it('edits a job’s data by hand when the contract accepts it', async () => {
    const mail = { ...MAIL, subject: 'Edited' };
    const path = '/api/queues/email/seed-waiting/update-data';
    const answer = await send(['admin', 'PATCH', path, JSON.stringify({ jobData: mail })]);
    expect(answer.status).toBe(200);
    expect((await queues.email.getJob('seed-waiting'))?.data).toEqual(mail);
    await (await queues.email.getJob('seed-waiting'))?.updateData({});
  });
});

describe('Bull Board’s add, given a hostile body from an admin', () => {
  it('refuses a 200 kB body with 413 and adds nothing', async () => {
    const before = await emailQueue();
    const body = JSON.stringify({ name: 'big', data: 'x'.repeat(200_000) });
    expect((await send(['admin', 'POST', ADD, body])).status).toBe(413);
    expect(await emailQueue()).toEqual(before);
  });

  const mail = JSON.stringify(MAIL);
  const pollution: [string, string, number][] = [
    [
      '`__proto__` at the top',
      `{"__proto__":{"delay":3600000},"name":"proto-top","data":${mail}}`,
      400,
    ],
    [
      '`__proto__` in the options',
      `{"name":"proto-options","data":${mail},"options":{"__proto__":{"delay":3600000}}}`,
      400,
    ],
    [
      '`constructor.prototype` in the options',
      `{"name":"constructor","data":${mail},"options":{"constructor":{"prototype":{"delay":3600000}}}}`,
      400,
    ],
    [
      '`__proto__` in the data',
      `{"name":"proto-data","data":{"__proto__":{"delay":3600000}}}`,
      400,
    ],
  ];
  it.each(pollution)('refuses %s with %i and adds nothing', async (_case, body, status) => {
    const before = await emailQueue();
    expect((await send(['admin', 'POST', ADD, body])).status).toBe(status);
    expect(await emailQueue()).toEqual(before);
    expect(({} as Record<string, unknown>).delay).toBeUndefined();
  });

  it('refuses JSON nested 5,000 deep with 400, never 500', async () => {
    const before = await emailQueue();
    const body = `{"name":"deep","data":${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}}`;
    const answer = await send(['admin', 'POST', ADD, body]);
    expect([answer.status, answer.body]).toEqual([400, expect.stringContaining('nested')]);
    expect(await emailQueue()).toEqual(before);
  });

  it('still answers /healthz after them', async () => {
    const health = await fetch(`${dashboard.url}/healthz`);
    expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
  });
});

describe('odd job and schedule ids in paths', () => {
  it.each(notFound)('answers %s’s %s %s with 404 and changes nothing', async (...call) => {
    const before = await emailQueue();
    expect((await send(call)).status).toBe(404);
    expect(await emailQueue()).toEqual(before);
  });
});

describe('Redis stats and the ops endpoints', () => {
  it('shows a viewer Redis’s stats as JSON, and refuses them without a session as the rest of the API', async () => {
    const stats = await viewer.fetch('/api/redis/stats');
    expect(stats.status).toBe(200);
    expect(stats.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await stats.json()).toMatchObject({
      backend: 'redis',
      version: expect.any(String),
      clients: { connected: expect.any(Number) },
    });
    const asked: Record<string, string>[] = [
      {},
      { accept: 'text/html', 'sec-fetch-mode': 'navigate' },
    ];
    for (const headers of asked) {
      const anonymous = await raw('GET', '/api/redis/stats', headers);
      expect(anonymous.status).toBe(401);
      expect(anonymous).toEqual(await raw('GET', '/api/queues', headers));
    }
  });

  // method, its answer without a session (the login wall), its answer for an admin with the
  // session's token (no such route: 404); OPTIONS is Express's own, naming GET and HEAD
  const oddMethods: [string, number, number][] = [
    ['POST', 401, 404],
    ['PUT', 401, 404],
    ['DELETE', 401, 404],
    ['PATCH', 401, 404],
    ['OPTIONS', 200, 200],
  ];
  const opsCalls = ['/metrics', '/healthz', '/readyz'].flatMap((path) =>
    oddMethods.map(([method, nobody, asAdmin]) => [method, path, nobody, asAdmin] as const),
  );
  it.each(opsCalls)(
    'answers %s %s with %i without a session and %i for an admin, and changes nothing',
    async (method, path, nobody, asAdmin) => {
      const before = await emailQueue();
      const anonymous = await raw(method, path, headersOf('nobody'));
      const byAdmin = await raw(method, path, headersOf('admin'));
      expect([anonymous.status, byAdmin.status]).toEqual([nobody, asAdmin]);
      if (method === 'OPTIONS')
        expect([anonymous.allow, byAdmin.allow]).toEqual(['GET, HEAD', 'GET, HEAD']);
      expect(await emailQueue()).toEqual(before);
    },
  );

  it('still serves /metrics, /healthz and /readyz after them', async () => {
    const metrics = await fetch(`${dashboard.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('errand_queue_jobs{queue="email"');
    for (const path of ['/healthz', '/readyz']) {
      expect((await fetch(`${dashboard.url}${path}`)).status).toBe(200);
    }
  });
});

it('failed no request of this file (a failure would be logged as "request failed", with a 500)', () => {
  expect(dashboard.output()).not.toMatch(/request failed|"status":500/);
});
