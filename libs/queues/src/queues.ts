import { type JobType, jobs, jobTypes } from '@errand/contract';
import { errorLines, type Logger } from '@errand/observability';
import type { RedisClient } from '@errand/redis';
import { Queue } from 'bullmq';
import { queuePrefix } from './key-layout.ts';
import { atomicBulkBackend } from './transactional-adds.ts';

export type Queues = Record<JobType, Queue>;

/**
 * One BullMQ Queue per job type of the contract, each under its own hash tag (`queuePrefix`),
 * all sharing one connection; `addBulk` adds
 * all or none (`atomicBulkBackend`). With a logger, a Queue's errors (its connection's, while
 * Redis is away) are one log line each instead of BullMQ's printed stack traces.
 */
export function openQueues(
  connection: RedisClient,
  prefix: string,
  options: { logger?: Logger } = {},
): Queues {
  const entries = jobTypes.map((type) => {
    const queue = new Queue(
      jobs[type].queue,
      {
        connection,
        prefix: queuePrefix(prefix, jobs[type].queue),
        defaultJobOptions: jobs[type].defaults,
      },
      atomicBulkBackend,
    );
    if (options.logger) {
      queue.on('error', errorLines(options.logger.child({ queue: type }), 'queue error'));
    }
    return [type, queue];
  });
  return Object.fromEntries(entries) as Queues;
}

export async function closeQueues(queues: Queues): Promise<void> {
  await Promise.all(Object.values(queues).map((queue) => queue.close()));
}
