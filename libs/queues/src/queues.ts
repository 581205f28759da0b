import { type JobType, jobs, jobTypes } from '@errand/contract';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

export type Queues = Record<JobType, Queue>;

/** One BullMQ Queue per job type of the contract, all sharing one connection. */
export function openQueues(connection: Redis, prefix: string): Queues {
  const entries = jobTypes.map((type) => [
    type,
    new Queue(jobs[type].queue, { connection, prefix, defaultJobOptions: jobs[type].defaults }),
  ]);
  return Object.fromEntries(entries) as Queues;
}

export async function closeQueues(queues: Queues): Promise<void> {
  await Promise.all(Object.values(queues).map((queue) => queue.close()));
}
