import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jobs } from '@errand/contract';
import { queuePrefix } from '@errand/queues';
import { Queue } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { type BenchContext, type BenchRedis, runRedis } from './case.ts';
import { liveEvents } from './events.ts';
import { cpuMeter, drained, fill, perSecond, waitingAtMost } from './measure.ts';
import { type BenchProcess, startWorker } from './processes.ts';

/** `bare`: bench/bare-worker.ts; `errand`: bench/noop-worker.ts (Errand's runtime, no work). */
export type Side = 'bare' | 'errand';

/** A no-op worker process with Errand's runtime, and the port of its `/metrics`. */
export async function startNoopWorker(
  ctx: BenchContext,
  options: { prefix: string; concurrency: number; logFile: string },
): Promise<BenchProcess & { port: number }> {
  const worker = await startWorker('noop', { redis: ctx.redisUrl, ...options });
  const port = Number(/worker running on (\d+)/.exec(readFileSync(options.logFile, 'utf8'))?.[1]);
  return { ...worker, port };
}

/** `processes` worker processes of one side on the analytics queue of `prefix`, started at once. */
export function startSide(
  ctx: BenchContext,
  side: Side,
  options: { prefix: string; processes: number; concurrency: number },
): Promise<BenchProcess[]> {
  const { prefix, concurrency } = options;
  return Promise.all(
    Array.from({ length: options.processes }, (_, i) =>
      startWorker(side === 'bare' ? 'bare' : 'noop', {
        redis: ctx.redisUrl,
        prefix,
        concurrency,
        logFile: join(ctx.dir, `${prefix}-${i + 1}.log`),
      }),
    ),
  );
}

/** The two figures of a drain row: the bare no-op Worker's jobs/s, and Errand's (`what`). */
export const drainFigures = (best: Record<Side, number>, what: string) => ({
  baseline: { value: best.bare, unit: 'jobs/s', what: 'bare BullMQ Worker, no-op' },
  errand: { value: best.errand, unit: 'jobs/s', what },
});

export interface Drained {
  /** Jobs per second of the measured part. */
  rate: number;
  /** Jobs in the measured part. */
  measured: number;
  /** CPU shares of each worker and of Redis, and µs of CPU per job. */
  note: string;
}

/**
 * Fill the analytics queue of `prefix` with `count` one-event jobs (raw addBulk), start its
 * workers (the queue paused until every one is up), and time them once warm: from the moment
 * a tenth of the jobs is taken (every process up, its code compiled) to the last job done.
 * `during` starts at that moment (e.g. a scraper) and is stopped when the queue is empty.
 * `on`: the Redis of the side (the run's own by default), which `start` must point the
 * workers at too.
 */
export async function timeDrain(
  ctx: BenchContext,
  options: {
    prefix: string;
    count: number;
    start: () => Promise<BenchProcess[]>;
    during?: (workers: BenchProcess[]) => { stop(): Promise<unknown> };
    on?: BenchRedis;
  },
): Promise<Drained> {
  const { prefix, count, on = runRedis(ctx) } = options;
  const queue = await filledQueue(on.client, prefix, count);
  // Paused until every process is up: else the first to start drains the queue alone.
  await queue.pause();
  const workers = await options.start();
  await queue.resume();
  let side: { stop(): Promise<unknown> } | undefined;
  try {
    const { at: from, waiting: measured } = await waitingAtMost(
      queue,
      count - Math.floor(count / 10),
    );
    if (measured === 0) {
      throw new Error(`${prefix}: all ${count} jobs were taken before the drain could be timed`);
    }
    const pids = Object.fromEntries(workers.map((w, i) => [`worker ${i + 1}`, w.child.pid]));
    const meter = await cpuMeter(
      on.servers,
      workers.length === 1 ? { worker: pids['worker 1'] } : pids,
    );
    side = options.during?.(workers);
    const to = await drained(queue);
    const note = await meter.shares((to - from) / 1000, measured);
    return { rate: perSecond(measured, from, to), measured, note };
  } finally {
    await side?.stop();
    await Promise.all(workers.map((worker) => worker.stop()));
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

/** The analytics queue of `prefix`, filled with `count` one-event jobs by raw addBulk. */
export async function filledQueue(connection: Redis | Cluster, prefix: string, count: number) {
  const queue = new Queue(jobs.analytics.queue, {
    connection,
    prefix: queuePrefix(prefix, jobs.analytics.queue),
  });
  await fill(
    queue,
    liveEvents(count, prefix).map((event) => ({ events: [event] })),
  );
  return queue;
}
