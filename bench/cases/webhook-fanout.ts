import { join } from 'node:path';
import { jobs } from '@errand/contract';
import { publishCallerPolicies, subscriptionStore } from '@errand/outbound';
import { queuePrefix } from '@errand/queues';
import { newSigningSecret } from '@errand/signing';
import { Queue } from 'bullmq';
import { alternate, type BenchCase, type BenchContext, type Row } from '../case.ts';
import { filledQueue, timeDrain } from '../drain.ts';
import { startCountingReceiver } from '../http-receiver.ts';
import { cpuMeter, drained, perSecond } from '../measure.ts';
import { appScript, type BenchProcess, ROOT, startProcess } from '../processes.ts';
import { clearPrefix } from './http-jobs.ts';

/** Subscriptions every job's completion goes to. */
const K = 3;
/** The catalog's delivery concurrency, and as many requests in flight to the receiver's origin. */
const CONCURRENCY = jobs.webhook.concurrency;

/** `k` subscriptions to job.completed of every job type, each a path of `url`. */
async function subscribe(ctx: BenchContext, prefix: string, k: number, url: string) {
  const store = subscriptionStore(ctx.redis, prefix);
  // As a producer would publish its keys: the subscriptions' owner may call the receiver.
  await publishCallerPolicies(ctx.redis, prefix, { bench: { allowedTargets: [url] } });
  for (let i = 1; i <= k; i++)
    await store.put(`s${i}`, { url: `${url}/s${i}`, events: ['job.completed'] }, 'bench');
}

/** Errand's worker process on `queues` of `prefix`, outbound to loopback. */
const worker = (ctx: BenchContext, prefix: string, queues: string, logFile: string) =>
  startProcess(
    appScript('worker'),
    {
      REDIS_URL: ctx.redisUrl,
      QUEUE_PREFIX: prefix,
      WORKER_QUEUES: queues,
      WORKER_PORT: '0',
      ANALYTICS_CONCURRENCY: '100',
      // The per-origin limit (10 by default) would cap deliveries below the baseline's.
      TARGET_CONCURRENCY: String(CONCURRENCY),
      OUTBOUND_ALLOW_IPS: '127.0.0.1',
      LOG_LEVEL: 'info',
    },
    logFile,
    'worker running',
  );

/**
 * One side makes `count` deliveries to a receiver of its own, timed there once warm (from the
 * tenth): Errand's worker runs `count / K` analytics jobs (pre-filled) and delivers each one's
 * job.completed to K subscriptions; the baseline POSTs `count` signed bodies in a loop.
 */
async function deliverOnce(ctx: BenchContext, side: 'loop' | 'errand', run: number, count: number) {
  const prefix = `fanout-${side}-${run}`;
  const receiver = await startCountingReceiver();
  const logFile = join(ctx.dir, `${prefix}.log`);
  let sender: BenchProcess;
  let webhook: Queue | undefined;
  if (side === 'loop') {
    const env = { URL: receiver.url, COUNT: String(count), CONCURRENCY: String(CONCURRENCY) };
    // A body the size of a job.completed event's.
    const BODY = JSON.stringify({
      type: 'job.completed',
      timestamp: new Date().toISOString(),
      data: {
        jobType: 'analytics',
        jobId: '123456',
        state: 'completed',
        producer: 'bench',
        attemptsMade: 0,
        result: { counted: 1, duplicates: 0 },
        finishedAt: new Date().toISOString(),
      },
    });
    const script = join(ROOT, 'bench', 'http-sender.ts');
    sender = await startProcess(
      script,
      { ...env, BODY, SECRET: newSigningSecret() },
      logFile,
      'http sender ready',
    );
  } else {
    await subscribe(ctx, prefix, K, receiver.url);
    const analytics = await filledQueue(ctx.redis, prefix, count / K);
    await analytics.close();
    webhook = new Queue(jobs.webhook.queue, {
      connection: ctx.redis,
      prefix: queuePrefix(prefix, jobs.webhook.queue),
    });
    sender = await worker(ctx, prefix, 'analytics,webhook', logFile);
  }
  const from = await receiver.waitFor(Math.floor(count / 10));
  const meter = await cpuMeter(ctx.redis, {
    [side === 'loop' ? 'fetch loop' : 'worker']: sender.child.pid,
    'bench + receiver': process.pid,
  });
  const to = await receiver.waitFor(count);
  const note = await meter.shares((to - from) / 1000, count - Math.floor(count / 10));
  if (webhook) {
    await drained(webhook);
    const failed = await webhook.getJobCountByTypes('failed');
    if (failed > 0) throw new Error(`${prefix}: ${failed} deliveries failed`);
    await webhook.obliterate({ force: true });
    await webhook.close();
  }
  await sender.stop();
  await clearPrefix(ctx, prefix);
  if (receiver.count !== count)
    throw new Error(`${prefix}: ${receiver.count} deliveries of ${count}`);
  await receiver.close();
  return { rate: perSecond(count - Math.floor(count / 10), from, to), note };
}

