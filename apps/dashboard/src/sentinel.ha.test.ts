import { jobs } from '@errand/contract';
import { SentinelGroup } from '@errand/devservers';
import { createLogger } from '@errand/observability';
import { closeQueues, openQueues, type Queues } from '@errand/queues';
import { createRedis, type RedisLocation } from '@errand/redis';
import { eventually } from '@errand/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DashboardProcess,
  type Login,
  logIn,
  startDashboard,
  testUsers,
} from '../test/dashboard.testkit.ts';

const PREFIX = 'haboard';

/**
 * The dashboard on a Sentinel group: Bull Board, the login sessions and the queue-depth
 * exporter read the primary Sentinel names, and go on reading the new one after the old is
 * killed, with the same session and no restart. Part of `npm run test:ha`.
 */
describe('the dashboard on Sentinel', () => {
  let group: SentinelGroup;
  let connection: Redis;
  let queues: Queues;
  let dashboard: DashboardProcess;
  let operator: Login;

  const waiting = async () => {
    const answer = await operator.fetch('/api/queues');
    if (answer.status !== 200) return undefined;
    const { queues: listed } = (await answer.json()) as {
      queues: { name: string; counts: Record<string, number> }[];
    };
    return listed.find((queue) => queue.name === jobs.email.queue)?.counts.waiting;
  };
  const exported = async () => {
    const text = await (await fetch(`${dashboard.url}/metrics`)).text();
    return /errand_queue_jobs\{queue="email",state="waiting"[^}]*\} (\d+)/.exec(text)?.[1];
  };

  beforeAll(async () => {
    group = await SentinelGroup.start();
    const location: RedisLocation = {
      mode: 'sentinel',
      sentinels: [...group.sentinels],
      name: group.name,
      sentinelTls: false,
    };
    connection = createRedis(location, 'worker');
    // The test kills the primary on purpose: errors as log lines nobody prints.
    connection.on('error', () => {});
    queues = openQueues(connection, PREFIX, { logger: createLogger('test', 'silent') });
    dashboard = await startDashboard({
      REDIS_SENTINELS: group.sentinels.map(({ host, port }) => `${host}:${port}`).join(','),
      REDIS_SENTINEL_NAME: group.name,
      QUEUE_PREFIX: PREFIX,
    });
    operator = await logIn(dashboard.url, testUsers.operator);
  }, 60_000);
  afterAll(async () => {
    await dashboard?.stop('SIGKILL');
    if (queues) await closeQueues(queues);
    connection?.disconnect();
    await group?.stop();
  });

  it('shows the queues and exports their depth, before and after a failover', async () => {
    const mail = { to: 'ada@example.com', subject: 'Hi', text: 'Hello' };
    await queues.email.addBulk([1, 2, 3].map(() => ({ name: 'email', data: mail })));
    expect(await waiting()).toBe(3);
    expect(await eventually(exported, { what: 'the exported depth' })).toBe('3');
    await group.synced();

    const killed = await group.killPrimary();
    await group.waitForNewPrimary(killed);
    // The same session (kept in Redis, replicated) and the same process read the new primary.
    expect(await eventually(waiting, { timeoutMs: 20_000, what: 'the board after failover' })).toBe(
      3,
    );
    await queues.email.add('email', mail);
    await eventually(async () => ((await waiting()) === 4 ? true : undefined), {
      what: 'the new job on the board',
    });
    await eventually(async () => ((await exported()) === '4' ? true : undefined), {
      timeoutMs: 20_000,
      what: 'the exporter reading the new primary',
    });
    expect(dashboard.child.exitCode).toBeNull();
  }, 60_000);
});
