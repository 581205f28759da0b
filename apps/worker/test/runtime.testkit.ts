import { type JobType, jobs, jobTypes } from '@errand/contract';
import { createLogger, Metrics } from '@errand/observability';
import { queuePrefix } from '@errand/queues';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { Processor, Processors } from '../src/processor.ts';
import type { QueueSettings } from '../src/queue-settings.ts';
import { type RuntimeOptions, startWorkers } from '../src/runtime.ts';

/** A queue's settings for tests: 2 at once, no rate limit, a 5 s timeout. */
export const testSettings = (own: Partial<QueueSettings> = {}): QueueSettings => ({
  concurrency: 2,
  rateMax: undefined,
  rateDurationMs: 1000,
  timeoutMs: 5_000,
  throttles: false,
  ...own,
});

/**
 * The runtime in-process on a real Redis, serving the analytics queue of `prefix` with
 * `processor` (every type gets it, for the type's sake), and a Queue to add jobs to it.
 * `close()` stops both; options override the runtime's, `queue` the queue settings.
 */
export async function startAnalyticsRuntime(
  redisUrl: string,
  prefix: string,
  processor: Processor<JobType>,
  options: Partial<Omit<RuntimeOptions, 'settings'>> & { queue?: Partial<QueueSettings> } = {},
) {
  const { queue: own, ...rest } = options;
  const runtime = startWorkers({
    types: ['analytics'],
    processors: Object.fromEntries(jobTypes.map((type) => [type, processor])) as Processors,
    settings: Object.fromEntries(jobTypes.map((type) => [type, testSettings(own)])) as Record<
      JobType,
      QueueSettings
    >,
    redisLocation: redisUrl,
    prefix,
    lockDurationMs: 10_000,
    stalledIntervalMs: 5_000,
    retention: { failedHours: 1, failedCount: 100, completedHours: 1, completedCount: 100 },
    logger: createLogger('test', 'silent'),
    metrics: new Metrics('test'),
    ...rest,
  });
  const queue = new Queue(jobs.analytics.queue, {
    connection: new Redis(redisUrl),
    prefix: queuePrefix(prefix, jobs.analytics.queue),
  });
  await runtime.ready();
  return {
    queue,
    async close() {
      await runtime.close(1_000);
      await queue.close();
    },
  };
}
