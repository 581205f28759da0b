/**
 * `npm run bench [-- case ...]`: Errand side by side with raw BullMQ on the same Redis in the
 * same run. 1. start a redis-server of its own (AOF everysec, random port); 2. run each case,
 * baseline and Errand alternately; 3. print the table; 4. write bench/results/<date>.json.
 * BENCH_RUNS (default 2) runs per side, the best counts; BENCH_SCALE scales the work.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisServer } from '@errand/devservers';
import { Redis } from 'ioredis';
import type { BenchCase, BenchContext, Row } from './case.ts';
import { analyticsDrain } from './cases/analytics-drain.ts';
import { analyticsIngest } from './cases/analytics-ingest.ts';
import { analyticsMemory } from './cases/analytics-memory.ts';
import { aofFsync } from './cases/aof-fsync.ts';
import { killAll, ROOT } from './processes.ts';
import { printTable } from './report.ts';

const cases: BenchCase[] = [analyticsIngest, analyticsDrain, analyticsMemory, aofFsync];

const wanted = process.argv.slice(2);
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
  runs: Number(process.env.BENCH_RUNS ?? 2),
  scale: Number(process.env.BENCH_SCALE ?? 1),
  say: (line) => console.log(line),
};
const rows: Row[] = [];
try {
  for (const c of cases.filter((c) => wanted.length === 0 || wanted.includes(c.name))) {
    console.log(`${c.name}…`);
    rows.push(...(await c.run(ctx)));
  }
} finally {
  killAll();
  redis.disconnect();
  await server.dispose();
}

printTable(rows);
const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version };
const file = join(ROOT, 'bench', 'results', `${new Date().toISOString().slice(0, 10)}.json`);
await mkdir(join(ROOT, 'bench', 'results'), { recursive: true });
await writeFile(
  file,
  `${JSON.stringify({ at: new Date().toISOString(), machine, rows }, null, 2)}\n`,
);
console.log(`\nwritten: ${file}`);
await rm(dir, { recursive: true, force: true });
