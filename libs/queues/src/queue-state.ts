import { type CountedState, countedStates, type JobType, jobs, jobTypes } from '@errand/contract';
import { mastersOf, type RedisClient } from '@errand/redis';
import type { Job, Queue } from 'bullmq';
import { ReplyError } from 'ioredis';
import type { Queues } from './queues.ts';

/** One queue at the moment of the read. */
export interface QueueState {
  type: JobType;
  /** BullMQ's queue name, from the contract. */
  queue: string;
  counts: Record<CountedState, number>;
  paused: boolean;
  /** How long the job first in line has been due; 0 when nothing waits. See `oldestWaiting`. */
  oldestWaitingSeconds: number;
  /** Workers connected to the queue; undefined when not asked for or Redis refuses CLIENT LIST. */
  workers: number | undefined;
}

/**
 * Every queue of `queues`, read at one moment at a bounded cost, whatever the depth of the
 * queues: per queue `getJobCounts` (one script), `isPaused` (one HEXISTS) and the two jobs
 * first in line (one script, then one HGETALL each), all sent at once; and for all queues
 * together one CLIENT LIST, unless `workers: false` (a reader that does not show workers).
 */
export async function readQueueStates(
  queues: Queues,
  redis: RedisClient,
  { workers = true }: { workers?: boolean } = {},
): Promise<QueueState[]> {
  const [clients, states] = await Promise.all([
    workers ? clientNames(redis) : undefined,
    Promise.all(jobTypes.map((type) => readQueue(type, queues[type]))),
  ]);
  const now = Date.now();
  return states.map(({ type, counts, paused, first }) => ({
    type,
    queue: jobs[type].queue,
    counts,
    paused,
    oldestWaitingSeconds: oldestWaiting(first, now),
    workers: clients && countWorkers(queues[type], clients),
  }));
}

async function readQueue(type: JobType, queue: Queue) {
  const [counts, paused, first] = await Promise.all([
    queue.getJobCounts(...countedStates),
    queue.isPaused(),
    // Ascending: the tail of the wait list (the oldest plain job) and the head of the
    // prioritized set (the next to run by priority).
    queue.getJobs(['waiting', 'prioritized'], 0, 0, true),
  ]);
  return { type, counts: counts as Record<CountedState, number>, paused, first };
}

/**
 * Seconds the longest-waiting of the jobs first in line has been due: the oldest job of the
 * wait list, or the prioritized job that runs next, whichever has waited longer. Finding the
 * oldest of all prioritized jobs (a low priority one starved by a stream of higher ones)
 * would mean reading the whole set; this reads two jobs. A job is due from its enqueue plus
 * the delay it asked for (a delayed or scheduled job has not waited while it was delayed),
 * or, once it ran and was retried, from the start of its last attempt (so a retried job's age
 * includes that attempt and its backoff).
 */
function oldestWaiting(first: Job[], now: number): number {
  const due = first.map((job) =>
    Math.max(job.timestamp + (job.opts.delay ?? 0), job.processedOn ?? 0),
  );
  return due.length === 0 ? 0 : Math.max(0, (now - Math.min(...due)) / 1000);
}

/** Names of the clients connected to Redis; undefined where CLIENT LIST is refused. */
/**
 * The names of the clients of each master. A Worker's blocking connection on a Cluster is a
 * Cluster client of its own whose name goes to each node it has connected to, so a worker may
 * show on more than one master, and always on its queue's.
 */
async function clientNames(redis: RedisClient): Promise<string[][] | undefined> {
  try {
    const lists = await Promise.all(
      mastersOf(redis).map(async (node) => (await node.client('LIST')) as string),
    );
    return lists.map((list) =>
      list.split('\n').map((line) => /(?:^| )name=(\S*)/.exec(line)?.[1] ?? ''),
    );
  } catch (error) {
    // Managed Redis may rename CLIENT or an ACL deny it: then the count is unknown.
    if (error instanceof ReplyError) return undefined;
    throw error;
  }
}

/**
 * BullMQ's own matching (`Queue.getWorkers`, whose `clientName()` is protected): each Worker
 * names its blocking connection `<prefix>:<base64 of queue name>`, followed by
 * `:w:<worker name>` when it has a name (bullmq `createBlockingConnection`). On a Cluster,
 * BullMQ counts on the master where the most match, and so does this: a worker is counted
 * once, on its queue's master, however many nodes it has connected to.
 */
function countWorkers(queue: Queue, nodes: string[][]): number {
  const unnamed = `${queue.opts.prefix ?? 'bull'}:${Buffer.from(queue.name).toString('base64')}`;
  const named = `${unnamed}:w:`;
  const counts = nodes.map(
    (names) => names.filter((name) => name === unnamed || name.startsWith(named)).length,
  );
  return Math.max(0, ...counts);
}
