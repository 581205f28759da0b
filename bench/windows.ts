import { join } from 'node:path';
import type { BenchContext } from './case.ts';
import { filledQueue, startNoopWorker } from './drain.ts';
import { processCpuSeconds, waitingAtMost } from './measure.ts';
import { scrapeEvery } from './scrape.ts';

/** Jobs, milliseconds and worker CPU seconds of the windows of one kind. */
export interface Windows {
  jobs: number;
  ms: number;
  cpu: number;
}

/**
 * One no-op worker (bench/noop-worker.ts) draining `count` jobs, timed in windows of
 * `windowMs` that take turns: its `/metrics` scraped every `intervalMs` in one, left alone in the next
 * (`firstScraped` says which comes first). On a shared machine whose speed drifts over tens
 * of seconds, neighbouring windows see the same machine, where two drains one after the other
 * do not. Windows start once a tenth of the jobs is taken and stop before the queue runs dry.
 * Returns both kinds' totals and every scrape's latency.
 */
export async function scrapedInTurns(
  ctx: BenchContext,
  options: {
    prefix: string;
    count: number;
    concurrency: number;
    intervalMs: number;
    windowMs: number;
  },
  firstScraped: boolean,
) {
  const { prefix, count } = options;
  const queue = await filledQueue(ctx.redis, prefix, count);
  const worker = await startNoopWorker(ctx, {
    prefix,
    concurrency: options.concurrency,
    logFile: join(ctx.dir, `${prefix}.log`),
  });
  const url = `http://127.0.0.1:${worker.port}/metrics`;
  const totals = {
    quiet: { jobs: 0, ms: 0, cpu: 0 } as Windows,
    scraped: { jobs: 0, ms: 0, cpu: 0 } as Windows,
  };
  const latencies: number[] = [];
  try {
    let { at, waiting } = await waitingAtMost(queue, count - Math.floor(count / 10));
    let cpu = processCpuSeconds(worker.child.pid);
    let scraped = firstScraped;
    let lastJobs = 0;
    // Stop while two more windows' worth still waits: no window sees the queue run dry.
    while (waiting > 2 * lastJobs && waiting > 0) {
      const scraper = scraped ? scrapeEvery(url, options.intervalMs) : undefined;
      await new Promise((resolve) => setTimeout(resolve, options.windowMs));
      latencies.push(...((await scraper?.stop()) ?? []).map((s) => s.ms));
      const [now, left, cpuNow] = [
        performance.now(),
        await queue.getJobCountByTypes('wait'),
        processCpuSeconds(worker.child.pid),
      ];
      const kind = totals[scraped ? 'scraped' : 'quiet'];
      lastJobs = waiting - left;
      kind.jobs += lastJobs;
      kind.ms += now - at;
      kind.cpu += cpuNow - cpu;
      [at, waiting, cpu, scraped] = [now, left, cpuNow, !scraped];
    }
    return { ...totals, latencies };
  } finally {
    await worker.stop();
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

/** "5,120 jobs/s, worker 142 µs CPU per job, 9 windows" */
export const windowNote = (w: Windows) =>
  w.ms === 0
    ? 'no window'
    : `${Math.round((w.jobs * 1000) / w.ms).toLocaleString('en-US')} jobs/s, worker ${((w.cpu / w.jobs) * 1e6).toFixed(0)} µs CPU per job, over ${(w.ms / 1000).toFixed(1)} s`;
