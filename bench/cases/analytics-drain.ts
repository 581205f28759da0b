import { join } from 'node:path';
import { alternate, type BenchCase, type BenchContext, compared } from '../case.ts';
import { drainFigures, timeDrain } from '../drain.ts';
import { startWorker } from '../processes.ts';

const CONCURRENCY = 100;

/**
 * Time a worker process draining a full queue, once warm: from the moment it has taken the
 * first tenth of the jobs (its code compiled, its connections up) to the last job done.
 */
async function drainOnce(
  ctx: BenchContext,
  side: 'bare' | 'aggregate' | 'errand',
  run: number,
  count: number,
) {
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
 * Worker with a no-op processor, and against a bare Worker running the same aggregation
 * (`makeIngest`) and nothing else: the first distance is the aggregation's Redis work and
 * Errand's runtime, the second the runtime's alone. Same concurrency, same Redis.
 */
export const analyticsDrain: BenchCase = {
  name: 'analytics-drain',
  async run(ctx) {
    const count = Math.round(30_000 * ctx.scale);
    const { best, notes } = await alternate(
      ctx,
      ['bare', 'aggregate', 'errand'],
      (side, run) => drainOnce(ctx, side, run, count),
      'jobs/s',
    );
    const name = `drain ${count} one-event analytics jobs, concurrency ${CONCURRENCY}, 1 process`;
    const errand = { value: best.errand, unit: 'jobs/s', what: 'Errand worker, analytics' };
    return [
      compared({ case: name, ...drainFigures(best, errand.what), notes }, 0.6),
      compared(
        {
          case: `${name}, against the same aggregation in a bare Worker`,
          baseline: {
            value: best.aggregate,
            unit: 'jobs/s',
            what: 'bare BullMQ Worker, makeIngest alone',
          },
          errand,
          notes: [],
        },
        0.9,
      ),
    ];
  },
};
