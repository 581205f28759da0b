import { type JobType, jobs, jobTypes } from '@errand/contract';
import { createLogger, Metrics } from '@errand/observability';
import type { JobOutcome } from '@errand/outbound';
import { queuePrefix } from '@errand/queues';
import { eventually, startTestRedis, type TestRedis } from '@errand/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { allCompleted } from '../test/fleet.testkit.ts';
import { PermanentError, type Processor, type Processors } from './processor.ts';
import type { QueueSettings } from './queue-settings.ts';
import { startWorkers } from './runtime.ts';

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
const event = { events: [{ id: 'e1', name: 'signup', timestamp: new Date().toISOString() }] };
let running: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  await Promise.all(running.map((part) => part.close()));
  running = [];
});

/**
 * The runtime on the analytics queue of `prefix`, with `processor` for every type and an
 * outcome hook that Redis "refuses" the first time; the outcomes it was asked to record.
 */
async function runtimeRefusingOnce(prefix: string, processor: Processor<JobType>) {
  const recorded: JobOutcome['type'][] = [];
  const runtime = startWorkers({
    types: ['analytics'],
    processors: Object.fromEntries(jobTypes.map((type) => [type, processor])) as Processors,
    settings: Object.fromEntries(jobTypes.map((type) => [type, settings])) as Record<
      JobType,
      QueueSettings
    >,
    redisLocation: redis.url,
    prefix,
    lockDurationMs: 10_000,
    stalledIntervalMs: 5_000,
    retention: { failedHours: 1, failedCount: 100, completedHours: 1, completedCount: 100 },
    logger: createLogger('test', 'silent'),
    metrics: new Metrics('test'),
    outcomes: async (_type, _job, outcome) => {
      recorded.push(outcome.type);
      if (recorded.length === 1) throw new Error('READONLY You can’t write against a replica');
    },
  });
  const queue = new Queue(jobs.analytics.queue, {
    connection: new Redis(redis.url),
    prefix: queuePrefix(prefix, jobs.analytics.queue),
  });
  running.push({ close: () => runtime.close(1_000) }, queue);
  await runtime.ready();
  return { queue, recorded };
}

/**
 * A job whose webhook deliveries Redis refuses after it completed on its last attempt is not
 * recorded failed (nor completed without them): it runs again, its attempt not spent.
 */
it('runs a job again, its attempt unspent, when its deliveries cannot be added', async () => {
  let runs = 0;
  const { queue, recorded } = await runtimeRefusingOnce('outcomes', async () => ({
    counted: ++runs,
    duplicates: 0,
  }));
  const job = await queue.add('svc', event, { attempts: 1 });
  const [done] = await allCompleted(queue, [job], 10_000);
  expect(done?.returnvalue).toEqual({ counted: 2, duplicates: 0 });
  expect(done?.attemptsMade).toBe(1); // one attempt of one allowed: the snooze spent none
  expect(recorded).toEqual(['job.completed', 'job.completed']);
});

it('runs a job that failed for good again, its attempt unspent, when its deliveries cannot be added', async () => {
  let runs = 0;
  const { queue, recorded } = await runtimeRefusingOnce('outcomes-failed', async () => {
    runs += 1;
    throw new PermanentError('the target answered 404');
  });
  const job = await queue.add('svc', event, { attempts: 5 });
  const failed = await eventually(async () =>
    (await queue.getJobState(String(job.id))) === 'failed'
      ? queue.getJob(String(job.id))
      : undefined,
  );
  expect(failed?.failedReason).toBe('the target answered 404');
  expect(runs).toBe(2);
  expect(recorded).toEqual(['job.failed', 'job.failed']);
});
