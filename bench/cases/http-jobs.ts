import { join } from 'node:path';
import { jobs } from '@errand/contract';
import { publishCallerPolicies, signingSecrets } from '@errand/outbound';
import { queuePrefix } from '@errand/queues';
import { Queue } from 'bullmq';
import { alternate, type BenchCase, type BenchContext } from '../case.ts';
import { type CountingReceiver, startCountingReceiver } from '../http-receiver.ts';
import { cpuMeter, drained, perSecond } from '../measure.ts';
import { appScript, ROOT, startProcess } from '../processes.ts';

/** The catalog's http concurrency, and as many requests in flight to the one origin. */
const CONCURRENCY = jobs.http.concurrency;
const BODY = JSON.stringify({ order: 42, items: ['a', 'b', 'c'], note: 'x'.repeat(200) });
/** The API key the jobs are made by: its allowed target and signing secret are written first. */
const PRODUCER = 'bench';

/** Errand's worker on the http queue of `prefix`, with `count` http jobs waiting for it. */
async function errandWorker(ctx: BenchContext, prefix: string, count: number, url: string) {
  await publishCallerPolicies(ctx.redis, prefix, { [PRODUCER]: { allowedTargets: [url] } });
  await signingSecrets(ctx.redis, prefix).rotate(PRODUCER);
  const queue = new Queue(jobs.http.queue, {
    connection: ctx.redis,
    prefix: queuePrefix(prefix, jobs.http.queue),
  });
  for (let first = 0; first < count; first += 1_000) {
    await queue.addBulk(
      Array.from({ length: Math.min(1_000, count - first) }, (_, n) => ({
        name: PRODUCER,
        data: {
          url: `${url}/${first + n}`,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: BODY,
        },
        opts: jobs.http.defaults,
      })),
    );
  }
  const worker = await startProcess(
    appScript('worker'),
    {
      REDIS_URL: ctx.redisUrl,
      QUEUE_PREFIX: prefix,
      WORKER_QUEUES: 'http',
      WORKER_PORT: '0',
      HTTP_CONCURRENCY: String(CONCURRENCY),
      // The per-origin limit (10 by default) would cap the worker below the baseline.
      TARGET_CONCURRENCY: String(CONCURRENCY),
      OUTBOUND_ALLOW_IPS: '127.0.0.1',
      LOG_LEVEL: 'info',
    },
    join(ctx.dir, `${prefix}.log`),
    'worker running',
  );
  return { sender: worker, queue };
}

/** The plain fetch loop (bench/http-sender.ts), unsigned, as a caller calling the service itself. */
const plainSender = (ctx: BenchContext, prefix: string, count: number, url: string) =>
  startProcess(
    join(ROOT, 'bench', 'http-sender.ts'),
    { URL: url, COUNT: String(count), CONCURRENCY: String(CONCURRENCY), BODY },
    join(ctx.dir, `${prefix}.log`),
    'http sender ready',
  );

/** Every job completed; then the queue and the keys of the run go. */
async function checkAndClear(ctx: BenchContext, queue: Queue, prefix: string) {
  await drained(queue);
  const failed = await queue.getJobCountByTypes('failed');
  if (failed > 0) throw new Error(`${prefix}: ${failed} http jobs failed`);
  await queue.obliterate({ force: true });
  await queue.close();
  await clearPrefix(ctx, prefix);
}

/** Every key of `prefix` (the policies, secrets and limiter of a run), by SCAN. */
export async function clearPrefix(ctx: BenchContext, prefix: string) {
  const stream = ctx.redis.scanStream({ match: `${prefix}:*`, count: 1_000 });
  for await (const keys of stream as AsyncIterable<string[]>) {
    if (keys.length > 0) await ctx.redis.unlink(...keys);
  }
}

/** One side makes `count` requests to a receiver of its own, timed there once warm (from the tenth). */
async function callOnce(ctx: BenchContext, side: 'fetch' | 'errand', run: number, count: number) {
  const prefix = `httpjobs-${side}-${run}`;
  const receiver: CountingReceiver = await startCountingReceiver();
  const { sender, queue } =
    side === 'fetch'
      ? { sender: await plainSender(ctx, prefix, count, receiver.url), queue: undefined }
      : await errandWorker(ctx, prefix, count, receiver.url);
  const warm = Math.floor(count / 10);
  const from = await receiver.waitFor(warm);
  const meter = await cpuMeter(ctx.redis, {
    [side === 'fetch' ? 'fetch loop' : 'worker']: sender.child.pid,
    'bench + receiver': process.pid,
  });
  const to = await receiver.waitFor(count);
  const note = await meter.shares((to - from) / 1000, count - warm);
  if (queue) await checkAndClear(ctx, queue, prefix);
  await sender.stop();
  if (receiver.count !== count)
    throw new Error(`${prefix}: ${receiver.count} requests of ${count}`);
  await receiver.close();
  return { rate: perSecond(count - warm, from, to), note };
}

/**
 * http jobs through Errand's worker process (contract check, the key's allowed targets and
 * signing secret, the per-origin limiter in Redis, the SSRF-guarded request, the Standard
 * Webhooks signature, the first KiB of the answer kept as the result, a log line per job)
 * against a plain loop of fetch in a process of its own making the same POSTs to the same
 * kind of receiver, both with the catalog's http concurrency (20) in flight.
 */
export const httpJobs: BenchCase = {
  name: 'http-jobs',
  async run(ctx) {
    const count = Math.max(200, Math.round(10_000 * ctx.scale));
    const { best, notes } = await alternate(
      ctx,
      ['fetch', 'errand'],
      (side, run) => callOnce(ctx, side, run, count),
      'requests/s',
    );
    // No target: the ratio says what a job's bookkeeping costs next to a bare request.
    return [
      {
        case: `${count} POSTs of 0.3 KB to a loopback service answering 200, concurrency ${CONCURRENCY}, 1 process`,
        baseline: { value: best.fetch, unit: 'requests/s', what: 'plain fetch loop (undici)' },
        errand: { value: best.errand, unit: 'jobs/s', what: 'Errand worker, http jobs' },
        ratio: best.errand / best.fetch,
        notes,
      },
    ];
  },
};
