import { jobs } from '@errand/contract';
import { createLogger } from '@errand/observability';
import { closeQueues, openQueues, type Queues, queuePrefix } from '@errand/queues';
import { createRedis, type RedisClient } from '@errand/redis';
import { eventually, type ReplicatedRedis, startReplicatedRedis } from '@errand/testing';
import { Worker } from 'bullmq';
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
 * The dashboard on a Sentinel group and on a Cluster: Bull Board, the login sessions and the
 * queue-depth exporter read the primary (on a Cluster: each queue's master), and go on
 * reading its successor after it is killed, with the same session and no restart. Part of
 * `npm run test:ha`.
 */
describe.each(['sentinel', 'cluster'] as const)('the dashboard on %s', (kind) => {
  let redis: ReplicatedRedis;
  let connection: RedisClient;
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
    redis = await startReplicatedRedis(kind);
    connection = createRedis(redis.location, 'worker');
    // The test kills the primary on purpose: errors as log lines nobody prints.
    connection.on('error', () => {});
    queues = openQueues(connection, PREFIX, { logger: createLogger('test', 'silent') });
    dashboard = await startDashboard({ ...redis.env, QUEUE_PREFIX: PREFIX });
    operator = await logIn(dashboard.url, testUsers.operator);
  }, 60_000);
  afterAll(async () => {
    await dashboard?.stop('SIGKILL');
    if (queues) await closeQueues(queues);
    connection?.disconnect();
    await redis?.stop();
  });

  it('shows the queues and exports their depth, before and after a failover', async () => {
    const mail = { to: 'ada@example.com', subject: 'Hi', text: 'Hello' };
    await queues.email.addBulk([1, 2, 3].map(() => ({ name: 'email', data: mail })));
    expect(await waiting()).toBe(3);
    expect(await eventually(exported, { what: 'the exported depth' })).toBe('3');
    await redis.failover(`${PREFIX}:{email}`);
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

  it('counts the workers of a queue and reads Redis memory on every master', async () => {
    // A worker blocks on its queue's master: on a Cluster, CLIENT LIST must ask every master.
    const idle = new Worker(jobs.email.queue, async () => {}, {
      connection: createRedis(redis.location, 'worker'),
      prefix: queuePrefix(PREFIX, jobs.email.queue),
      name: 'ha-board',
    });
    try {
      await idle.waitUntilReady();
      const metrics = async () => (await fetch(`${dashboard.url}/metrics`)).text();
      await eventually(
        async () =>
          /errand_queue_workers\{queue="email"[^}]*\} 1\b/.test(await metrics()) ? true : undefined,
        { timeoutMs: 20_000, what: 'the email worker counted' },
      );
      expect(
        Number(/errand_redis_memory_used_bytes(?:\{[^}]*\})? (\d+)/.exec(await metrics())?.[1]),
      ).toBeGreaterThan(0);
    } finally {
      await idle.close();
    }
  }, 30_000);
});
