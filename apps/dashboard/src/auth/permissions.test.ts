import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { createLogger } from '@errand/observability';
import { closeQueues, openQueues, type Queues } from '@errand/queues';
import { startTestRedis, type TestRedis } from '@errand/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DashboardProcess,
  type Login,
  logIn,
  startDashboard,
  testUsers,
} from '../../test/dashboard.testkit.ts';
import { makeBoard } from '../board.ts';
import { permissions } from './permissions.ts';
import { allows, type Role, roles } from './roles.ts';

type ApiRoutes = Parameters<ExpressAdapter['setApiRoutes']>[0];

/** Every API route a board registers: ours as the dashboard makes it, or (`withHistory`)
 * with a history provider of every capability, which turns on the routes that exist only
 * with one. */
function registeredRoutes(
  queues: Queues,
  withHistory = false,
): { method: string; route: string; array: boolean }[] {
  const seen: { method: string; route: string; array: boolean }[] = [];
  class Recording extends ExpressAdapter {
    override setApiRoutes(routes: ApiRoutes): ExpressAdapter {
      for (const { method, route } of routes) {
        const array = Array.isArray(method) || Array.isArray(route);
        for (const m of [method].flat())
          for (const r of [route].flat()) seen.push({ method: m, route: r, array });
      }
      return super.setApiRoutes(routes);
    }
  }
  if (!withHistory) {
    makeBoard(queues, createLogger('test', 'silent'), {
      readOnlyMode: false,
      adapter: new Recording(),
    });
    return seen;
  }
  createBullBoard({
    queues: Object.values(queues).map((queue) => new BullMQAdapter(queue)),
    serverAdapter: new Recording(),
    options: {
      historyProvider: {
        getHistory: async () => [],
        getLatency: async () => [],
        getUsage: async () => ({ bytes: 0, points: 0 }) as never,
        purge: async () => ({ deleted: 0 }) as never,
      },
    },
  });
  return seen;
}

const PREFIX = 'perms';
let redis: TestRedis;
let connection: Redis;
let queues: Queues;
let dashboard: DashboardProcess;
const logins = {} as Record<Role, Login>;

beforeAll(async () => {
  redis = await startTestRedis();
  connection = new Redis(redis.url);
  queues = openQueues(connection, PREFIX);
  dashboard = await startDashboard({ REDIS_URL: redis.url, QUEUE_PREFIX: PREFIX });
  for (const role of roles) logins[role] = await logIn(dashboard.url, testUsers[role]);
});
afterAll(async () => {
  await dashboard?.stop();
  await closeQueues(queues);
  connection?.disconnect();
  await redis?.stop();
});

describe('the permission table', () => {
  it('names every route Bull Board registers, and no route it does not', () => {
    const routes = registeredRoutes(queues, true).map(({ method, route }) => `${method} ${route}`);
    expect(routes.length).toBeGreaterThan(30);
    // Bull Board's hook sees only the first method and route of a route declared with
    // several: the table could then not tell them apart
    expect(registeredRoutes(queues, true).filter(({ array }) => array)).toEqual([]);
    expect(routes.filter((key) => !(key in permissions))).toEqual([]);
    expect(Object.keys(permissions).filter((key) => !routes.includes(key))).toEqual([]);
  });

  it('lets viewers only read, and keeps emptying, obliterating and editing for admins', () => {
    for (const [key, { role }] of Object.entries(permissions)) {
      expect([key, role === 'viewer']).toEqual([key, key.startsWith('get ')]);
    }
    for (const admin of ['empty', 'obliterate', 'update-data', 'add']) {
      const [, permission] =
        Object.entries(permissions).find(([key]) => key.endsWith(`/${admin}`)) ?? [];
      expect([admin, permission?.role]).toEqual([admin, 'admin']);
    }
  });
});

/** A concrete path for a route pattern: a queue that exists, a job and scheduler that don't. */
const concrete = (route: string) =>
  route
    .replace(':queueName', 'email')
    .replace(':jobId', 'no-such-job')
    .replace(':queueStatus', 'failed')
    .replace(':schedulerId', 'no-such-scheduler');

describe('the running dashboard', () => {
  it('refuses every route to every role below its least role, before doing anything', async () => {
    // no worker runs: a waiting job stays waiting, a delayed one delayed
    const mail = { to: 'a@example.com', subject: 's', text: 't' };
    await queues.email.add('email', mail);
    await queues.email.add('email', mail, { delay: 60_000 });
    const refused: string[] = [];
    const wronglyRefused: string[] = [];
    for (const { method, route } of registeredRoutes(queues)) {
      const least = permissions[`${method} ${route}`]?.role ?? 'admin';
      for (const role of roles) {
        const allowed = allows(role, least);
        if (allowed && method !== 'get') continue; // allowed changes are tried elsewhere
        const response = await logins[role].fetch(concrete(route), {
          method: method.toUpperCase(),
          ...(method === 'get'
            ? {}
            : { headers: { 'content-type': 'application/json' }, body: '{}' }),
        });
        const body = await response.text();
        // refused by the role check itself, not by anything before it (CSRF, login)
        if (!allowed && (response.status !== 403 || !body.includes(`needs the ${least} role`))) {
          refused.push(`${role} ${method} ${route}: ${response.status} ${body.slice(0, 100)}`);
        }
        if (allowed && [401, 403].includes(response.status))
          wronglyRefused.push(`${role} ${method} ${route}`);
      }
    }
    expect(refused).toEqual([]);
    expect(wronglyRefused).toEqual([]);
    // nothing was done: the delayed job, the queue and its pause state are as they were
    expect(await queues.email.getJobCounts('delayed', 'waiting')).toEqual({
      delayed: 1,
      waiting: 1,
    });
    expect(await queues.email.isPaused()).toBe(false);
  }, 60_000);

  it('lets an operator pause and resume a queue, and only an admin empty it', async () => {
    const pause = await logins.operator.fetch('/api/queues/email/pause', { method: 'PUT' });
    expect(pause.status).toBe(200);
    expect(await queues.email.isPaused()).toBe(true);
    expect(
      (await logins.operator.fetch('/api/queues/email/resume', { method: 'PUT' })).status,
    ).toBe(200);
    expect(await queues.email.isPaused()).toBe(false);
    expect((await logins.operator.fetch('/api/queues/email/empty', { method: 'PUT' })).status).toBe(
      403,
    );
    expect(await queues.email.getJobCounts('waiting')).toEqual({ waiting: 1 });
    expect((await logins.admin.fetch('/api/queues/email/empty', { method: 'PUT' })).status).toBe(
      200,
    );
    expect(await queues.email.getJobCounts('waiting', 'delayed')).toEqual({
      waiting: 0,
      delayed: 1,
    });
  });
});
