import { type JobType, jobs, jobTypes } from '@errand/contract';
import { FlowProducer, type JobsOptions, Queue } from 'bullmq';
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
  await Promise.all(
    Object.values(queues).map(async (queue) => {
      await transactions.get(queue)?.close();
      await queue.close();
    }),
  );
}

/** A job to add: its name (the producer), payload and options. */
export interface NewJob {
  name: string;
  data: unknown;
  opts: JobsOptions;
}

/** Per queue, the FlowProducer its transactions go through, on the queue's own connection. */
const transactions = new WeakMap<Queue, FlowProducer>();

/**
 * Add jobs to a queue all or none, with the queue's default options; resolves with their ids.
 * BullMQ 6's `addBulk` sends its adds as a pipeline, not a MULTI: a connection lost halfway
 * leaves the first jobs added and the request answered 503, and workers may take a batch's
 * first jobs before its last are in. `FlowProducer.addBulk` is BullMQ's transaction (one
 * MULTI … EXEC): Redis runs every add or none, and nothing runs between them. Jobs without an
 * id of their own get a random UUID (BullMQ refuses custom ids that are integers).
 */
export async function addAllOrNone(queue: Queue, items: NewJob[]): Promise<string[]> {
  let flows = transactions.get(queue);
  if (!flows) {
    const { connection, prefix } = queue.opts;
    flows = new FlowProducer({ connection, prefix });
    transactions.set(queue, flows);
  }
  const defaults = queue.defaultJobOptions;
  const nodes = await flows.addBulk(
    items.map(({ name, data, opts }) => ({
      name,
      queueName: queue.name,
      data,
      opts: { ...defaults, ...opts },
    })),
  );
  return nodes.map((node) => String(node.job.id));
}
