import { Redis } from 'ioredis';
import type { Intended, LoadResult } from '../load.ts';
import { mixedJobs } from '../load.ts';
import { intact, outcomeFigures, settle } from '../outcome.ts';
import { KEEP_COMPLETED, Platform } from '../platform.ts';
import { countKeys, usedMemory } from '../process-stats.ts';
import { checks, ms, percentile, type Scenario, sleep } from '../scenario.ts';

/** Room left above `used_memory` each time the limit is set: a few dozen jobs. */
const MARGIN_BYTES = 64 * 1024;
const IN_FLIGHT = 8;

interface Answer {
  status: number;
  type: string | undefined;
  id: string | undefined;
  retryAfter: string | null;
  ms: number;
}

/** One POST of an intended job under its own Idempotency-Key, no retry: the raw answer. */
async function post(api: string, job: Intended): Promise<Answer> {
  const started = performance.now();
  const res = await fetch(`${api}/v1/jobs/${job.type}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': job.key },
    body: JSON.stringify({ data: job.data }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  const body = JSON.parse(text || '{}') as { type?: string; id?: string };
  const elapsed = performance.now() - started;
  return {
    status: res.status,
    type: body.type,
    id: body.id,
    retryAfter: res.headers.get('retry-after'),
    ms: elapsed,
  };
}

/** What every answer of the run said, by intended key. */
function tally() {
  const t = {
    accepted: new Map<string, { id: string; type: Intended['type'] }>(),
    refused: new Map<string, Intended>(),
    latencies: [] as number[],
    /** 503s that are not `redis-full` with a Retry-After, and any other status. */
    wrong: [] as string[],
    record(job: Intended, a: Answer) {
      if ((a.status === 202 || a.status === 200) && a.id) {
        t.accepted.set(job.key, { id: a.id, type: job.type });
        t.refused.delete(job.key);
        return;
      }
      if (!t.accepted.has(job.key)) t.refused.set(job.key, job);
      if (a.status === 503) t.latencies.push(a.ms);
      if (a.status !== 503 || !a.type?.endsWith('/redis-full') || !a.retryAfter)
        t.wrong.push(`${a.status} ${a.type} Retry-After ${a.retryAfter}`);
    },
  };
  return t;
}

/** `fn` over `items`, `n` at a time. */
async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

/**
 * R5: Redis at `maxmemory` with `noeviction`. 1. Jobs are queued with no worker consuming;
 * 2. squeeze: `rounds` times the limit is set a little above `used_memory` and fresh jobs are
 * sent, 8 at once, until all are refused: each crossing of the limit catches requests halfway
 * (claim written, add refused), the place a partial write would come from; 3. hold: with the
 * limit set a little below `used_memory`, a batch of jobs is sent twice each: every answer
 * must be 503 `redis-full` with Retry-After, and nothing may change. Throughout, idempotency records and job keys (SCAN of the observer) may
 * change only by the jobs answered 202: anything else is a partial write. 4. Memory freed
 * (limit lifted, workers started), every refused job is sent again under its key: each must be
 * a 202 (a 200 would be a replay of a job a 503 claimed not to have added) and run once.
 * At the limit, whichever write of a request comes first is refused: the rate limiter's
 * counter, the key's claim, or the add's MULTI (EXEC answers EXECABORT, the OOM only in
 * ioredis's `previousErrors`); the claim is then let go. Each of them must be a 503.
 * Quick: 200 queued, 3 crossings, 100 held; full: 2,000 queued, 10 crossings, 1,000 held.
 */
export const maxmemory: Scenario = {
  id: 'R5',
  title: 'Redis at maxmemory (noeviction): 503 redis-full, nothing half-written, then accepted',
  async run({ quick, log }) {
    const [queued, rounds, held] = quick ? [200, 3, 100] : [2_000, 10, 1_000];
    const platform = await Platform.start('r5', { workers: 0, workerEnv: KEEP_COMPLETED });
    const { prefix } = platform;
    // SCAN and CONFIG of the one server: a connection of its own (the observer may be a Cluster's).
    const redis = new Redis(platform.redis.url, { maxRetriesPerRequest: null });
    redis.on('error', () => {});
    try {
      const intended = mixedJobs('r5', queued + rounds * 500 + held);
      let next = 0;
      const take = (n: number) => {
        next += n;
        return intended.slice(next - n, next);
      };
      const t = tally();
      const send = async (job: Intended) => {
        const answer = await post(platform.api, job);
        t.record(job, answer);
        return answer;
      };
      const snapshot = async () => ({
        records: await countKeys(redis, `${prefix}:{*}:idempotency:*`),
        jobKeys: await countKeys(redis, `${prefix}:{*}:*:idem-*`),
        jobs: (
          await Promise.all(Object.values(platform.queues).map((q) => q.getJobCounts()))
        ).reduce((sum, counts) => sum + Object.values(counts).reduce((a, b) => a + b, 0), 0),
      });
      /** Changes since `from` not explained by `accepted` new 202s. */
      const stray = (
        from: Awaited<ReturnType<typeof snapshot>>,
        to: typeof from,
        accepted: number,
      ) =>
        Math.abs(to.records - from.records - accepted) +
        Math.abs(to.jobKeys - from.jobKeys - accepted) +
        Math.abs(to.jobs - from.jobs - accepted);

      await pool(take(queued), IN_FLIGHT, async (job) => {
        await send(job);
      });
      const before = await snapshot();
      const acceptedBefore = t.accepted.size;
      log(`R5: ${acceptedBefore} jobs queued, used_memory ${await usedMemory(redis)} bytes`);

      for (let round = 1; round <= rounds; round++) {
        const limit = (await usedMemory(redis)) + MARGIN_BYTES;
        await redis.config('SET', 'maxmemory', String(limit));
        // Until a whole batch is refused: the batch that crosses the limit is the one to see.
        for (let sent = 0; ; sent += IN_FLIGHT) {
          if (sent >= 500 - IN_FLIGHT) throw new Error(`round ${round}: Redis never got full`);
          const answers = await Promise.all(take(IN_FLIGHT).map(send));
          if (answers.every((a) => a.status !== 202 && a.status !== 200)) break;
        }
      }
      const squeezed = t.accepted.size - acceptedBefore;
      log(`R5: ${rounds} crossings: ${squeezed} accepted, ${t.refused.size} refused`);

      // Firmly full for the hold: at the edge a write that frees a little (an expired rate
      // limit counter) lets a job in now and then, which is right but not what is held here.
      await redis.config('SET', 'maxmemory', String((await usedMemory(redis)) - MARGIN_BYTES));
      const atHold = await snapshot();
      const acceptedAtHold = t.accepted.size;
      const heldJobs = take(held);
      await pool(heldJobs, IN_FLIGHT, async (job) => {
        await send(job);
        await send(job); // a retry under the same key is refused the same way
      });
      const afterHold = await snapshot();
      const acceptedInHold = t.accepted.size - acceptedAtHold;
      const partial = stray(before, afterHold, t.accepted.size - acceptedBefore);
      const refused = [...t.refused.values()];
      log(`R5: held ${held} jobs; lifting the limit and retrying ${refused.length} refused`);

      await redis.config('SET', 'maxmemory', '0');
      await Promise.all([platform.startWorker(), platform.startWorker()]);
      let recovered = 0;
      let replayed = 0;
      const deadline = Date.now() + 60_000;
      await pool(refused, IN_FLIGHT, async (job) => {
        while (Date.now() < deadline) {
          const a = await post(platform.api, job);
          if (a.status === 202 || a.status === 200) {
            t.accepted.set(job.key, { id: a.id as string, type: job.type });
            if (a.status === 202) recovered++;
            else replayed++;
            return;
          }
          await sleep(200);
        }
      });

      const used = intended.slice(0, next);
      const load: LoadResult = {
        acknowledged: t.accepted,
        gaveUp: used.length - t.accepted.size,
        unavailable: t.latencies,
        networkErrors: 0,
        unexpected: [],
      };
      const outcome = await settle(platform, 'r5', used, load, quick ? 60_000 : 300_000);
      const { failures, check } = checks();
      check(refused.length >= held, `only ${refused.length} refused, ${held} held`);
      check(acceptedInHold === 0, `${acceptedInHold} accepted while Redis was full`);
      check(
        t.wrong.length === 0,
        `${t.wrong.length} refusals not 503 redis-full with Retry-After: ${[...new Set(t.wrong)].join('; ')}`,
      );
      check(
        stray(atHold, afterHold, acceptedInHold) === 0,
        `keys changed while refusing: ${JSON.stringify({ atHold, afterHold })}`,
      );
      check(partial === 0, `partial writes: ${JSON.stringify({ before, afterHold })}`);
      check(replayed === 0, `${replayed} refused jobs were in Redis after all (200 replay)`);
      check(recovered === refused.length, `${recovered} of ${refused.length} accepted after`);
      check(intact(outcome), `not intact: ${outcomeFigures(outcome)}`);
      return {
        pass: failures.length === 0,
        failures,
        figures:
          `${rounds} crossings, refused ${refused.length} (503s ${t.latencies.length}, ` +
          `other answers ${t.wrong.length}), ` +
          `503 p99 ${ms(percentile(t.latencies, 99))}, partial writes ${partial}, ` +
          `accepted after recovery ${recovered}/${refused.length} (replays ${replayed}); ` +
          outcomeFigures(outcome),
      };
    } finally {
      redis.disconnect();
      await platform.stop();
    }
  },
};
