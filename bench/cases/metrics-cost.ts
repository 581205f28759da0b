import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '@errand/devservers';
import { type BenchCase, type BenchContext, compared, type Row } from '../case.ts';
import { startNoopWorker, timeDrain } from '../drain.ts';
import { percentile } from '../measure.ts';
import { ROOT, startProcess } from '../processes.ts';
import { latencies, type Scrape, scrapeEvery } from '../scrape.ts';
import { scrapedInTurns, type Windows, windowNote } from '../windows.ts';

const CONCURRENCY = 100;
const INTERVAL_MS = 100;
const P99_TARGET_MS = 250;

/** One no-op worker draining `count` jobs while a dashboard's /metrics is scraped. */
async function drainWithDashboard(ctx: BenchContext, prefix: string, count: number) {
  let scraper: ReturnType<typeof scrapeEvery> | undefined;
  const dashboard = await startDashboard(ctx, prefix);
  try {
    const { rate, note } = await timeDrain(ctx, {
      prefix,
      count,
      start: async () => [
        await startNoopWorker(ctx, {
          prefix,
          concurrency: CONCURRENCY,
          logFile: join(ctx.dir, `${prefix}.log`),
        }),
      ],
      during: () => {
        scraper = scrapeEvery(dashboard.url, INTERVAL_MS);
        return scraper;
      },
    });
    return { rate, note, scrapes: (await scraper?.stop()) ?? [] };
  } finally {
    await dashboard.stop();
  }
}

/** A dashboard process on `prefix` (no users: /metrics needs no login), and its /metrics URL. */
async function startDashboard(ctx: BenchContext, prefix: string) {
  const usersFile = join(ctx.dir, 'dashboard-users.yaml');
  writeFileSync(usersFile, 'users: []\n', { mode: 0o600 });
  const port = await freePort();
  const dashboard = await startProcess(
    join(ROOT, 'apps', 'dashboard', 'src', 'main.ts'),
    {
      REDIS_URL: ctx.redisUrl,
      QUEUE_PREFIX: prefix,
      DASHBOARD_PORT: String(port),
      DASHBOARD_USERS_FILE: usersFile,
      LOG_LEVEL: 'info',
    },
    join(ctx.dir, `${prefix}-dashboard.log`),
    'dashboard listening',
  );
  return { url: `http://127.0.0.1:${port}/metrics`, stop: () => dashboard.stop() };
}

/**
 * The scrapes that read Redis: the dashboard serves one snapshot for 2 s, so a scrape whose
 * queue counts differ from the last one's (they always move while a queue drains) made a read.
 */
const redisReads = (scrapes: Scrape[]) => {
  const counts = (body: string) =>
    body
      .split('\n')
      .filter((line) => line.startsWith('errand_queue_jobs{'))
      .join('\n');
  return scrapes.filter((s, i) => i === 0 || counts(s.body) !== counts(scrapes[i - 1]?.body ?? ''));
};

const p99Row = (name: string, what: string, values: number[], notes: string[]): Row => {
  const p99 = Math.round(percentile(values, 99) * 10) / 10;
  return {
    case: name,
    errand: { value: p99, unit: 'ms', what },
    target: `p99 ≤ ${P99_TARGET_MS} ms`,
    pass: p99 <= P99_TARGET_MS,
    notes,
  };
};

