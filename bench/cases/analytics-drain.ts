import { join } from 'node:path';
import { alternate, type BenchCase, type BenchContext, compared } from '../case.ts';
import { drainFigures, timeDrain } from '../drain.ts';
import { startWorker } from '../processes.ts';

const CONCURRENCY = 100;

/**
 * Time a worker process draining a full queue, once warm: from the moment it has taken the
 * first tenth of the jobs (its code compiled, its connections up) to the last job done.
 */
async function drainOnce(ctx: BenchContext, side: 'bare' | 'errand', run: number, count: number) {
  const prefix = `drain-${side}-${run}`;
  const logFile = join(ctx.dir, `${prefix}.log`);
  const start = () =>
    startWorker(side, { redis: ctx.redisUrl, prefix, concurrency: CONCURRENCY, logFile });
  const { rate, note } = await timeDrain(ctx, {
    prefix,
    count,
    start: async () => [await start()],
  });
  return { rate, note };
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
          ...drainFigures(best, 'Errand worker, analytics'),
          notes,
        },
        0.8,
      ),
    ];
  },
};
