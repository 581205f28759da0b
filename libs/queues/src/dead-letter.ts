import type { RedisClient } from '@errand/redis';
import type { Queue } from 'bullmq';
import { type Entry, type JobCursor, type JobRange, walkSortedSet } from './job-listing.ts';
import { retryByHand } from './retry-by-hand.ts';

/**
 * The dead-letter actions: retry failed jobs, or discard failed (or completed) ones, chosen by
 * a filter and at most `limit` a call. Each job is acted on by BullMQ's own one-job script,
 * which checks the job is still where it was: `job.retry('failed')` moves it only out of the
 * failed set (so a second call, or a second caller, cannot retry it twice), and `remove`
 * refuses a job a worker holds. `queue.retryJobs` cannot filter by time or reason.
 */

/** Most entries one call reads past (those a `reasonPrefix` does not match) before it stops. */
export const MAX_EXAMINED = 10_000;
/** Entries read and acted on at once. */
const CHUNK = 200;

export interface BulkFilter {
  state: 'failed' | 'completed';
  range?: JobRange;
  /** Only jobs whose failedReason starts with it (failed jobs). */
  reasonPrefix?: string | undefined;
  limit: number;
  /** Where the previous call stopped. */
  cursor?: JobCursor | undefined;
}

export interface BulkOutcome {
  /** Jobs of the filter found (at most `limit`). */
  matched: number;
  /** Of those, the jobs retried or removed. */
  acted: number;
  /** Of those, the jobs that left the set meanwhile, or that a worker held: untouched. */
  skipped: number;
  /** Where to go on; null once the set has nothing more for the filter. */
  next: JobCursor | null;
}

/** BullMQ's "no such job" (-1), "not in that state" (-3) and "a scheduler's job" (-8). */
const NOT_THERE = new Set([-1, -3, -8]);
const notThere = (error: unknown) => NOT_THERE.has((error as { code?: unknown })?.code as number);

/** Retry the failed jobs of the filter, each with a fresh set of attempts. */
export function retryFailedJobs(
  redis: RedisClient,
  queue: Queue,
  filter: Omit<BulkFilter, 'state'>,
) {
  return actOnMatching(redis, queue, { ...filter, state: 'failed' }, async (id) => {
    const job = await queue.getJob(id);
    if (!job) return false;
    try {
      await retryByHand(redis, job);
      return true;
    } catch (error) {
      if (notThere(error)) return false;
      throw error;
    }
  });
}

/** Remove the failed (or completed) jobs of the filter for good. */
export function discardFinishedJobs(redis: RedisClient, queue: Queue, filter: BulkFilter) {
  const set = queue.toKey(filter.state);
  return actOnMatching(redis, queue, filter, async (id) => {
    // BullMQ's remove takes a job from any state: only one still in the set is discarded.
    if ((await redis.zscore(set, id)) === null) return false;
    try {
      return (await queue.remove(id)) === 1; // 0: a worker holds it
    } catch (error) {
      if (notThere(error)) return false;
      throw error;
    }
  });
}

async function actOnMatching(
  redis: RedisClient,
  queue: Queue,
  { state, range, reasonPrefix, limit, cursor }: BulkFilter,
  act: (id: string) => Promise<boolean>,
): Promise<BulkOutcome> {
  const outcome = { matched: 0, acted: 0, skipped: 0 };
  const after = cursor && 'score' in cursor ? cursor : undefined;
  let examined = 0;
  for await (const chunk of walkSortedSet(redis, queue, state, {
    ...(range ? { range } : {}),
    ...(after ? { after } : {}),
    chunk: CHUNK,
  })) {
    const matches = reasonPrefix === undefined ? chunk.map(() => true) : await screen(chunk);
    const chosen: string[] = [];
    let last: Entry | undefined;
    for (const [i, entry] of chunk.entries()) {
      if (outcome.matched === limit) break;
      examined++;
      last = entry;
      if (!matches[i]) continue;
      outcome.matched++;
      chosen.push(entry.id);
    }
    for (const done of await Promise.all(chosen.map(act))) {
      if (done) outcome.acted++;
      else outcome.skipped++;
    }
    if (outcome.matched === limit || examined >= MAX_EXAMINED) {
      return { ...outcome, next: last ?? null };
    }
  }
  return { ...outcome, next: null };

  /** Whether each job's failedReason starts with the prefix (one HGET each, sent at once). */
  async function screen(chunk: Entry[]) {
    const reasons = await Promise.all(
      chunk.map((e) => redis.hget(queue.toKey(e.id), 'failedReason')),
    );
    return reasons.map((reason) => reason?.startsWith(reasonPrefix as string) ?? false);
  }
}