/** (a) and (b): the worker's drain rate scraped vs not, in turns, and its scrapes' latency. */
async function scrapeCost(ctx: BenchContext): Promise<Row[]> {
  const count = Math.round(120_000 * ctx.scale);
  const quiet: Windows = { jobs: 0, ms: 0, cpu: 0 };
  const scraped: Windows = { jobs: 0, ms: 0, cpu: 0 };
  const ms: number[] = [];
  const notes: string[] = [];
  for (let run = 1; run <= ctx.runs; run++) {
    const options = { prefix: `metrics-${run}`, count, concurrency: CONCURRENCY };
    const windowMs = ctx.quick ? 250 : 1_000;
    const got = await scrapedInTurns(
      ctx,
      { ...options, intervalMs: INTERVAL_MS, windowMs },
      run % 2 === 0,
    );
    for (const [total, part] of [
      [quiet, got.quiet],
      [scraped, got.scraped],
    ] as const) {
      total.jobs += part.jobs;
      total.ms += part.ms;
      total.cpu += part.cpu;
    }
    ms.push(...got.latencies);
    notes.push(
      `run ${run}: not scraped ${windowNote(got.quiet)}; scraped ${windowNote(got.scraped)}; /metrics ${latencies(got.latencies)}`,
    );
    ctx.say(`  ${notes.at(-1)}`);
  }
  const rate = (w: Windows) => (w.ms > 0 ? Math.round((w.jobs * 1000) / w.ms) : 0);
  return [
    compared(
      {
        case: `drain ${count} no-op jobs, 1 worker, its /metrics scraped every ${INTERVAL_MS} ms vs not, in turns`,
        baseline: { value: rate(quiet), unit: 'jobs/s', what: 'not scraped' },
        errand: { value: rate(scraped), unit: 'jobs/s', what: 'scraped' },
        notes: [
          `all runs: not scraped ${windowNote(quiet)}; scraped ${windowNote(scraped)}`,
          ...notes,
        ],
      },
      0.95,
    ),
    p99Row('worker /metrics while it drains', 'worker /metrics p99', ms, [
      `every scrape: ${latencies(ms)}`,
    ]),
  ];
}

/** (c): the dashboard's /metrics while a worker drains; the target is on reads of Redis. */
async function dashboardLatency(ctx: BenchContext): Promise<Row> {
  const count = Math.round(100_000 * ctx.scale);
  const all: number[] = [];
  const reads: number[] = [];
  const notes: string[] = [];
  for (let run = 1; run <= ctx.runs; run++) {
    const drain = await drainWithDashboard(ctx, `metrics-dash-${run}`, count);
    const runReads = redisReads(drain.scrapes).map((s) => s.ms);
    all.push(...drain.scrapes.map((s) => s.ms));
    reads.push(...runReads);
    notes.push(
      `run ${run}: worker ${drain.rate} jobs/s; ${drain.note}; every scrape ${latencies(drain.scrapes.map((s) => s.ms))}; reads of Redis ${latencies(runReads)}`,
    );
    ctx.say(`  dashboard ${notes.at(-1)}`);
  }
  return p99Row(
    `dashboard /metrics reads of Redis while a worker drains ${count} jobs`,
    'dashboard /metrics p99 (reads)',
    reads,
    [`reads of Redis: ${latencies(reads)}; every scrape: ${latencies(all)}`, ...notes],
  );
}

/**
 * What metrics cost a worker under load, and how fast `/metrics` answers then. The apps have
 * no metrics switch (and one made for a benchmark would measure a build nobody runs), so "on
 * vs off" is measured as what an operator can change: being scraped or not.
 * (a) One no-op worker (bench/noop-worker.ts: Errand's runtime, its own `/metrics`) drains a
 *     full queue, its `/metrics` scraped every 100 ms (Prometheus' default is 15 s: 150 times
 *     harsher) in one second, left alone in the next, in turns (bench/windows.ts): two drains
 *     one after the other differ by more, on a shared machine, than a scrape costs. Rates are
 *     all windows of a kind together, over `ctx.runs` drains; target ratio ≥ 0.95. The
 *     counting itself (prom-client counters and histograms per job) runs either way: its cost
 *     is inside worker-runtime's figure, against a bare worker that counts nothing.
 * (b) The latency of those scrapes, the worker running flat out: target p99 ≤ 250 ms.
 * (c) The dashboard's `/metrics` (queue depths from Redis, the schedules' runs) scraped every
 *     100 ms while a worker drains. The dashboard serves one snapshot for 2 s, so most of
 *     those scrapes are cache hits that show little; Prometheus, every 15 s, always gets a
 *     fresh read. The target is on the reads (scrapes whose queue counts changed), every
 *     scrape's figures in the notes. Reads are few per run, so their p99 is their slowest.
 * BullMQ's own per-minute metrics (the Worker's `metrics` option, kept for Bull Board's chart)
 * are two hash commands (HINCRBY, HGET) inside the moveToFinished script every job runs
 * anyway: part of Redis' µs per job in worker-runtime, too small to part from its noise.
 */
export const metricsCost: BenchCase = {
  name: 'metrics-cost',
  async run(ctx) {
    return [...(await scrapeCost(ctx)), await dashboardLatency(ctx)];
  },
};
