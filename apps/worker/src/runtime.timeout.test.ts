import { jobs } from '@errand/contract';
import { createLogger, Metrics } from '@errand/observability';
import { startTestRedis, type TestRedis } from '@errand/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { allCompleted } from './fleet.testkit.ts';
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

/** The runtime in-process with a processor of the test's own: a real Worker on a real Redis. */
it('aborts an attempt over its timeout through the signal, and retries it', async () => {
  const signals: AbortSignal[] = [];
  const processors: Processors = {
    email: unused,
    image: unused,
    analytics: async ({ events }, ctx) => {
      signals.push(ctx.signal);
      if (ctx.attempt === 1) await new Promise(() => {}); // hangs, ignoring its signal
      return { counted: events.length, duplicates: 0 };
    },
  };
  const runtime = startWorkers({
    types: ['analytics'],
    processors,
    settings: { email: settings(1), image: settings(1), analytics: settings(300) },
    redisUrl: redis.url,
    prefix: 'timeout',
    lockDurationMs: 10_000,
    stalledIntervalMs: 5_000,
    retention: { failedHours: 1, completedHours: 1, completedCount: 100 },
    logger: createLogger('test', 'silent'),
    metrics: new Metrics('test'),
  });
  const queue = new Queue(jobs.analytics.queue, {
    connection: new Redis(redis.url),
    prefix: 'timeout',
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
