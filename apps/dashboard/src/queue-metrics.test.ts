import { jobs, jobTypes } from '@errand/contract';
import { Metrics } from '@errand/observability';
import { closeQueues, openQueues, type Queues, queuePrefix } from '@errand/queues';
import { createRedis } from '@errand/redis';
import { eventually, startTestRedis, type TestRedis } from '@errand/testing';
import { type Job, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { queueMetrics } from './queue-metrics.ts';

const PREFIX = 'qmetrics';
const MAX_MEMORY = 100 * 1024 * 1024;

let server: TestRedis;
let redis: Redis; // the dashboard's connection, as main.ts makes it
let queues: Queues;
beforeAll(async () => {
  server = await startTestRedis();
  redis = createRedis(server.url, 'producer', { lazyConnect: true });
  redis.on('error', () => {}); // the last test kills Redis
  await redis.connect();
  queues = openQueues(redis, PREFIX);
  await redis.config('SET', 'maxmemory', String(MAX_MEMORY));
});
afterAll(async () => {
  await closeQueues(queues).catch(() => {});
  redis.disconnect();
  await server.stop();
});

/** A registry with only the exporter, scraped as Prometheus would. */
function exporter(cacheMs?: number) {
  const metrics = new Metrics('dashboard');
  queueMetrics(metrics, { queues, redis }, { cacheMs });
  return async () => samples(await metrics.registry.metrics());
}

/** `name{labels}` → value of every errand_queue_* and errand_redis_* sample. */
const samples = (body: string) =>
  new Map(
    body
      .split('\n')
      .filter((line) => /^errand_(queue|redis)_/.test(line))
      .map((line) => [
        line.slice(0, line.lastIndexOf(' ')),
        Number(line.slice(line.lastIndexOf(' ') + 1)),
      ]),
  );
const jobsIn = (scrape: Map<string, number>, queue: string) =>
  Object.fromEntries(
    [...scrape].flatMap(([series, value]) => {
      const state = new RegExp(
        `^errand_queue_jobs\\{queue="${queue}",state="([a-z-]+)",app="dashboard"\\}$`,
      ).exec(series)?.[1];
      return state ? [[state, value]] : [];
    }),
  );

it('exports counts by state, oldest waiting age, paused, workers and Redis memory', async () => {
  const connection = new Redis(server.url, { maxRetriesPerRequest: null });
  let release = () => {};
  const hanging = new Promise<void>((resolve) => {
    release = resolve;
  });
  const run = async (job: Job) => {
    if (job.data.outcome === 'fail') throw new Error('no');
    if (job.data.outcome === 'hang') await hanging;
  };
  const worker = new Worker(jobs.digest.queue, run, {
    connection,
    prefix: queuePrefix(PREFIX, jobs.digest.queue),
    name: 'w',
  });
  try {
    const once = { attempts: 1 };
    await queues.digest.add('ok', { outcome: 'ok' }, once);
    await queues.digest.add('fail', { outcome: 'fail' }, once);
    await eventually(async () => {
      const { completed, failed } = await queues.digest.getJobCounts('completed', 'failed');
      return completed === 1 && failed === 1 ? true : undefined;
    });
    await queues.digest.add('hang', { outcome: 'hang' }, once);
    await eventually(async () => ((await queues.digest.getActiveCount()) === 1 ? true : undefined));
    await queues.email.add('a', {}, { timestamp: Date.now() - 90_000 });
    await queues.email.add('b', {});
    await queues.email.add('p', {}, { priority: 3 });
    await queues.email.add('later', {}, { delay: 60_000 });
    await queues.image.pause();

    const scrape = await exporter()();
    expect(jobsIn(scrape, 'email')).toEqual({
      waiting: 2,
      prioritized: 1,
      delayed: 1,
      active: 0,
      failed: 0,
      completed: 0,
      'waiting-children': 0,
    });
    expect(jobsIn(scrape, 'digest')).toMatchObject({
      waiting: 0,
      active: 1,
      failed: 1,
      completed: 1,
    });
    const age = scrape.get(
      'errand_queue_oldest_waiting_age_seconds{queue="email",app="dashboard"}',
    );
    expect(age).toBeGreaterThanOrEqual(90);
    expect(age).toBeLessThan(100);
    expect(
      scrape.get('errand_queue_oldest_waiting_age_seconds{queue="digest",app="dashboard"}'),
    ).toBe(0);
    expect(scrape.get('errand_queue_paused{queue="image",app="dashboard"}')).toBe(1);
    expect(scrape.get('errand_queue_paused{queue="email",app="dashboard"}')).toBe(0);
    expect(scrape.get('errand_queue_workers{queue="digest",app="dashboard"}')).toBe(1);
    expect(scrape.get('errand_queue_workers{queue="email",app="dashboard"}')).toBe(0);
    expect(scrape.get('errand_redis_up{app="dashboard"}')).toBe(1);
    expect(scrape.get('errand_redis_memory_max_bytes{app="dashboard"}')).toBe(MAX_MEMORY);
    expect(scrape.get('errand_redis_memory_used_bytes{app="dashboard"}')).toBeGreaterThan(100_000);
    // Every queue of the contract, and no label but queue, state and app.
    expect(Object.keys(jobsIn(scrape, 'analytics-maintenance'))).toHaveLength(7);
    expect(scrape.size).toBe(jobTypes.length * (7 + 3) + 3);
    for (const series of scrape.keys()) {
      expect(series).toMatch(
        /^errand_[a-z_]+(\{(queue="[a-z-]+",)?(state="[a-z-]+",)?app="dashboard"\})$/,
      );
    }
  } finally {
    release();
    await worker.close();
    connection.disconnect();
  }
});

it('reads Redis once per cacheMs, at a cost that does not grow with the queues', async () => {
  const scrape = exporter(500);
  await scrape(); // the scripts are loaded now
  const expire = () => new Promise((resolve) => setTimeout(resolve, 600));
  await expire();
  const lists = await clientListCalls();
  const cost = await commandsOf(() => Promise.all([scrape(), scrape()]));
  expect(await clientListCalls()).toBe(lists + 1); // two scrapes, seven gauges: one read
  expect(await commandsOf(scrape)).toBe(0); // within cacheMs
  await queues.email.addBulk(Array.from({ length: 200 }, (_, n) => ({ name: `j${n}`, data: {} })));
  await expire();
  expect(await commandsOf(scrape)).toBe(cost);
});

it('answers within the timeout with errand_redis_up 0 while Redis does not answer', async () => {
  const scrape = exporter(0);
  const pauser = new Redis(server.url);
  await pauser.client('PAUSE', 3_000, 'ALL');
  const started = performance.now();
  const paused = await scrape();
  expect(performance.now() - started).toBeLessThan(2_500);
  expect([...paused]).toEqual([['errand_redis_up{app="dashboard"}', 0]]);
  pauser.disconnect();
  await eventually(
    async () => (await scrape()).get('errand_redis_up{app="dashboard"}') || undefined,
    {
      timeoutMs: 5_000,
    },
  );
});

it('answers at once with errand_redis_up 0 and no queue samples when Redis is gone', async () => {
  const scrape = exporter(0);
  expect((await scrape()).get('errand_redis_up{app="dashboard"}')).toBe(1);
  await server.kill();
  await eventually(() => (redis.status === 'ready' ? undefined : true));
  const started = performance.now();
  const down = await scrape();
  expect(performance.now() - started).toBeLessThan(200);
  expect([...down]).toEqual([['errand_redis_up{app="dashboard"}', 0]]);
});

/** Commands Redis ran during `action` (those of Lua scripts included), by INFO commandstats. */
async function commandsOf(action: () => Promise<unknown>): Promise<number> {
  const before = await commandCalls();
  await action();
  return (await commandCalls()) - before - 1; // less the INFO of `before`, counted after it ran
}

async function commandCalls(): Promise<number> {
  const stats = await redis.info('commandstats');
  return [...stats.matchAll(/calls=(\d+)/g)].reduce((sum, [, calls]) => sum + Number(calls), 0);
}

async function clientListCalls(): Promise<number> {
  const stats = await redis.info('commandstats');
  return Number(/cmdstat_client\|list:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}
