import { alternate, type BenchCase, type BenchContext, compared, type Row } from '../case.ts';
import { drainFigures, type Side, startSide, timeDrain } from '../drain.ts';

const CONCURRENCY = 100;
const PROCESSES = [1, 2, 3];

/** One drain by `processes` processes of one side: jobs/s, and a note of its CPU. */
async function drainBy(ctx: BenchContext, side: Side, processes: number, run: number) {
  const prefix = `runtime-${side}-${processes}-${run}`;
  const count = Math.round(30_000 * processes * ctx.scale);
  const { rate, note } = await timeDrain(ctx, {
    prefix,
    count,
    start: () => startSide(ctx, side, { prefix, processes, concurrency: CONCURRENCY }),
  });
  const each = processes > 1 ? `${Math.round(rate / processes)} jobs/s each; ` : '';
  return { rate, note: `${each}${note}` };
}

/**
 * What Errand's worker runtime costs a job, with no work in the job: no-op analytics jobs
 * through `startWorkers` (bench/noop-worker.ts: contract check, timeout, hand-back
 * bookkeeping, Prometheus metrics, the job lines at info to a file) against a bare BullMQ
 * Worker (bench/bare-worker.ts), concurrency 100 per process, the same Redis, the same
 * pre-filled queue (raw addBulk). Each drain is timed once warm (the first tenth left out),
 * sides alternate, the best of `ctx.runs` counts. Rows: 1, 2 and 3 processes of each side;
 * only 1 process has a target (ratio ≥ 0.90). More processes show where the runtime's cost
 * stops mattering: once Redis (one thread) or the machine's cores are saturated, both sides
 * run at Redis' pace. The notes give each process' and Redis' share of a core, and the CPU
 * per job of all of them together (on a machine with fewer cores than processes, the shares
 * are contended and the CPU per job is the steadier figure).
 */
export const workerRuntime: BenchCase = {
  name: 'worker-runtime',
  async run(ctx) {
    const rows: Row[] = [];
    for (const processes of PROCESSES) {
      const { best, notes } = await alternate(
        ctx,
        ['bare', 'errand'] as const,
        (side, run) => drainBy(ctx, side, processes, run),
        `jobs/s, ×${processes}`,
      );
      const count = Math.round(30_000 * processes * ctx.scale);
      const plural = processes === 1 ? 'process' : 'processes';
      const row = {
        case: `drain ${count} no-op jobs, concurrency ${CONCURRENCY}, ${processes} ${plural} each`,
        ...drainFigures(best, 'Errand runtime, no-op processor'),
        notes,
      };
      rows.push(
        processes === 1
          ? compared(row, 0.9)
          : { ...row, ratio: row.errand.value / row.baseline.value },
      );
    }
    return rows;
  },
};
