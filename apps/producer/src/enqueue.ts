import type { JobState, JobType } from '@errand/contract';
import { HttpProblem } from '@errand/http';
import { addAlongside, queuePrefix } from '@errand/queues';
import type { Queue } from 'bullmq';
import type { Deps } from './deps.ts';
import type { EnqueueRequest } from './enqueue-request.ts';
import { claimKey } from './idempotency.ts';
import { withRedis } from './redis-errors.ts';

export interface Enqueue {
  type: JobType;
  /** Name of the caller's API key: the job's producer, kept as the BullMQ job name. */
  caller: string;
  idempotencyKey: string | undefined;
  /** The request body as sent, for the idempotency fingerprint. */
  body: unknown;
  items: EnqueueRequest[];
  batch: boolean;
}

/**
 * Add checked jobs to their queue, or find the ones an earlier request with the same
 * Idempotency-Key added. Nothing answers 202 unless Redis took every job, and any Redis
 * failure becomes a 503.
 */
export async function enqueue(
  deps: Deps,
  request: Enqueue,
): Promise<{ jobs: { id: string; state: JobState }[]; replayed: boolean }> {
  const { redis, metrics } = deps;
  const queue = deps.queues[request.type];
  return withRedis(redis, async () => {
    const claim = request.idempotencyKey
      ? await claimKey(redis, {
          // The record sits in the queue's hash tag: it is written in the MULTI of the jobs.
          prefix: queuePrefix(deps.prefix, queue.name),
          caller: request.caller,
          key: request.idempotencyKey,
          type: request.batch ? `${request.type}/batch` : request.type,
          body: request.body,
        })
      : undefined;
    const ids = claim
      ? request.items.map((_, i) => (request.batch ? `${claim.jobId}-${i}` : claim.jobId))
      : undefined;
    if (claim && ids && claim.outcome === 'added') {
      metrics.replays.inc({ type: request.type });
      return { jobs: await statesOf(queue, ids), replayed: true };
    }
    try {
      await checkDepth(queue, deps.maxWaiting[request.type], request.items.length);
      let added: string[];
      if (claim && ids) {
        // The jobs and the key's record "added" in one MULTI; EXISTS tells whether the jobs
        // were there already (the same request sent twice at once, or a retry of one that
        // added them but never heard back): then this request is the replay.
        const alongside = claim.alongside(queue.toKey(ids[0] as string));
        added = await addAlongside(alongside, () =>
          addJobs(queue, request.caller, request.items, ids),
        );
        if (alongside.replies?.[0] === 1) {
          metrics.replays.inc({ type: request.type });
          return { jobs: await statesOf(queue, ids), replayed: true };
        }
      } else {
        added = await addJobs(queue, request.caller, request.items, undefined);
      }
      metrics.enqueued.inc({ type: request.type }, added.length);
      deps.logger.info(
        { producer: request.caller, type: request.type, jobs: added.length, firstId: added[0] },
        'jobs enqueued',
      );
      return {
        jobs: added.map((id, i) => ({
          id,
          state: request.items[i]?.state ?? 'waiting',
        })),
        replayed: false,
      };
    } catch (error) {
      await claim?.release();
      throw error;
    }
  });
}

/** One job is one script call; more are one transaction, all or none (`atomicBulkBackend`). */
async function addJobs(
  queue: Queue,
  caller: string,
  items: EnqueueRequest[],
  ids: string[] | undefined,
): Promise<string[]> {
  const opts = (item: EnqueueRequest, i: number) =>
    ids ? { ...item.opts, jobId: ids[i] } : item.opts;
  const [only] = items;
  const added =
    items.length === 1 && only
      ? [await queue.add(caller, only.data, opts(only, 0))]
      : await queue.addBulk(
          items.map((item, i) => ({ name: caller, data: item.data, opts: opts(item, i) })),
        );
  return added.map((job) => String(job.id));
}

/** The current state of jobs an earlier request added; `removed` once BullMQ dropped one. */
async function statesOf(queue: Queue, ids: string[]) {
  return Promise.all(
    ids.map(async (id) => {
      const state = await queue.getJobState(id);
      return { id, state: (state === 'unknown' ? 'removed' : state) as JobState };
    }),
  );
}

/** The waiting count being read per queue: requests that arrive meanwhile share the read. */
const depthReads = new WeakMap<Queue, Promise<number>>();

function waitingCount(queue: Queue): Promise<number> {
  let read = depthReads.get(queue);
  if (!read) {
    read = queue.getJobCountByTypes('waiting', 'prioritized').finally(() => {
      depthReads.delete(queue);
    });
    depthReads.set(queue, read);
  }
  return read;
}

/**
 * Backpressure: 503 while the queue's waiting jobs plus the new ones would pass its limit
 * (0 = none). A soft limit: concurrent requests may each pass the check before adding, and
 * share one read of the count (under load, one read per round trip instead of per request).
 */
async function checkDepth(queue: Queue, limit: number, adding: number) {
  if (!limit) return;
  const waiting = await waitingCount(queue);
  if (waiting + adding > limit) {
    throw new HttpProblem(
      'queue-full',
      `The ${queue.name} queue has ${waiting} jobs waiting (limit ${limit}); nothing was added, try later.`,
      { headers: { 'Retry-After': '5' } },
    );
  }
}
