import { type JobType, jobs, jobTypes } from '@errand/contract';
import { createLogger, Metrics } from '@errand/observability';
import { queuePrefix } from '@errand/queues';
import { eventually, startTestRedis, type TestRedis } from '@errand/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadEnv } from './env.ts';
import type { Processors } from './processor.ts';
import type { QueueSettings } from './queue-settings.ts';
import { startWorkers } from './runtime.ts';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(() => redis?.stop());

const settings: QueueSettings = {
  concurrency: 1,
  rateMax: undefined,
  rateDurationMs: 1000,
  timeoutMs: 1_000,
  throttles: false,
};

it('reads FAILED_RETENTION_COUNT, 10,000 by default', () => {
  expect(loadEnv({}).runtime.retention.failedCount).toBe(10_000);
  expect(loadEnv({ FAILED_RETENTION_COUNT: '5' }).runtime.retention.failedCount).toBe(5);
  expect(() => loadEnv({ FAILED_RETENTION_COUNT: '0' })).toThrow(/FAILED_RETENTION_COUNT/);
});

it('keeps at most failedCount failed jobs per queue, the newest', async () => {
  let runs = 0;
  const fail = async (): Promise<never> => {
    runs++;
    throw new Error(`failure ${runs}`);
  };
  // Only analytics is served; the others are there for the type.
  const served: Partial<Processors> = { analytics: fail };
  const processors = {
    ...Object.fromEntries(jobTypes.map((type) => [type, fail])),
    ...served,
  } as Processors;
  const runtime = startWorkers({
    types: ['analytics'],
    processors,
    settings: Object.fromEntries(jobTypes.map((t) => [t, settings])) as Record<
      JobType,
      QueueSettings
    >,
    redisLocation: redis.url,
    prefix: 'retention',
    lockDurationMs: 10_000,
    stalledIntervalMs: 5_000,
    retention: { failedHours: 1, failedCount: 2, completedHours: 1, completedCount: 100 },
    logger: createLogger('test', 'silent'),
    metrics: new Metrics('test'),
  });
  const queue = new Queue(jobs.analytics.queue, {
    connection: new Redis(redis.url),
    prefix: queuePrefix('retention', jobs.analytics.queue),
  });
  try {
    await runtime.ready();
    const event = { id: 'e1', name: 'signup', timestamp: new Date().toISOString() };
    for (let n = 0; n < 4; n++) await queue.add('analytics', { events: [event] }, { attempts: 1 });
    await eventually(() => (runs === 4 ? true : undefined));
    await eventually(async () =>
      (await queue.getJobCounts('active')).active === 0 ? true : undefined,
    );
    const failed = await queue.getFailed();
    expect(failed.map((job) => job.failedReason).sort()).toEqual(['failure 3', 'failure 4']);
  } finally {
    await runtime.close(1_000);
    await queue.close();
  }
});
