import type { Cluster, Redis } from 'ioredis';
import type { ServerGroups } from './measure.ts';
import type { RedisWhere } from './processes.ts';

/** One figure, with what it is of. */
export interface Figure {
  value: number;
  unit: string;
  /** What was measured, e.g. "bare BullMQ Worker, no-op". */
  what: string;
}

/** One line of the table: Errand's figure, its raw baseline from the same run, the verdict. */
export interface Row {
  /** The BenchCase that printed it (set by main.ts). */
  bench?: string;
  case: string;
  baseline?: Figure;
  errand: Figure;
  /** errand / baseline, when higher is better for both. */
  ratio?: number;
  /** What counts as good enough, e.g. "ratio ≥ 0.80" or "≥ 50,000 events/s". */
  target?: string;
  pass?: boolean;
  /** Every run's figures, and anything else worth reading. */
  notes: string[];
}

export interface BenchContext {
  /** A redis-server of the run's own: AOF everysec, loopback, random port. */
  redisUrl: string;
  redis: Redis;
  /** Where processes write their logs. */
  dir: string;
  /** How many times each side of a case runs; the best run counts. */
  runs: number;
  /** Multiplies the amount of work of every case (BENCH_SCALE; 0.05 with --quick). */
  scale: number;
  /** `--quick`: every case runs briefly, to prove it runs; its figures mean little. */
  quick: boolean;
  /** Seconds a timed load (autocannon, a steady rate) lasts: `full`, or 2 with --quick. */
  seconds(full: number): number;
  say(line: string): void;
}

/**
 * A Redis one side of a case runs on: where its processes find it, the bench's own client of
 * it (fills queues, counts jobs), and its servers by the name their CPU is reported under.
 */
export interface BenchRedis {
  where: RedisWhere;
  client: Redis | Cluster;
  servers: ServerGroups;
}

/** The run's own redis-server, as a side of a case sees it. */
export const runRedis = (ctx: BenchContext): BenchRedis => ({
  where: ctx.redisUrl,
  client: ctx.redis,
  servers: { Redis: [ctx.redis] },
});

export interface BenchCase {
  name: string;
  run(ctx: BenchContext): Promise<Row[]>;
}

/** Ratio, target and verdict of a row whose figures are both "higher is better". */
export function compared(row: Omit<Row, 'ratio' | 'pass' | 'target'>, minRatio: number): Row {
  const ratio = row.baseline ? row.errand.value / row.baseline.value : undefined;
  return {
    ...row,
    ratio,
    target: `ratio ≥ ${minRatio.toFixed(2)}`,
    pass: (ratio ?? 0) >= minRatio,
  };
}

/** One run of one side of a case: its figure (higher is better) and a note on it. */
export interface Outcome {
  rate: number;
  note: string;
}

/**
 * Run every side `ctx.runs` times, the sides alternating (so a machine whose speed drifts
 * favours none), each run's line said as it ends; resolves with each side's best figure and
 * every run's line.
 */
export async function alternate<Side extends string>(
  ctx: BenchContext,
  sides: readonly Side[],
  once: (side: Side, run: number) => Promise<Outcome>,
  unit: string,
): Promise<{ best: Record<Side, number>; notes: string[] }> {
  const best = Object.fromEntries(sides.map((side) => [side, 0])) as Record<Side, number>;
  const notes: string[] = [];
  for (let run = 1; run <= ctx.runs; run++) {
    for (const side of sides) {
      const { rate, note } = await once(side, run);
      best[side] = Math.max(best[side], rate);
      notes.push(`run ${run} ${side}: ${rate} ${unit}; ${note}`);
      ctx.say(`  ${notes.at(-1)}`);
    }
  }
  return { best, notes };
}
