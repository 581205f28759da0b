import { AsyncLocalStorage } from 'node:async_hooks';
import { type BackendFactory, createRedisBackend, type IRedisTransaction } from 'bullmq';
import type { ChainableCommander } from 'ioredis';

/** A Redis command as its name and arguments, e.g. `['set', key, value]`. */
export type RedisCommand = [name: string, ...args: (string | number)[]];

/**
 * Commands to run in the same MULTI as the jobs an add writes: `before` them (their replies
 * come back in `replies`) and `after` them. The jobs and these commands take effect together
 * or not at all, and nothing runs between them.
 */
export interface Alongside {
  before: RedisCommand[];
  after: RedisCommand[];
  /** The replies of `before`, set once the EXEC has run. */
  replies?: unknown[];
}

const alongside = new AsyncLocalStorage<Alongside>();

/**
 * Run `add` (a `queue.add` or `queue.addBulk` of a queue of `openQueues`) so that its jobs and
 * `commands` are one transaction. Errand's idempotency record says "added" in the same EXEC
 * that adds the jobs, so no crash or lost connection can leave one without the other.
 */
export function addAlongside<T>(commands: Alongside, add: () => Promise<T>): Promise<T> {
  return alongside.run(commands, add);
}

/**
 * BullMQ's Redis backend with every multi-job add (and every add inside `addAlongside`) one
 * MULTI … EXEC. BullMQ 6 sends a bulk add as a pipeline, not a MULTI (its docs still call it
 * atomic): other clients, workers included, see a batch half added while it goes in, and a
 * connection lost halfway leaves its first jobs added under a 503. Here Redis runs all of the
 * adds or none, and nothing runs between them; the ids are read from the EXEC's replies, as
 * BullMQ reads them from the pipeline's. Only jobs without a parent (all Errand adds) are one
 * command each. A single add outside `addAlongside` stays BullMQ's one script call.
 */
export const atomicBulkBackend: BackendFactory = (name, opts, options) => {
  const backend = createRedisBackend(name, opts, options);
  const addOne = backend.addJob.bind(backend);
  type Entry = Parameters<typeof backend.addJobs>[0][number];

  async function transaction(entries: Entry[], extra: Alongside | undefined) {
    // A cast BullMQ's types leave no way around: they give the MULTI only the commands BullMQ
    // sends itself, but on its ioredis backend (every Errand queue's) it is an ioredis MULTI.
    const multi = (await backend.connection.client).multi() as IRedisTransaction &
      Pick<ChainableCommander, 'call'>;
    for (const [command, ...args] of extra?.before ?? []) multi.call(command, ...args);
    const adds = entries.map((entry) =>
      backend.addJobToTransaction(multi, entry.job, entry.jobId, entry.parentKeyOpts),
    );
    // Their outcomes are the EXEC's; a failed one must not go unhandled.
    void Promise.allSettled(adds);
    for (const [command, ...args] of extra?.after ?? []) multi.call(command, ...args);
    const results = (await multi.exec()) ?? [];
    const skip = extra?.before.length ?? 0;
    const expected = skip + entries.length + (extra?.after.length ?? 0);
    if (results.length !== expected) {
      throw new Error(`add: ${results.length} results for ${expected} commands`);
    }
    const replyOf = ([error, reply]: [Error | null, unknown]) => {
      if (error) throw error;
      return reply;
    };
    if (extra) extra.replies = results.slice(0, skip).map(replyOf);
    return results.slice(skip, skip + entries.length).map((result) => String(replyOf(result)));
  }

  backend.addJobs = (entries) => transaction(entries, alongside.getStore());
  backend.addJob = async (job, jobId, parentKeyOpts) => {
    const extra = alongside.getStore();
    if (!extra) return addOne(job, jobId, parentKeyOpts);
    const [id] = await transaction([{ job, jobId, parentKeyOpts }], extra);
    return id as string;
  };
  return backend;
};
