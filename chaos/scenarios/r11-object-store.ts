import { jobs } from '@errand/contract';
import { queuePrefix } from '@errand/queues';
import { request } from '@errand/testing';
import { Queue } from 'bullmq';
import {
  type Ended,
  inPool,
  OUTPUTS,
  partwayJobs,
  storeReasons,
  uploadSources,
  verifyOutputs,
} from '../images.ts';
import { enqueuePaced } from '../load.ts';
import { KEEP_COMPLETED, Platform } from '../platform.ts';
import { checks, ms, type Scenario, sleep } from '../scenario.ts';

/** The image type's attempts (3): a job failed for good has used every one. */
const ATTEMPTS = jobs.image.defaults.attempts;

/** How long a kill waits for a job to be partway through its outputs (a kill mid-job). */
const MID_JOB_WAIT_MS = 2_000;

/** A short outage, from the kill to the restart; starting s3rver again adds a few tenths. */
const SHORT_MS = 1_500;

/**
 * The outages, in order: how long the store is up before each, and how long it is down. The
 * short ones, restart included, are below the image type's first backoff (2.5–5 s: exponential
 * from 5 s, jitter 0.5) and further apart than it, so a job they fail runs again once the
 * store is back; the long one, last (so no third attempt after it meets another outage),
 * outlasts some jobs' three attempts (7.5–15 s from the first), which must end failed, naming
 * the store.
 */
const outages = (quick: boolean) =>
  quick
    ? [
        { upMs: 1_500, downMs: SHORT_MS },
        { upMs: 4_000, downMs: SHORT_MS },
        { upMs: 4_000, downMs: 13_000 },
      ]
    : [
        { upMs: 4_000, downMs: SHORT_MS },
        ...Array.from({ length: 7 }, () => ({ upMs: 6_000, downMs: SHORT_MS })),
        { upMs: 6_000, downMs: 15_000 },
      ];

/**
 * R11: the object store `kill -9`ed again and again under image load. The platform keeps
 * images in an S3-protocol server (s3rver in its own process, `STORAGE_URL=s3://…`); two
 * sources go in through the API (`PUT /v1/uploads/{name}`, and `POST /v1/uploads` then a PUT
 * to the presigned URL); image jobs of three outputs each come at a steady pace over the API
 * to 2 workers while the store is killed, each time once a job has written part of its
 * outputs: for about two seconds several times, and once for long enough that some jobs use
 * up their attempts. An attempt that meets the store down fails with a StorageError naming the
 * store and key, and BullMQ retries it on the image backoff. Promises: every acknowledged job
 * ends (lost or stuck 0); each completed one has its three outputs in the bucket, read back
 * through the presigned URLs of its result (count, bytes and type as the result says); each
 * failed one used its three attempts and its reason names the store. Full run: 1,000 jobs
 * over about 80 s, 9 outages (one of 15 s); --quick: 150 jobs over about 26 s, 3 outages (one
 * of 13 s).
 */
