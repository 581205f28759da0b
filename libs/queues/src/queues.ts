import { type JobType, jobs, jobTypes } from '@errand/contract';
import { type BackendFactory, createRedisBackend, Queue } from 'bullmq';
import type { Redis } from 'ioredis';

export type Queues = Record<JobType, Queue>;

/**
 * One BullMQ Queue per job type of the contract, all sharing one connection; `addBulk` adds
 * all or none (`atomicBulkBackend`).
 */
export function openQueues(connection: Redis, prefix: string): Queues {
  const entries = jobTypes.map((type) => [
    type,
    new Queue(
      jobs[type].queue,
      { connection, prefix, defaultJobOptions: jobs[type].defaults },
      atomicBulkBackend,
    ),
  ]);
  return Object.fromEntries(entries) as Queues;
}

export async function closeQueues(queues: Queues): Promise<void> {
  await Promise.all(Object.values(queues).map((queue) => queue.close()));
}

/**
 * BullMQ's Redis backend with `addBulk` made all or none again. BullMQ 6 sends a bulk add as a
 * pipeline, not a MULTI (its docs still call it atomic): other clients, workers included, see
 * a batch half added while it goes in, and a connection lost halfway leaves its first jobs
 * added under a 503. Here the same adds go in one MULTI … EXEC: Redis runs all of them or none,
 * and nothing runs between them; the ids are read from the EXEC's replies, as BullMQ reads
 * them from the pipeline's. Only jobs without a parent (all Errand adds) are one command each.
 */
export const atomicBulkBackend: BackendFactory = (name, opts, options) => {
  const backend = createRedisBackend(name, opts, options);
  backend.addJobs = async (entries) => {
    const multi = (await backend.connection.client).multi();
    const adds = entries.map((entry) =>
      backend.addJobToTransaction(multi, entry.job, entry.jobId, entry.parentKeyOpts),
    );
    // Their outcomes are the EXEC's; a failed one must not go unhandled.
    void Promise.allSettled(adds);
    const results = (await multi.exec()) ?? [];
    if (results.length !== entries.length) {
      throw new Error(`addBulk: ${results.length} results for ${entries.length} jobs`);
    }
    return results.map(([error, id]) => {
      if (error) throw error;
      return String(id);
    });
  };
  return backend;
};
