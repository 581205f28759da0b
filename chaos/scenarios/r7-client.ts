import { createClient } from '@errand/client';
import type { JobType } from '@errand/contract';
import { type Intended, type LoadResult, mixedJobs } from '../load.ts';
import { intact, outcomeFigures, settle } from '../outcome.ts';
import { CRASH_SAFE_FSYNC, KEEP_COMPLETED, Platform } from '../platform.ts';
import { checks, type Scenario, sleep } from '../scenario.ts';

const IN_FLIGHT = 16;

/** The faults, in order, each once the client has `at` of the jobs acknowledged. */
const faults = [
  { at: 1 / 4, what: 'producer SIGKILL' },
  { at: 2 / 4, what: 'Redis kill -9' },
  { at: 3 / 4, what: 'producer SIGTERM' },
] as const;

/** End the producer with `signal` and start a new one on the same port. */
async function restartProducer(platform: Platform, signal: NodeJS.Signals) {
  await platform.producer.stop(signal);
  await platform.startProducer();
}

/**
 * R7: the typed client (libs/client) as a caller uses it: 2,000 jobs (quick: 500), 16 at a time,
 * each `enqueue` with an Idempotency-Key of its own and retries generous enough to ride out a few
 * seconds (40 tries, at most 1 s apart), while the producer is killed (SIGKILL), Redis is killed
 * (kill -9, restarted from its AOF; `appendfsync always`, as in R1) and the producer is stopped
 * (SIGTERM), each producer started again on the same port. Promises: no call fails to its caller;
 * every intended job exists exactly once: the id each call returned is a job in Redis, the ids are
 * distinct, and the queues hold as many jobs as were intended (none twice under another id); each
 * job's effect happens once (`settle`). A "replayed" answer is a retry that found the job an
 * earlier try added: counted, and fine.
 */
export const clientRetries: Scenario = {
  id: 'R7',
  title: 'the typed client rides out producer and Redis restarts: every job exactly once',
  async run({ quick, log }) {
    const count = quick ? 500 : 2_000;
    const platform = await Platform.start('r7', {
      workers: 2,
      workerEnv: KEEP_COMPLETED,
      appendfsync: CRASH_SAFE_FSYNC,
    });
    try {
      const client = createClient({
        baseUrl: platform.api,
        retries: 40,
        retry: { baseDelayMs: 100, maxDelayMs: 1_000 },
      });
      const intended = mixedJobs('r7', count);
      const created = new Map<string, { id: string; type: Intended['type'] }>();
      const surfaced: string[] = [];
      let replayed = 0;
      let next = 0;
      const enqueuing = Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (next < intended.length) {
            const job = intended[next++] as Intended;
            try {
              const answer = await client.enqueue(job.type as JobType, job.data as never, {
                idempotencyKey: job.key,
              });
              created.set(job.key, { id: answer.id, type: job.type });
              if (answer.replayed) replayed++;
            } catch (error) {
              surfaced.push(String((error as Error).message ?? error));
            }
          }
        }),
      );
      let finished = false;
      void enqueuing.finally(() => {
        finished = true;
      });

      const done = { producer: 0, redis: 0 };
      for (const fault of faults) {
        while (!finished && created.size < count * fault.at) await sleep(5);
        if (finished) break;
        log(`R7: ${fault.what} at ${created.size} acknowledged`);
        if (fault.what === 'Redis kill -9') {
          await platform.killRedis();
          done.redis++;
        } else {
          await restartProducer(
            platform,
            fault.what === 'producer SIGKILL' ? 'SIGKILL' : 'SIGTERM',
          );
          done.producer++;
        }
      }
      await enqueuing;
      log(`R7: enqueued; checking every job and waiting for the workers`);

      const ids = [...created.values()];
      const states = await Promise.all(
        ids.map(({ id, type }) => platform.queues[type].getJobState(id)),
      );
      const missing = count - created.size + states.filter((s) => s === 'unknown').length;
      const counts = await Promise.all(Object.values(platform.queues).map((q) => q.getJobCounts()));
      const inRedis = counts.reduce(
        (sum, c) => sum + Object.values(c).reduce((a, b) => a + b, 0),
        0,
      );
      const distinct = new Set(ids.map(({ type, id }) => `${type}/${id}`)).size;
      const duplicates = Math.max(0, inRedis - count) + (ids.length - distinct);
      const load: LoadResult = {
        acknowledged: created,
        gaveUp: count - created.size,
        unavailable: [],
        networkErrors: 0,
        unexpected: [],
      };
      const outcome = await settle(platform, 'r7', intended, load, quick ? 60_000 : 300_000);

      const { failures, check } = checks();
      check(surfaced.length === 0, `${surfaced.length} calls failed: ${surfaced.slice(0, 3)}`);
      check(missing === 0, `${missing} intended jobs missing`);
      check(duplicates === 0, `${duplicates} duplicates (${inRedis} jobs in Redis for ${count})`);
      check(inRedis === count, `${inRedis} jobs in Redis for ${count} intended`);
      check(done.producer === 2 && done.redis === 1, `faults done: ${JSON.stringify(done)}`);
      check(intact(outcome), `not intact: ${outcomeFigures(outcome)}`);
      return {
        pass: failures.length === 0,
        failures,
        figures:
          `intended ${count}, created ${distinct}, in Redis ${inRedis}, duplicates ${duplicates}, ` +
          `missing ${missing}, client errors ${surfaced.length}, replayed ${replayed}, ` +
          `producer restarts ${done.producer}, redis restarts ${done.redis}; ${outcomeFigures(outcome)}`,
      };
    } finally {
      await platform.stop();
    }
  },
};
