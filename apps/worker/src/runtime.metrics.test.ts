import { type JobType, jobs, jobTypes } from '@errand/contract';
import { createLogger, Metrics } from '@errand/observability';
import { queuePrefix } from '@errand/queues';
import { eventually, startTestRedis, type TestRedis } from '@errand/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PermanentError, type Processors } from './processor.ts';
import type { QueueSettings } from './queue-settings.ts';
import { startWorkers } from './runtime.ts';

const PREFIX = 'bullmetrics';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(() => redis?.stop());

const settings: QueueSettings = {
  concurrency: 2,
  rateMax: undefined,
  rateDurationMs: 1000,
  timeoutMs: 5_000,
  throttles: false,
};
const unused = async () => {
  throw new Error('not served in this test');
};
const event = (id: string) => ({ id, name: 'signup', timestamp: new Date().toISOString() });

/** BullMQ's per-minute job counts (Bull Board's throughput chart), written by the runtime's Workers. */
it('records completed and failed jobs in BullMQ metrics', async () => {
  const processors = {
    ...Object.fromEntries(jobTypes.map((type) => [type, unused])),
    analytics: async ({ events }, ctx) => {
      const [first] = events;
      if (first?.id === 'bad') throw new PermanentError('bad event');
      if (first?.id === 'flaky' && ctx.attempt === 1) throw new Error('try again');
      return { counted: events.length, duplicates: 0 };
    },
  } as Processors;
  const metrics = new Metrics('test');
  const runtime = startWorkers({
    types: ['analytics'],
    processors,
    settings: Object.fromEntries(jobTypes.map((type) => [type, settings])) as Record<
      JobType,
      QueueSettings
    >,
    redisLocation: redis.url,
    prefix: PREFIX,
    lockDurationMs: 10_000,
    stalledIntervalMs: 5_000,
    retention: { failedHours: 1, failedCount: 100, completedHours: 1, completedCount: 100 },
    logger: createLogger('test', 'silent'),
    metrics,
  });
  const connection = new Redis(redis.url);
  const queue = new Queue(jobs.analytics.queue, {
    connection,
    prefix: queuePrefix(PREFIX, jobs.analytics.queue),
  });
  try {
    await runtime.ready();
    // every outcome's series exists at 0 before the first job, so rate() sees the first one
    const before = await metrics.registry.metrics();
    for (const outcome of ['completed', 'failed', 'retried', 'handed_back']) {
      expect(before).toContain(
        `errand_jobs_finished_total{queue="analytics",outcome="${outcome}",app="test"} 0`,
      );
    }
    const retry = { attempts: 2, backoff: { type: 'fixed', delay: 10 } };
    await queue.addBulk([
      ...['a', 'b', 'c'].map((id) => ({ name: 'analytics', data: { events: [event(id)] } })),
      ...['bad', 'bad'].map((id) => ({ name: 'analytics', data: { events: [event(id)] } })),
      { name: 'analytics', data: { events: [event('flaky')] }, opts: retry },
    ]);
    const finished = await eventually(async () => {
      const counts = await queue.getJobCounts('completed', 'failed');
      return counts.completed === 4 && counts.failed === 2 ? counts : undefined;
    });
    expect(finished).toEqual({ completed: 4, failed: 2 });

    // A failed attempt that is retried is no failure; the retry's success is one completion.
    const [completed, failed] = await Promise.all([
      queue.getMetrics('completed'),
      queue.getMetrics('failed'),
    ]);
    expect(completed.meta.count).toBe(4);
    expect(failed.meta.count).toBe(2);

    // Wait time counts from the end of a job's delay, not from its enqueue.
    await queue.add('analytics', { events: [event('late')] }, { delay: 1_500 });
    await eventually(async () =>
      (await queue.getJobCounts('completed')).completed === 5 ? true : undefined,
    );
    const text = await metrics.registry.metrics();
    const sum = Number(/errand_job_wait_seconds_sum\{[^}]*\} ([\d.e-]+)/.exec(text)?.[1]);
    const count = Number(/errand_job_wait_seconds_count\{[^}]*\} (\d+)/.exec(text)?.[1]);
    expect(count).toBe(7); // first attempts only: the flaky job’s retry is not a wait
    expect(sum).toBeLessThan(1.5);
  } finally {
    await runtime.close(1_000);
    await queue.close();
    connection.disconnect();
  }
});
