import { SentinelGroup } from '@errand/devservers';
import {
  eventually,
  type ProducerProcess,
  request,
  startApp,
  startProducerProcess,
} from '@errand/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FleetWorker, startFleet, stopFleet } from '../test/fleet.testkit.ts';

/**
 * Sentinel mode, end to end: a producer and a worker found their primary through a loopback
 * Sentinel group (1 primary, 2 replicas, 3 sentinels); the primary is SIGKILLed; the API
 * answers 503 (never hangs) until the new primary takes writes, and the same worker process
 * consumes again with no restart. Part of `npm run test:ha`.
 */
describe('Sentinel failover', () => {
  let group: SentinelGroup;
  let producer: ProducerProcess;
  let fleet: FleetWorker[] = [];
  let env: Record<string, string>;
  let n = 0;

  const enqueue = () =>
    request(`${producer.api}/v1/jobs/analytics`, {
      method: 'POST',
      json: {
        data: {
          events: [
            { id: `e${++n}`, name: 'signup', userId: `u${n}`, timestamp: new Date().toISOString() },
          ],
        },
      },
    });
  /** `count` jobs at once, again until Redis took every one (a 503 is the API's right). */
  const allAccepted = (count: number) =>
    eventually(
      async () => {
        const answers = await Promise.all(Array.from({ length: count }, () => enqueue()));
        for (const answer of answers) expect([202, 503]).toContain(answer.status);
        return answers.every((answer) => answer.status === 202) ? answers : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: `${count} jobs accepted at once` },
    );
  const completed = (id: string, timeoutMs = 20_000) =>
    eventually(
      async () => {
        const job = await request(`${producer.api}/v1/jobs/analytics/${id}`);
        return job.body?.state === 'completed' ? job.body : undefined;
      },
      { timeoutMs, intervalMs: 100, what: `analytics job ${id} completed` },
    );

  beforeAll(async () => {
    group = await SentinelGroup.start();
    env = {
      REDIS_SENTINELS: group.sentinels.map(({ host, port }) => `${host}:${port}`).join(','),
      REDIS_SENTINEL_NAME: group.name,
      QUEUE_PREFIX: 'ha',
      WORKER_QUEUES: 'analytics',
    };
    producer = await startProducerProcess(env);
    fleet = await startFleet(1, env);
  }, 60_000);
  afterAll(async () => {
    await producer?.stop('SIGKILL');
    await stopFleet(fleet);
    await group?.stop();
  });

  it('runs jobs through the primary Sentinel names', async () => {
    const accepted = await enqueue();
    expect(accepted.status).toBe(202);
    await completed(accepted.body.id);
    expect(producer.output()).toContain('"redis":"sentinel ');
  });

  it('answers 503 while no primary takes writes, then the same worker consumes again', async () => {
    const worker = fleet[0] as FleetWorker;
    const killed = await group.killPrimary();
    const killedAt = Date.now();
    const statuses = new Set<number>();
    // The API: 503 with Retry-After (or a 202 that Redis took) until the new primary answers.
    const back = await eventually(
      async () => {
        const started = Date.now();
        const answer = await enqueue();
        expect(Date.now() - started).toBeLessThan(5_000); // never a hang
        statuses.add(answer.status);
        if (answer.status === 503) expect(answer.headers.get('retry-after')).toBeTruthy();
        else expect(answer.status).toBe(202);
        return answer.status === 202 && (await group.primary()).port !== killed.port
          ? answer.body.id
          : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'a 202 from the new primary' },
    );
    const apiBackMs = Date.now() - killedAt;
    await completed(back);
    const workersBackMs = Date.now() - killedAt;
    expect(worker.child.exitCode).toBeNull();
    // Ready again, by itself: its blocking connection may still be reconnecting when another
    // connection completed the job, so give it the seconds a reconnect takes.
    await eventually(
      async () => ((await fetch(`${worker.url}/readyz`)).status === 200 ? true : undefined),
      { timeoutMs: 5_000, what: 'the worker ready again' },
    );
    // Later jobs are taken by the same worker, without a restart. (Clients that reached the
    // new primary before the sentinels announced it reconnect once more on +switch-master:
    // a request caught in that is a 503 too.)
    const later = await allAccepted(20);
    await Promise.all(later.map((answer) => completed(answer.body.id)));
    expect([...statuses].every((status) => status === 202 || status === 503)).toBe(true);
    process.stdout.write(
      `sentinel failover: API back ${apiBackMs} ms, workers back ${workersBackMs} ms after the kill\n`,
    );
  }, 60_000);

  it('follows a manual failover, where the old primary stays up as a replica', async () => {
    const worker = fleet[0] as FleetWorker;
    const old = (await group.failover()).port;
    const startedAt = Date.now();
    await group.waitForNewPrimary({ port: old });
    // The clients' sockets to the demoted primary stay open: READONLY, UNBLOCKED and the
    // sentinels' +switch-master must move them, or every write fails and no job is taken.
    // Until the sentinels turn it into a replica, the old primary still takes writes (what
    // Redis calls a split brain: min-replicas-to-write bounds it); once it is one, jobs that
    // run prove the clients left it.
    const demoted = group.nodes.find((node) => node.port === old) as (typeof group.nodes)[number];
    await eventually(
      async () => (((await demoted.command('ROLE')) as string[])[0] === 'slave' ? true : undefined),
      { timeoutMs: 30_000, intervalMs: 100, what: `${old} to be a replica` },
    );
    const jobs = await allAccepted(10);
    await Promise.all(jobs.map((answer) => completed(answer.body.id)));
    expect(worker.child.exitCode).toBeNull();
    process.stdout.write(
      `sentinel manual failover: jobs run again ${Date.now() - startedAt} ms later\n`,
    );
  }, 60_000);

  it('refuses to start while a replica would lose jobs, naming it', async () => {
    const replica = await eventually(
      async () => {
        const primary = new Redis((await group.primary()).port);
        const info = await primary.info('replication').finally(() => primary.disconnect());
        return /slave0:ip=[^,]+,port=(\d+),state=online/.exec(info)?.[1];
      },
      { timeoutMs: 20_000, intervalMs: 100, what: 'a replica online' },
    );
    const node = new Redis(Number(replica));
    try {
      await node.config('SET', 'appendonly', 'no');
      const app = startApp('producer', { ...env, PRODUCER_PORT: '0' });
      expect(await app.exited).toBe(1);
      expect(app.output(), app.output()).toContain(
        `Replica 127.0.0.1:${replica}: AOF persistence is off`,
      );
    } finally {
      await node.config('SET', 'appendonly', 'yes');
      node.disconnect();
    }
  }, 30_000);
});