export const objectStore: Scenario = {
  id: 'R11',
  title: 'object store outages under image load',
  async run({ quick, log }) {
    const count = quick ? 150 : 1_000;
    const schedule = outages(quick);
    const spreadMs = schedule.reduce((sum, o) => sum + o.upMs + o.downMs, 0);
    const platform = await Platform.start('r11', {
      workers: 2,
      objectStore: true,
      workerEnv: { ...KEEP_COMPLETED, WORKER_QUEUES: 'image' },
    });
    const store = platform.store as NonNullable<typeof platform.store>;
    const image = new Queue(jobs.image.queue, {
      connection: platform.observer,
      prefix: queuePrefix(platform.prefix, jobs.image.queue),
    });
    image.on('error', () => {});
    try {
      const sources = await uploadSources(platform.api);
      const { acked, done: enqueuing } = enqueuePaced({
        api: platform.api,
        type: 'image',
        run: 'r11',
        count,
        spreadMs,
        body: (n) => ({ data: { source: { key: sources[n % 2] }, outputs: OUTPUTS } }),
      });

      const downFor: number[] = [];
      /** When the last kill was, by the clock the jobs' times are on. */
      let lastKillAt = Number.NaN;
      let midJobKills = 0;
      let partwayAtKills = 0;
      for (const [k, { upMs, downMs }] of schedule.entries()) {
        await sleep(upMs);
        const partway = await partwayJobs(image, MID_JOB_WAIT_MS);
        if (partway > 0) midJobKills++;
        partwayAtKills += partway;
        const killed = performance.now();
        lastKillAt = Date.now();
        await platform.killStore(downMs);
        downFor.push(performance.now() - killed);
        log(`R11: store down ${k + 1}/${schedule.length} for ${ms(downFor.at(-1) ?? 0)}`);
      }
      const back = performance.now();
      await enqueuing;
      log(`R11: ${acked.size} jobs acknowledged; waiting for them to end`);
      const quiet = await untilEnded(image, acked.size, quick ? 60_000 : 180_000);
      const drainMs = quiet - back;

      const ended = await inPool([...acked.values()], 8, async (id) => {
        const view = await request(`${platform.api}/v1/jobs/image/${id}`);
        return (view.status === 200 ? view.body : { id, state: 'unknown' }) as Ended;
      });
      const completed = ended.filter((job) => job.state === 'completed');
      const failed = ended.filter((job) => job.state === 'failed');
      const open = ended.filter((job) => job.state !== 'completed' && job.state !== 'failed');
      const storeReason = `${store.env(platform.prefix).STORAGE_URL}/ at ${store.endpoint}: `;
      const failedOnStore = failed.filter(
        (job) => job.failedReason?.startsWith(storeReason) && job.attemptsMade === ATTEMPTS,
      );
      const beforeLong = failed.filter(
        (job) => Date.parse(job.finishedAt ?? '') < lastKillAt,
      ).length;
      const retried = completed.filter((job) => job.attemptsMade > 1).length;
      const retriedBeforeLong = completed.filter(
        (job) => job.attemptsMade > 1 && Date.parse(job.finishedAt ?? '') < lastKillAt,
      ).length;
      const twice = completed.filter((job) => job.attemptsMade > 2).length;
      const reasons = storeReasons(
        failed.map((job) => (job.failedReason ?? '').slice(storeReason.length)),
      );
      const checked = await inPool(completed, 8, verifyOutputs);
      const outputsFound = checked.reduce((sum, c) => sum + c.found, 0);
      const wrong = checked.flatMap((c) => c.wrong);

      const { failures, check } = checks();
      check(acked.size === count, `${count - acked.size} jobs never acknowledged`);
      check(
        open.length === 0,
        `${open.length} jobs lost or stuck: ${open.slice(0, 5).map((j) => `${j.id} ${j.state}`)}`,
      );
      check(
        failedOnStore.length === failed.length,
        `${failed.length - failedOnStore.length} failed jobs without the store’s reason after ${ATTEMPTS} attempts: ` +
          JSON.stringify(failed.filter((job) => !failedOnStore.includes(job)).slice(0, 3)),
      );
      check(wrong.length === 0, `outputs missing or unlike their result: ${wrong.slice(0, 5)}`);
      check(midJobKills > 0, 'no kill landed while a job had written part of its outputs');
      check(retried > 0, 'no completed job needed a retry: no outage met a job');
      check(failed.length > 0, 'no job ran out of attempts in the long outage');
      const short = downFor.filter((_, i) => schedule[i]?.downMs === SHORT_MS);
      const long = downFor.filter((_, i) => schedule[i]?.downMs !== SHORT_MS);
      const seconds = (values: number[]) => {
        const [low, high] = [Math.min(...values), Math.max(...values)].map((v) =>
          (v / 1000).toFixed(1),
        );
        return low === high ? `${low} s` : `${low}–${high} s`;
      };
      return {
        pass: failures.length === 0,
        failures,
        figures:
          `${acked.size} image jobs of ${OUTPUTS.length} outputs (sources uploaded by PUT and by ` +
          `presigned URL); store killed ${schedule.length} times (${short.length} × ` +
          `${seconds(short)}, ${long.length} × ${seconds(long)} from kill to listening), ` +
          `${midJobKills} of the kills mid-job (${partwayAtKills} jobs had written part of ` +
          `their outputs); completed ${completed.length} (` +
          `${retried} after a retry, ${twice} of them after two; ${retriedBeforeLong} after a ` +
          `retry before the long outage), failed ${failed.length} ` +
          `(${failedOnStore.length} naming the store after ${ATTEMPTS} attempts: ${reasons}; ` +
          `${beforeLong} of them before the long outage), lost or ` +
          `stuck ${open.length}; outputs in the bucket ` +
          `${outputsFound} of ${completed.length * OUTPUTS.length} (count, bytes and type as ` +
          `the result says, read by its URLs), wrong ${wrong.length}; drained ` +
          `${(drainMs / 1000).toFixed(1)} s after the store was back from the long outage`,
      };
    } finally {
      await image.close().catch(() => {});
      await platform.stop();
    }
  },
};

/**
 * When the image queue first had nothing waiting, running or delayed and `count` jobs ended
 * (read twice, 250 ms apart, to pass no job between two states); the deadline if never.
 */
async function untilEnded(queue: Queue, count: number, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  let calmSince: number | undefined;
  while (performance.now() < deadline) {
    const open = await queue.getJobCountByTypes('wait', 'active', 'delayed', 'prioritized');
    const done = await queue.getJobCountByTypes('completed', 'failed');
    const calm = open === 0 && done >= count;
    if (calm && calmSince !== undefined) return calmSince;
    calmSince = calm ? performance.now() : undefined;
    await sleep(250);
  }
  return performance.now();
}
