import { type JobType, jobs, jobTypes } from '@errand/contract';
import { createLogger, Metrics } from '@errand/observability';
import { queuePrefix } from '@errand/queues';
import { startTestRedis, type TestRedis } from '@errand/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { allCompleted } from '../test/fleet.testkit.ts';
import { Attempt } from './attempt.ts';
import type { Processors } from './processor.ts';
import type { QueueSettings } from './queue-settings.ts';
import { startWorkers } from './runtime.ts';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(() => redis?.stop());

const settings = (timeoutMs: number): QueueSettings => ({
  concurrency: 2,
  rateMax: undefined,
  rateDurationMs: 1000,
  timeoutMs,
  throttles: false,
});
const unused = async () => {
  throw new Error('not served in this test');
};
/** Every type's processor unused, but those the test gives. */
const processorsWith = (own: Partial<Processors>) =>
  ({ ...Object.fromEntries(jobTypes.map((type) => [type, unused])), ...own }) as Processors;
/** Every queue's settings, but those the test gives. */
const settingsWith = (own: Partial<Record<JobType, QueueSettings>>) =>
  ({
    ...Object.fromEntries(jobTypes.map((type) => [type, settings(1_000)])),
    ...own,
  }) as Record<JobType, QueueSettings>;

/** The runtime in-process with a processor of the test's own: a real Worker on a real Redis. */
it('aborts an attempt over its timeout through the signal, and retries it', async () => {
  const signals: AbortSignal[] = [];
  const processors = processorsWith({
    analytics: async ({ events }, ctx) => {
      signals.push(ctx.signal);
      if (ctx.attempt === 1) await new Promise(() => {}); // hangs, ignoring its signal
      return { counted: events.length, duplicates: 0 };
    },
  });
  const runtime = startWorkers({
    types: ['analytics'],
    processors,
    settings: settingsWith({ analytics: settings(300) }),
    redisLocation: redis.url,
    prefix: 'timeout',
    lockDurationMs: 10_000,
    stalledIntervalMs: 5_000,
    retention: { failedHours: 1, failedCount: 100, completedHours: 1, completedCount: 100 },
    logger: createLogger('test', 'silent'),
    metrics: new Metrics('test'),
  });
  const queue = new Queue(jobs.analytics.queue, {
    connection: new Redis(redis.url),
    prefix: queuePrefix('timeout', jobs.analytics.queue),
  });
  try {
    await runtime.ready();
    const job = await queue.add(
      'analytics',
      { events: [{ id: 'e1', name: 'signup', timestamp: new Date().toISOString() }] },
      { attempts: 3, backoff: { type: 'fixed', delay: 50 } },
    );
    const [done] = await allCompleted(queue, [job], 10_000);
    expect(done?.attemptsMade).toBe(2);
    expect(done?.returnvalue).toEqual({ counted: 1, duplicates: 0 });
    expect(signals[0]?.aborted).toBe(true);
    expect(String(signals[0]?.reason)).toContain('attempt ran over 300 ms');
    expect(signals[1]?.aborted).toBe(false);
  } finally {
    await runtime.close(1_000);
    await runtime.close(1_000); // safe twice
    await queue.close();
  }
});

it('gives a limiter only to queues that may throttle or have a rate (it costs Redis work per job)', async () => {
  const runtime = startWorkers({
    types: ['email', 'image', 'analytics'],
    processors: processorsWith({}),
    settings: settingsWith({
      email: { ...settings(1_000), throttles: true },
      image: { ...settings(1_000), rateMax: 5 },
    }),
    redisLocation: redis.url,
    prefix: 'limiter',
    lockDurationMs: 10_000,
    stalledIntervalMs: 5_000,
    retention: { failedHours: 1, failedCount: 100, completedHours: 1, completedCount: 100 },
    logger: createLogger('test', 'silent'),
    metrics: new Metrics('test'),
  });
  try {
    await runtime.ready();
    const [email, image, analytics] = runtime.workers;
    expect(email?.opts.limiter?.max).toBeGreaterThan(1_000_000);
    expect(image?.opts.limiter).toEqual({ max: 5, duration: 1000 });
    expect(analytics?.opts.limiter).toBeUndefined();
  } finally {
    await runtime.close(1_000);
  }
});

it('hands an attempt aborted before its processor asks for the signal an aborted one', async () => {
  const queue = new Queue(jobs.analytics.queue, {
    connection: new Redis(redis.url),
    prefix: queuePrefix('attempt', jobs.analytics.queue),
  });
  try {
    const job = await queue.add('analytics', { events: [] });
    const attempt = new Attempt(job, 1, createLogger('test', 'silent'));
    const running = attempt.run(() => new Promise(() => {})); // never settles by itself
    attempt.abort(new Error('first'));
    attempt.abort(new Error('second')); // the first reason wins
    await expect(running).rejects.toThrow('first');
    expect(attempt.signal.aborted).toBe(true);
    expect(String(attempt.signal.reason)).toContain('first');
    await expect(attempt.run(async () => 'late')).rejects.toThrow('first');
  } finally {
    await queue.close();
  }
});
