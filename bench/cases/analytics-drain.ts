import { join } from 'node:path';
import { jobs } from '@errand/contract';
import { Queue } from 'bullmq';
import { alternate, type BenchCase, type BenchContext, compared } from '../case.ts';
import { liveEvents } from '../events.ts';
import { cpuMeter, drained, fill, perSecond, waitingAtMost } from '../measure.ts';
import { startWorker } from '../processes.ts';

const CONCURRENCY = 100;

/**
 * Time a worker process draining a full queue, once warm: from the moment it has taken the
 * first tenth of the jobs (its code compiled, its connections up) to the last job done.
 */
async function drainOnce(ctx: BenchContext, side: 'bare' | 'errand', run: number, count: number) {
  const prefix = `drain-${side}-${run}`;
  const queue = new Queue(jobs.analytics.queue, { connection: ctx.redis, prefix });
  await fill(
    queue,
    liveEvents(count, prefix).map((event) => ({ events: [event] })),
  );
  const logFile = join(ctx.dir, `${prefix}.log`);
  const worker = await startWorker(side, {
    redisUrl: ctx.redisUrl,
    prefix,
    concurrency: CONCURRENCY,
    logFile,
  });
  const measured = count - Math.floor(count / 10);
  const from = await waitingAtMost(queue, measured);
  const meter = await cpuMeter(ctx.redis, { worker: worker.child.pid });
  const to = await drained(queue);
  const note = await meter.shares((to - from) / 1000, measured);
  await worker.stop();
  await queue.obliterate({ force: true });
  await queue.close();
  return { rate: perSecond(measured, from, to), note };
}

/**
 * Single-event analytics jobs through Errand's worker process (contract check, timeout,
 * metrics, a log line at start and end, the aggregation script) against a bare BullMQ
 * Worker with a no-op processor, at the same concurrency, on the same Redis.
 */
export const analyticsDrain: BenchCase = {
  name: 'analytics-drain',
  async run(ctx) {
    const count = Math.round(30_000 * ctx.scale);
    const { best, notes } = await alternate(
      ctx,
      ['bare', 'errand'],
      (side, run) => drainOnce(ctx, side, run, count),
      'jobs/s',
    );
    return [
      compared(
        {
          case: `drain ${count} one-event analytics jobs, concurrency ${CONCURRENCY}, 1 process`,
          baseline: {
            value: best.bare,
            unit: 'jobs/s',
            what: 'bare BullMQ Worker, no-op',
          },
          errand: {
            value: best.errand,
            unit: 'jobs/s',
            what: 'Errand worker, analytics',
          },
          notes,
        },
        0.8,
      ),
    ];
  },
};
