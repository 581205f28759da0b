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
import { type S3Store, startS3Store } from '../s3-store.ts';

const CONCURRENCY = jobs.image.concurrency;
const FIXTURE_KEY = 'uploads/photo.jpg';

type Side = 'sharp' | 'errand' | 's3';

/** One side's run: `count` jobs, the first `warm` of them not timed; its log. */
interface Run {
  prefix: string;
  logFile: string;
  count: number;
  warm: number;
}

/** Where Errand's worker keeps its images: the settings, and the store's processes to meter. */
interface Store {
  env: Record<string, string>;
  pids: Record<string, number | undefined>;
}

/** Poll a process's log until it contains `text`; resolves with the time it did. */
async function said(logFile: string, text: string): Promise<number> {
  for (;;) {
    if (readFileSync(logFile, 'utf8').includes(text)) return performance.now();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The plain sharp loop, timed by what it says in its log. */
async function sharpLoop(ctx: BenchContext, run: Run, storageDir: string) {
  const loop = await startProcess(
    join(ROOT, 'bench', 'sharp-loop.ts'),
    {
      FIXTURE: join(storageDir, FIXTURE_KEY),
      OUT_DIR: storageDir,
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
async function errandWorker(ctx: BenchContext, run: Run, store: Store) {
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
      LOG_LEVEL: 'info',
      ...store.env,
    },
    run.logFile,
    'worker running',
  );
  const { at: from } = await waitingAtMost(queue, run.count - run.warm);
  const meter = await cpuMeter(ctx.redis, { worker: worker.child.pid, ...store.pids });
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
 * output written. Each run has a storage folder of its own holding the fixture, or (`s3`) a
 * prefix of its own in the bucket, the fixture put there as an upload would be.
 */
async function renderOnce(
  ctx: BenchContext,
  side: Side,
  n: number,
  count: number,
  photo: Buffer,
  s3: S3Store,
) {
  const prefix = `image-${side}-${n}`;
  const warm = Math.floor(count / 10);
  const run = { prefix, logFile: join(ctx.dir, `${prefix}.log`), count, warm };
  let timed: { from: number; to: number; note: string };
  if (side === 's3') {
    const bucket = s3.open(prefix);
    await bucket.put(FIXTURE_KEY, photo, { contentType: 'image/jpeg' });
    bucket.close();
    const pids = { 's3 store': s3.process.child.pid };
    timed = await errandWorker(ctx, run, { env: s3.env(prefix), pids });
  } else {
    const storageDir = join(ctx.dir, prefix);
    await mkdir(join(storageDir, 'uploads'), { recursive: true });
    await writeFile(join(storageDir, FIXTURE_KEY), photo);
    timed =
      side === 'sharp'
        ? await sharpLoop(ctx, run, storageDir)
        : await errandWorker(ctx, run, { env: { STORAGE_DIR: storageDir }, pids: {} });
    await rm(storageDir, { recursive: true, force: true });
  }
  const { from, to, note } = timed;
  // one decimal: at a few jobs a second, whole numbers would move the ratio by several percent
  return { rate: Math.round(((count - warm) * 10_000) / (to - from)) / 10, note };
}

/** The notes (`run <n> <side>: …`, as `alternate` writes them) of the runs of `sides`. */
const notesOf = (notes: string[], sides: Side[]) =>
  notes.filter((note) => sides.some((side) => new RegExp(`^run \\d+ ${side}:`).test(note)));

/**
 * Image jobs through Errand's worker process (contract check, timeout, a log line at start
 * and end, a progress update per output, the source read from and the outputs written to
 * local storage) against a plain sharp loop in a process of its own doing the same work:
 * read the same 2048×1536 photo-like JPEG from a file, render the same two outputs with the
 * same sharp calls, write them to files. Both run the catalog's image concurrency with sharp's
 * default threads, so only what Errand adds around sharp differs.
 *
 * In the same run, the same worker with its images on an S3-compatible store (the fixture put
 * in the bucket, each output a PUT and a presigned download URL) against the worker on local
 * files: what the network store costs. The store is s3rver on loopback (bench/s3-store.ts),
 * whose CPU is in the notes; no target, it measures.
 */
export const image: BenchCase = {
  name: 'image',
  async run(ctx) {
    const count = Math.max(10, Math.round(120 * ctx.scale));
    const photo = await photoFixture();
    const s3 = await startS3Store(ctx.dir);
    try {
      const { best, notes } = await alternate(
        ctx,
        ['sharp', 'errand', 's3'],
        (side, run) => renderOnce(ctx, side, run, count, photo, s3),
        'jobs/s',
      );
      const work = `${count} image jobs, 2048×1536 JPEG → WebP 1024 + JPEG 256² thumb, concurrency ${CONCURRENCY}, 1 process`;
      return [
        compared(
          {
            case: work,
            baseline: {
              value: best.sharp,
              unit: 'jobs/s',
              what: 'plain sharp loop, file in, files out',
            },
            errand: { value: best.errand, unit: 'jobs/s', what: 'Errand worker, image' },
            notes: notesOf(notes, ['sharp', 'errand']),
          },
          0.9,
        ),
        {
          case: `the same, images on S3 against local files`,
          baseline: { value: best.errand, unit: 'jobs/s', what: 'Errand worker, local files' },
          errand: {
            value: best.s3,
            unit: 'jobs/s',
            what: 'Errand worker, S3 (s3rver on loopback)',
          },
          ratio: best.s3 / best.errand,
          notes: notesOf(notes, ['errand', 's3']),
        },
      ];
    } finally {
      await s3.stop();
    }
  },
};