/** A drain of `count` analytics jobs by Errand's worker with `k` subscriptions (deliveries queued, not sent). */
async function drainWith(ctx: BenchContext, k: number, run: number, count: number) {
  const prefix = `fanout-cost-${k}-${run}`;
  await subscribe(ctx, prefix, k, 'http://127.0.0.1:9');
  const drain = await timeDrain(ctx, {
    prefix,
    count,
    start: async () => [await worker(ctx, prefix, 'analytics', join(ctx.dir, `${prefix}.log`))],
  });
  const webhook = new Queue(jobs.webhook.queue, {
    connection: ctx.redis,
    prefix: queuePrefix(prefix, jobs.webhook.queue),
  });
  const queued = await webhook.getJobCountByTypes('wait');
  if (queued !== count * k)
    throw new Error(`${prefix}: ${queued} deliveries queued of ${count * k}`);
  await webhook.obliterate({ force: true });
  await webhook.close();
  await clearPrefix(ctx, prefix);
  return { rate: drain.rate, note: drain.note };
}

/**
 * Completion webhooks. Row 1, end to end: analytics jobs each delivered to K (3)
 * subscriptions by Errand's worker (the event logged for replay, K delivery jobs added before
 * the job completes, each delivery a job: the subscription read, the per-origin limiter, the
 * SSRF-guarded signed POST, the delivery log) against a loop of as many signed POSTs of an
 * event-sized body (bench/http-sender.ts), both with the catalog's delivery concurrency (20)
 * in flight, counted at the receiver. Row 2, what subscriptions add to a job: the analytics
 * drain by Errand's worker with none against K (deliveries only queued); the notes give the
 * worker's CPU per job. No targets: the ratios are what the figures are for.
 */
export const webhookFanout: BenchCase = {
  name: 'webhook-fanout',
  async run(ctx) {
    const jobsCount = Math.max(100, Math.round(4_000 * ctx.scale));
    const count = jobsCount * K;
    const fanout = await alternate(
      ctx,
      ['loop', 'errand'],
      (side, run) => deliverOnce(ctx, side, run, count),
      'deliveries/s',
    );
    const drainCount = Math.max(1_000, Math.round(20_000 * ctx.scale));
    const cost = await alternate(
      ctx,
      ['none', 'three'],
      (side, run) => drainWith(ctx, side === 'none' ? 0 : K, run, drainCount),
      'jobs/s',
    );
    const rows: Row[] = [
      {
        case: `${jobsCount} analytics jobs × ${K} subscriptions = ${count} deliveries to a loopback receiver, concurrency ${CONCURRENCY}, 1 process`,
        baseline: {
          value: fanout.best.loop,
          unit: 'POSTs/s',
          what: 'signed POSTs in a fetch loop',
        },
        errand: {
          value: fanout.best.errand,
          unit: 'deliveries/s',
          what: 'Errand worker, jobs + deliveries',
        },
        ratio: fanout.best.errand / fanout.best.loop,
        notes: fanout.notes,
      },
      {
        case: `drain ${drainCount} analytics jobs, 0 vs ${K} subscriptions (deliveries queued, not sent), concurrency 100, 1 process`,
        baseline: { value: cost.best.none, unit: 'jobs/s', what: 'Errand worker, no subscription' },
        errand: {
          value: cost.best.three,
          unit: 'jobs/s',
          what: `Errand worker, ${K} subscriptions`,
        },
        ratio: cost.best.three / cost.best.none,
        notes: cost.notes,
      },
    ];
    return rows;
  },
};
