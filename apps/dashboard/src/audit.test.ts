import { request as httpRequest } from 'node:http';
import { Writable } from 'node:stream';
import { PROBLEM_BASE } from '@errand/http';
import { createLogger } from '@errand/observability';
import { eventually, startTestRedis, type TestRedis } from '@errand/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DashboardProcess,
  type Login,
  logIn,
  startDashboard,
  testUsers,
} from '../test/dashboard.testkit.ts';
import { AUDIT_CAPACITY, makeAudit } from './audit.ts';

let redis: TestRedis;
let dashboard: DashboardProcess;
let operator: Login;
let admin: Login;

beforeAll(async () => {
  redis = await startTestRedis();
  dashboard = await startDashboard({ REDIS_URL: redis.url, QUEUE_PREFIX: 'audit' });
  operator = await logIn(dashboard.url, testUsers.operator);
  admin = await logIn(dashboard.url, testUsers.admin);
});
afterAll(async () => {
  await dashboard?.stop();
  await redis?.stop();
});

const pause = (login: Login, headers: Record<string, string>) =>
  login.fetch('/api/queues/email/pause', { method: 'PUT', headers });

describe('CSRF', () => {
  it('refuses a change without the session token or from another origin, and takes it with both', async () => {
    const cases: [string, Record<string, string>, number][] = [
      ['no token', { 'x-csrf-token': '' }, 403],
      ['a wrong token', { 'x-csrf-token': 'A'.repeat(43) }, 403],
      ['the admin’s token', { 'x-csrf-token': admin.csrf }, 403],
      ['another origin', { origin: 'http://evil.example' }, 403],
      ['no origin', { origin: '' }, 403],
      ['http for https', { origin: dashboard.url.replace('http:', 'https:') }, 403],
      ['both right', {}, 200],
    ];
    const got = [];
    for (const [name, headers] of cases) {
      const response = await pause(operator, headers);
      got.push([name, headers, response.status]);
      if (response.status === 403) {
        expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(await response.json()).toMatchObject({ type: `${PROBLEM_BASE}csrf`, status: 403 });
      }
    }
    expect(got).toEqual(cases);
  });
});

describe('the audit log', () => {
  it('records every change with who, role, action, queue, job and outcome; only admins read it', async () => {
    await operator.fetch('/api/queues/email/resume', { method: 'PUT' });
    await operator.fetch('/api/queues/email/no-such-job/retry', { method: 'PUT' });
    await operator.fetch('/api/queues/email/obliterate', { method: 'PUT' });
    const response = await admin.fetch('/audit?limit=4');
    expect(response.status).toBe(200);
    const { entries } = (await response.json()) as { entries: Record<string, unknown>[] };
    const who = { user: 'otto', role: 'operator', ip: '127.0.0.1' };
    expect(entries).toEqual([
      expect.objectContaining({
        ...who,
        action: 'obliterate-queue',
        queue: 'email',
        status: 403,
        outcome: 'denied',
      }),
      expect.objectContaining({
        ...who,
        action: 'retry-job',
        queue: 'email',
        jobId: 'no-such-job',
        status: 404,
        outcome: 'failed',
      }),
      expect.objectContaining({
        ...who,
        action: 'resume-queue',
        queue: 'email',
        status: 200,
        outcome: 'ok',
      }),
      expect.objectContaining({
        ...who,
        action: 'pause-queue',
        queue: 'email',
        status: 200,
        outcome: 'ok',
      }),
    ]);
    expect(Date.parse(String(entries[0]?.at))).toBeGreaterThan(Date.now() - 60_000);
    await dashboard.waitForLine('"msg":"audit: obliterate-queue by otto: denied"', 5_000);

    // a client that hangs up before the answer (here: mid-body) is still on record
    const { port } = new URL(dashboard.url);
    const hangUp = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'PUT',
      path: '/api/queues/image/pause',
      headers: {
        cookie: operator.cookie,
        origin: dashboard.url,
        'x-csrf-token': operator.csrf,
        'content-type': 'application/json',
        'content-length': '100',
      },
    });
    hangUp.on('error', () => {}); // the hang-up is the point
    hangUp.flushHeaders();
    setTimeout(() => hangUp.destroy(), 300);
    const recorded = await eventually(async () => {
      const { entries: latest } = (await (await admin.fetch('/audit?limit=1')).json()) as {
        entries: Record<string, unknown>[];
      };
      return latest[0]?.status === 499 ? latest[0] : undefined;
    });
    expect(recorded).toMatchObject({
      user: 'otto',
      role: 'operator',
      action: 'PUT /api/queues/image/pause',
      outcome: 'aborted',
    });

    expect((await operator.fetch('/audit')).status).toBe(403);
    expect((await admin.fetch('/audit?limit=5000')).status).toBe(400);
    expect((await admin.fetch('/audit?limit=1&limit=2')).status).toBe(400);
  });

  it('keeps a capped stream; an entry Redis refuses is still logged, and recording it does not throw', async () => {
    const connection = new Redis(redis.url);
    const lines: string[] = [];
    const logger = createLogger(
      'test',
      'info',
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    const audit = makeAudit(connection, 'capped', logger);
    const entry = {
      user: 'ada',
      role: 'admin',
      action: 'pause-queue',
      status: 200,
      outcome: 'ok',
    } as const;
    const pipeline = Array.from({ length: AUDIT_CAPACITY + 500 }, () => audit.record(entry));
    await Promise.all(pipeline);
    const length = await connection.xlen('capped:dashboard:audit');
    expect(length).toBeGreaterThanOrEqual(AUDIT_CAPACITY);
    expect(length).toBeLessThan(AUDIT_CAPACITY + 200);
    connection.disconnect();
    await audit.record(entry); // no Redis now: logged, not thrown
    expect(lines.at(-1)).toContain('audit: the entry did not reach Redis');
  }, 60_000);
});
