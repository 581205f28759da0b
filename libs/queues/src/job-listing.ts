import type { ListedJobState } from '@errand/contract';
import type { RedisClient } from '@errand/redis';
import type { Job, Queue } from 'bullmq';
import { isJobId } from './job-ids.ts';

/**
 * Reading a queue's jobs by state, newest first, a page at a time. The sorted sets (failed
 * and completed scored by when the job finished, delayed by when it is due, prioritized by
 * priority then arrival) are paged by score: a cursor is the score and id of the last job
 * given, so jobs added or removed meanwhile shift nothing. The lists (waiting, active) are
 * paged by offset, which jobs moving meanwhile do shift.
 */

/** Where a page ends: the last job's score and id in a sorted set, or an offset in a list. */
export type JobCursor = { score: number; id: string } | { offset: number };

/** A time range in ms since the epoch, both ends included. */
export interface JobRange {
  since?: number | undefined;
  until?: number | undefined;
}

/** One entry of a sorted set: a job id and its score. */
export interface Entry {
  id: string;
  score: number;
}

const LISTS: ReadonlySet<ListedJobState> = new Set(['waiting', 'active']);
/** BullMQ's key suffix of each state's set. */
const KEY: Record<ListedJobState, string> = {
  waiting: 'wait',
  active: 'active',
  prioritized: 'prioritized',
  delayed: 'delayed',
  completed: 'completed',
  failed: 'failed',
};
/** A delayed job's score is its due time × 0x1000 plus a counter (BullMQ's addDelayedJob). */
const DELAYED_SCALE = 0x1000;

export const isListState = (state: ListedJobState) => LISTS.has(state);

export const encodeJobCursor = (cursor: JobCursor) =>
  Buffer.from(JSON.stringify(cursor)).toString('base64url');

/** The cursor an answer gave for `state`, or undefined for anything else. */
export function decodeJobCursor(text: string, state: ListedJobState): JobCursor | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!value || typeof value !== 'object') return undefined;
  const { score, id, offset } = value as Record<string, unknown>;
  if (isListState(state)) {
    return Number.isSafeInteger(offset) && (offset as number) >= 0 && id === undefined
      ? { offset: offset as number }
      : undefined;
  }
  const ok = typeof score === 'number' && Number.isFinite(score) && typeof id === 'string';
  return ok && isJobId(id) && offset === undefined ? { score, id } : undefined;
}

/** The score bounds of a time range in the set of `state` (none for prioritized). */
function bounds(state: ListedJobState, { since, until }: JobRange) {
  const scale = state === 'delayed' ? DELAYED_SCALE : 1;
  const max = until === undefined ? Number.POSITIVE_INFINITY : (until + 1) * scale - 1;
  return { max, min: since === undefined ? '-inf' : since * scale };
}

/**
 * The entries of a sorted set from the highest score down, after `after` when given, one
 * fetch of `chunk` at a time: each chunk is anchored at the last entry given (not at an
 * offset), so entries the caller removes meanwhile (a retry, a discard) skip nothing. Ties of
 * the anchor's score come in reverse id order (Redis orders equal scores by member).
 */
export async function* walkSortedSet(
  redis: RedisClient,
  queue: Queue,
  state: ListedJobState,
  { range = {}, after, chunk = 500 }: { range?: JobRange; after?: Entry; chunk?: number },
): AsyncGenerator<Entry[]> {
  const key = queue.toKey(KEY[state]);
  const { max, min } = bounds(state, range);
  let anchor = after;
  let skip = 0;
  for (;;) {
    const top = Math.min(anchor?.score ?? max, max);
    const rows = await redis.zrevrangebyscore(
      key,
      top === Number.POSITIVE_INFINITY ? '+inf' : top,
      min,
      'WITHSCORES',
      'LIMIT',
      skip,
      chunk,
    );
    const entries: Entry[] = [];
    for (let i = 0; i < rows.length; i += 2) {
      entries.push({ id: rows[i] as string, score: Number(rows[i + 1]) });
    }
    const fresh = entries.filter(
      (e) => !anchor || e.score < anchor.score || (e.score === anchor.score && e.id < anchor.id),
    );
    if (fresh.length > 0) {
      yield fresh;
      anchor = fresh.at(-1);
      skip = 0;
    } else {
      skip += entries.length; // a run of ties given already: step over it
    }
    if (entries.length < chunk) return;
  }
}

export interface JobPageQuery {
  state: ListedJobState;
  range?: JobRange;
  limit: number;
  cursor?: JobCursor | undefined;
}

/** One page of a queue's jobs in `state`, newest first; `next` is null on the last page. */
export async function readJobPage(
  redis: RedisClient,
  queue: Queue,
  { state, range, limit, cursor }: JobPageQuery,
): Promise<{ jobs: Job[]; next: JobCursor | null }> {
  let ids: string[];
  let next: JobCursor | null = null;
  if (isListState(state)) {
    const offset = cursor && 'offset' in cursor ? cursor.offset : 0;
    ids = await redis.lrange(queue.toKey(KEY[state]), offset, offset + limit);
    if (ids.length > limit) next = { offset: offset + limit };
  } else {
    const after = cursor && 'score' in cursor ? cursor : undefined;
    const entries: Entry[] = [];
    for await (const chunk of walkSortedSet(redis, queue, state, {
      ...(range ? { range } : {}),
      ...(after ? { after } : {}),
      chunk: limit + 1,
    })) {
      entries.push(...chunk);
      if (entries.length > limit) break;
    }
    if (entries.length > limit) next = entries[limit - 1] as Entry;
    ids = entries.map((e) => e.id);
  }
  // A job removed between the index and its hash is left out of the page.
  const jobs = await Promise.all(ids.slice(0, limit).map((id) => queue.getJob(id)));
  return { jobs: jobs.filter((job): job is Job => job !== undefined), next };
}
