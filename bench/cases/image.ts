import { readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ImagePayload, jobs } from '@errand/contract';
import { queuePrefix } from '@errand/queues';
import { Queue } from 'bullmq';
import { alternate, type BenchCase, type BenchContext, compared } from '../case.ts';
import { photoFixture, RENDITIONS } from '../image-fixture.ts';
import { cpuMeter, drained, waitingAtMost } from '../measure.ts';
import { appScript, ROOT, startProcess } from '../processes.ts';

const CONCURRENCY = jobs.image.concurrency;
const FIXTURE_KEY = 'uploads/photo.jpg';

/** One side's run: `count` jobs, the first `warm` of them not timed; its files and log. */
interface Run {
  prefix: string;
  storageDir: string;
  logFile: string;
  count: number;
  warm: number;
}

/** Poll a process's log until it contains `text`; resolves with the time it did. */
async function said(logFile: string, text: string): Promise<number> {
  for (;;) {
    if (readFileSync(logFile, 'utf8').includes(text)) return performance.now();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The plain sharp loop, timed by what it says in its log. */
async function sharpLoop(ctx: BenchContext, run: Run) {
  const loop = await startProcess(
    join(ROOT, 'bench', 'sharp-loop.ts'),
    {
      FIXTURE: join(run.storageDir, FIXTURE_KEY),
      OUT_DIR: run.storageDir,
      COUNT: String(run.count),
      CONCURRENCY: String(CONCURRENCY),
      WARM: String(run.warm),
    },
    run.logFile,
    'sharp loop ready',
  );
  const from = await said(run.logFile, 'warm');
  const meter = await cpuMeter(ctx.redis, { loop: loop.child.pid });
  const to = await said(run.logFile, 'done');
  const note = await meter.shares((to - from) / 1000, run.count - run.warm);
  await loop.stop();
  return { from, to, note };
}

/** Errand's worker draining `count` image jobs of the stored fixture, timed by the queue. */
async function errandWorker(ctx: BenchContext, run: Run) {
  const queue = new Queue(jobs.image.queue, {
    connection: ctx.redis,
    prefix: queuePrefix(run.prefix, jobs.image.queue),
  });
  const data: ImagePayload = { source: { key: FIXTURE_KEY }, outputs: RENDITIONS };
  await queue.addBulk(
    Array.from({ length: run.count }, () => ({ name: 'bench', data, opts: jobs.image.defaults })),
  );
  const worker = await startProcess(
    appScript('worker'),
    {
      REDIS_URL: ctx.redisUrl,
      QUEUE_PREFIX: run.prefix,
      WORKER_QUEUES: 'image',
      WORKER_PORT: '0',
      IMAGE_CONCURRENCY: String(CONCURRENCY),
      STORAGE_DIR: run.storageDir,
      LOG_LEVEL: 'info',
    },
    run.logFile,
    'worker running',
  );
  const { at: from } = await waitingAtMost(queue, run.count - run.warm);
  const meter = await cpuMeter(ctx.redis, { worker: worker.child.pid });
  const to = await drained(queue);
  const note = await meter.shares((to - from) / 1000, run.count - run.warm);
  const failed = await queue.getJobCountByTypes('failed');
  if (failed > 0) throw new Error(`${run.prefix}: ${failed} image jobs failed; see ${run.logFile}`);
  await worker.stop();
  await queue.obliterate({ force: true });
  await queue.close();
  return { from, to, note };
}

/**
 * One side renders `count` jobs in a process of its own, timed once warm: from the moment it
 * has started the first tenth of the jobs (its code compiled, sharp's threads up) to the last
 * output written. Each run has a storage folder of its own holding the fixture.
 */
async function renderOnce(
  ctx: BenchContext,
  side: 'sharp' | 'errand',
  n: number,
  count: number,
  photo: Buffer,
) {
  const prefix = `image-${side}-${n}`;
  const warm = Math.floor(count / 10);
  const storageDir = join(ctx.dir, prefix);
  await mkdir(join(storageDir, 'uploads'), { recursive: true });
  await writeFile(join(storageDir, FIXTURE_KEY), photo);
  const run = { prefix, storageDir, logFile: join(ctx.dir, `${prefix}.log`), count, warm };
  const { from, to, note } =
    side === 'sharp' ? await sharpLoop(ctx, run) : await errandWorker(ctx, run);
  await rm(storageDir, { recursive: true, force: true });
  // one decimal: at a few jobs a second, whole numbers would move the ratio by several percent
  return { rate: Math.round(((count - warm) * 10_000) / (to - from)) / 10, note };
}

/**
 * Image jobs through Errand's worker process (contract check, timeout, a log line at start
 * and end, a progress update per output, the source read from and the outputs written to
 * local storage) against a plain sharp loop in a process of its own doing the same work:
 * read the same 2048×1536 photo-like JPEG from a file, render the same two outputs with the
 * same sharp calls, write them to files. Both run the catalog's image concurrency with sharp's
 * default threads, so only what Errand adds around sharp differs.
 */
export const image: BenchCase = {
  name: 'image',
  async run(ctx) {
    const count = Math.max(10, Math.round(120 * ctx.scale));
    const photo = await photoFixture();
    const { best, notes } = await alternate(
      ctx,
      ['sharp', 'errand'],
      (side, run) => renderOnce(ctx, side, run, count, photo),
      'jobs/s',
    );
    return [
      compared(
        {
          case: `${count} image jobs, 2048×1536 JPEG → WebP 1024 + JPEG 256² thumb, concurrency ${CONCURRENCY}, 1 process`,
          baseline: {
            value: best.sharp,
            unit: 'jobs/s',
            what: 'plain sharp loop, file in, files out',
          },
          errand: {
            value: best.errand,
            unit: 'jobs/s',
            what: 'Errand worker, image',
          },
          notes,
        },
        0.9,
      ),
    ];
  },
};
