/**
 * `npm run bench [-- [--quick] case ...]`: Errand side by side with raw BullMQ on the same
 * Redis in the same run. 1. start a redis-server of its own (AOF everysec, random port);
 * 2. run each case, baseline and Errand alternately; 3. print the table; 4. write
 * bench/results/<date>.json (a run of some cases replaces only their rows in it). BENCH_RUNS
 * (default 2) runs per side, the best counts; BENCH_SCALE scales the work. `--quick` runs every case once, briefly, and writes
 * bench/results/quick.json (git-ignored): CI's proof that no case has rotted.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisServer } from '@errand/devservers';
import { Redis } from 'ioredis';
import type { BenchCase, BenchContext, Row } from './case.ts';
import { analyticsDrain } from './cases/analytics-drain.ts';
import { analyticsIngest } from './cases/analytics-ingest.ts';
import { analyticsMemory } from './cases/analytics-memory.ts';
import { aofFsync } from './cases/aof-fsync.ts';
import { email } from './cases/email.ts';
import { enqueueLatency } from './cases/enqueue-latency.ts';
import { httpEnqueue } from './cases/http-enqueue.ts';
import { image } from './cases/image.ts';
import { metricsCost } from './cases/metrics-cost.ts';
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
];

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const wanted = args.filter((arg) => arg !== '--quick');
const unknown = wanted.filter((name) => !cases.some((c) => c.name === name));
if (unknown.length > 0) {
  console.error(
    `unknown case(s) ${unknown.join(', ')}; the cases are ${cases.map((c) => c.name).join(', ')}`,
  );
  process.exit(2);
}

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
  for (const c of cases.filter((c) => wanted.length === 0 || wanted.includes(c.name))) {
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
const name = quick ? 'quick' : new Date().toISOString().slice(0, 10);
const file = join(ROOT, 'bench', 'results', `${name}.json`);
await mkdir(join(ROOT, 'bench', 'results'), { recursive: true });
// A run of some cases replaces their rows in the day's file and keeps the other cases' rows.
const ran = new Set(rows.map((row) => row.bench));
const earlier: Row[] = await readFile(file, 'utf8')
  .then((text) => (JSON.parse(text) as { rows: Row[] }).rows)
  .catch(() => []);
const kept = quick ? [] : earlier.filter((row) => row.bench && !ran.has(row.bench));
await writeFile(
  file,
  `${JSON.stringify({ at: new Date().toISOString(), quick, machine, rows: [...kept, ...rows], broken }, null, 2)}\n`,
);
console.log(`\nwritten: ${file}`);
await rm(dir, { recursive: true, force: true });
if (broken.length > 0) {
  console.error(`\n${broken.length} case(s) broken:\n${broken.join('\n')}`);
  process.exitCode = 1;
} else if (quick) {
  console.log(`\n--quick: every case ran (${rows.length} rows); its figures are not judged`);
}
