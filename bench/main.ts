/**
 * `npm run bench [-- [--quick] case ...]`: Errand side by side with raw BullMQ on the same
 * Redis in the same run. 1. start a redis-server of its own (AOF everysec, random port);
 * 2. run each case, baseline and Errand alternately; 3. print the table; 4. write
 * bench/results/<date>.json (a run of some cases replaces only their rows in it). BENCH_RUNS
 * (default 2) runs per side, the best counts; BENCH_SCALE scales the work. `--quick` runs every case once, briefly, and writes
 * bench/results/quick.json (git-ignored): CI's proof that no case has rotted.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisServer } from '@errand/devservers';
import { Redis } from 'ioredis';
import { chooseCases, writeResults } from '../scripts/case-runs.ts';
import type { BenchCase, BenchContext, Row } from './case.ts';
import { analyticsDrain } from './cases/analytics-drain.ts';
import { analyticsIngest } from './cases/analytics-ingest.ts';
import { analyticsMemory } from './cases/analytics-memory.ts';
import { aofFsync } from './cases/aof-fsync.ts';
import { cluster } from './cases/cluster.ts';
import { email } from './cases/email.ts';
import { enqueueLatency } from './cases/enqueue-latency.ts';
import { httpEnqueue } from './cases/http-enqueue.ts';
import { httpJobs } from './cases/http-jobs.ts';
import { image } from './cases/image.ts';
import { metricsCost } from './cases/metrics-cost.ts';
import { webhookFanout } from './cases/webhook-fanout.ts';
import { workerRuntime } from './cases/worker-runtime.ts';
import { killAll, ROOT } from './processes.ts';
import { printTable } from './report.ts';

const cases: BenchCase[] = [
  httpEnqueue,
  enqueueLatency,
  workerRuntime,
  image,
  email,
  analyticsIngest,
  analyticsDrain,
  analyticsMemory,
  aofFsync,
  metricsCost,
  cluster,
  httpJobs,
  webhookFanout,
];

const { quick, chosen } = chooseCases(cases, (c) => c.name, 'case');

const dir = await mkdtemp(join(tmpdir(), 'errand-bench-'));
const server = await RedisServer.start({ appendfsync: 'everysec' });
const redis = new Redis(server.url);
const ctx: BenchContext = {
  redisUrl: server.url,
  redis,
  dir,
  runs: quick ? 1 : Number(process.env.BENCH_RUNS ?? 2),
  scale: Number(process.env.BENCH_SCALE ?? (quick ? 0.05 : 1)),
  quick,
  seconds: (full) => (quick ? 2 : full),
  say: (line) => console.log(line),
};
const rows: Row[] = [];
/** Cases that threw or printed nothing: the run fails (never for a missed target). */
const broken: string[] = [];
try {
  for (const c of chosen) {
    console.log(`${c.name}…`);
    try {
      const got = await c.run(ctx);
      if (got.length === 0) broken.push(`${c.name}: no figures`);
      rows.push(...got.map((row) => ({ ...row, bench: c.name })));
    } catch (error) {
      console.error(error);
      broken.push(`${c.name}: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      killAll(); // what a failed case left running
    }
  }
} finally {
  redis.disconnect();
  await server.dispose();
}

printTable(rows);
const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version };
// A run of some cases replaces their rows in the day's file and keeps the other cases' rows.
const file = await writeResults({
  dir: join(ROOT, 'bench', 'results'),
  quick,
  field: 'rows',
  fresh: rows,
  caseOf: (row: Row) => row.bench,
  document: (all) => ({ at: new Date().toISOString(), quick, machine, rows: all, broken }),
});
console.log(`\nwritten: ${file}`);
await rm(dir, { recursive: true, force: true });
if (broken.length > 0) {
  console.error(`\n${broken.length} case(s) broken:\n${broken.join('\n')}`);
  process.exitCode = 1;
} else if (quick) {
  console.log(`\n--quick: every case ran (${rows.length} rows); its figures are not judged`);
}
