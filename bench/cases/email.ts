import { join } from 'node:path';
import { jobs } from '@errand/contract';
import { SmtpSink } from '@errand/devservers';
import { queueKey, queuePrefix } from '@errand/queues';
import { Queue } from 'bullmq';
import { alternate, type BenchCase, type BenchContext, compared } from '../case.ts';
import { BENCH_FROM, benchMail } from '../mails.ts';
import { cpuMeter, drained, perSecond } from '../measure.ts';
import { appScript, ROOT, startProcess } from '../processes.ts';

const CONCURRENCY = jobs.email.concurrency;
/** The pool of Errand's worker (apps/worker/src/main.ts). */
const MAX_CONNECTIONS = 5;
const TIMEOUT_MS = 300_000;

/** The sides: raw nodemailer, a bare BullMQ Worker around it (the floor), Errand's worker. */
type Side = 'raw' | 'floor' | 'errand';

/** `count` mails waiting on the email queue of `prefix`, as Errand's API would add them. */
async function fillQueue(ctx: BenchContext, prefix: string, count: number) {
  const queue = new Queue(jobs.email.queue, {
    connection: ctx.redis,
    prefix: queuePrefix(prefix, jobs.email.queue),
  });
  for (let first = 0; first < count; first += 1_000) {
    await queue.addBulk(
      Array.from({ length: Math.min(1_000, count - first) }, (_, n) => ({
        name: 'bench',
        data: benchMail(first + n, prefix),
        opts: jobs.email.defaults,
      })),
    );
  }
  return queue;
}

/** Errand's worker on the email queue of `prefix`. */
const errandWorker = (ctx: BenchContext, prefix: string, sink: SmtpSink) =>
  startProcess(
    appScript('worker'),
    {
      REDIS_URL: ctx.redisUrl,
      QUEUE_PREFIX: prefix,
      WORKER_QUEUES: 'email',
      WORKER_PORT: '0',
      EMAIL_CONCURRENCY: String(CONCURRENCY),
      SMTP_URL: sink.url,
      MAIL_FROM: BENCH_FROM,
      LOG_LEVEL: 'info',
    },
    join(ctx.dir, `${prefix}.log`),
    'worker running',
  );

/** The floor (bench/floor-mail-worker.ts) on the email queue of `prefix`. */
const floorWorker = (ctx: BenchContext, prefix: string, sink: SmtpSink) =>
  startProcess(
    join(ROOT, 'bench', 'floor-mail-worker.ts'),
    {
      REDIS_URL: ctx.redisUrl,
      QUEUE_PREFIX: prefix,
      SMTP_URL: sink.url,
      MAIL_FROM: BENCH_FROM,
      CONCURRENCY: String(CONCURRENCY),
      MAX_CONNECTIONS: String(MAX_CONNECTIONS),
    },
    join(ctx.dir, `${prefix}.log`),
    'worker running',
  );

/** Raw pooled nodemailer sending `count` mails, in a process of its own. */
const rawSender = (ctx: BenchContext, prefix: string, count: number, sink: SmtpSink) =>
  startProcess(
    join(ROOT, 'bench', 'mail-sender.ts'),
    {
      SMTP_URL: sink.url,
      COUNT: String(count),
      CONCURRENCY: String(CONCURRENCY),
      MAX_CONNECTIONS: String(MAX_CONNECTIONS),
      TAG: prefix,
    },
    join(ctx.dir, `${prefix}.log`),
    'mail sender ready',
  );

/** Every job done and none failed; then the queue and the send ledger's keys go. */
async function checkAndClear(ctx: BenchContext, queue: Queue, prefix: string) {
  await drained(queue);
  const failed = await queue.getJobCountByTypes('failed');
  if (failed > 0) throw new Error(`${prefix}: ${failed} email jobs failed`);
  await queue.obliterate({ force: true });
  await queue.close();
  const ledger = ctx.redis.scanStream({
    match: queueKey(prefix, jobs.email.queue, 'sent:*'),
    count: 1_000,
  });
  for await (const keys of ledger as AsyncIterable<string[]>) {
    if (keys.length > 0) await ctx.redis.unlink(...keys);
  }
}

/**
 * One side sends `count` mails to an SMTP sink of its own, in this process, timed at the sink
 * once warm: from the tenth of the mails delivered (code compiled, connections open) to the
 * last one.
 */
async function sendOnce(ctx: BenchContext, side: Side, run: number, count: number) {
  const prefix = `email-${side}-${run}`;
  const sink = await SmtpSink.start();
  const queue = side === 'raw' ? undefined : await fillQueue(ctx, prefix, count);
  const sender =
    side === 'raw'
      ? await rawSender(ctx, prefix, count, sink)
      : await (side === 'floor' ? floorWorker : errandWorker)(ctx, prefix, sink);
  const warm = Math.floor(count / 10);
  await sink.waitFor(warm, TIMEOUT_MS);
  const from = performance.now();
  const meter = await cpuMeter(ctx.redis, {
    [side === 'raw' ? 'nodemailer' : 'worker']: sender.child.pid,
    'bench + sink': process.pid,
  });
  await sink.waitFor(count, TIMEOUT_MS);
  const to = performance.now();
  const note = await meter.shares((to - from) / 1000, count - warm);
  if (queue) await checkAndClear(ctx, queue, prefix);
  await sender.stop();
  if (sink.messages.length !== count)
    throw new Error(`${prefix}: the sink has ${sink.messages.length} mails of ${count}`);
  await sink.close();
  return { rate: perSecond(count - warm, from, to), note };
}

/**
 * Mails through Errand's worker process (contract check, timeout, the queue's limiter, the
 * send ledger written after each send, a log line and two histograms per job) against raw
 * pooled nodemailer in a process of its own sending the same mails: both with the catalog's
 * email concurrency over a pool of as many connections as the worker's, to an SMTP sink in
 * the bench process, counted as they arrive there. Beside them the floor, a bare BullMQ
 * Worker around the same nodemailer (bench/floor-mail-worker.ts): the target is against raw
 * nodemailer, the second row says how much of the gap is Errand's own.
 */
export const email: BenchCase = {
  name: 'email',
  async run(ctx) {
    const count = Math.max(100, Math.round(5_000 * ctx.scale));
    const { best, notes } = await alternate(
      ctx,
      ['raw', 'floor', 'errand'] as const,
      (side, run) => sendOnce(ctx, side, run, count),
      'mails/s',
    );
    const label = `${count} mails of 2.5 KB, concurrency ${CONCURRENCY}, pool of ${MAX_CONNECTIONS} SMTP connections, 1 process`;
    const errand = { value: best.errand, unit: 'mails/s', what: 'Errand worker, email' };
    return [
      compared(
        {
          case: label,
          baseline: { value: best.raw, unit: 'mails/s', what: 'raw pooled nodemailer' },
          errand,
          notes,
        },
        0.9,
      ),
      {
        case: `${label}, against the floor`,
        baseline: {
          value: best.floor,
          unit: 'mails/s',
          what: 'floor: bare BullMQ Worker + the same nodemailer',
        },
        errand,
        ratio: best.errand / best.floor,
        notes: [],
      },
    ];
  },
};
