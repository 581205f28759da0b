import { type JobType, jobs, jobTypes } from '@errand/contract';
import { createLogger, Metrics } from '@errand/observability';
import { queuePrefix } from '@errand/queues';
import { objectLinks, openStorage, type Storage } from '@errand/storage';
import { eventually, S3Server, startTestRedis, type TestRedis } from '@errand/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testSettings } from '../test/runtime.testkit.ts';
import type { Processors } from './processor.ts';
import { makeImageProcessor } from './processors/image.ts';
import { startWorkers } from './runtime.ts';

const OUTPUTS = Array.from({ length: 8 }, () => ({ width: 1200, format: 'png' as const }));

/**
 * The object store going down in the middle of an image job, with the real runtime, sharp and
 * an S3-protocol server in its own process: the attempt fails naming the store, the job is
 * retried, and it ends either done (the store came back) or failed with that reason.
 */
describe('image jobs while the object store goes down', () => {
  let redis: TestRedis;
  let s3: S3Server;
  let storage: Storage;
  let queue: Queue;
  let runtime: ReturnType<typeof startWorkers>;

  beforeAll(async () => {
    redis = await startTestRedis();
    s3 = await S3Server.start();
    const settings = s3.settings('outage');
    storage = openStorage(settings);
    const photo = await sharp({
      create: {
        width: 2400,
        height: 1800,
        channels: 3,
        background: '#888',
        noise: { type: 'gaussian', mean: 128, sigma: 30 },
      },
    })
      .jpeg()
      .toBuffer();
    await storage.put('uploads/photo.jpg', photo, { contentType: 'image/jpeg' });
    const image = makeImageProcessor({
      storage,
      links: objectLinks(storage, settings.urlExpirySeconds),
      fetch: { maxBytes: 50_000_000, timeoutMs: 5_000 },
      maxInputPixels: 100_000_000,
    });
    runtime = startWorkers({
      types: ['image'],
      processors: Object.fromEntries(
        jobTypes.map((type) => [type, image]),
      ) as unknown as Processors,
      settings: Object.fromEntries(
        jobTypes.map((type) => [type, testSettings({ concurrency: 1, timeoutMs: 60_000 })]),
      ) as Record<JobType, ReturnType<typeof testSettings>>,
      redisLocation: redis.url,
      prefix: 'outage',
      lockDurationMs: 30_000,
      stalledIntervalMs: 30_000,
      retention: { failedHours: 1, failedCount: 100, completedHours: 1, completedCount: 100 },
      logger: createLogger('test', 'silent'),
      metrics: new Metrics('test'),
    });
    queue = new Queue(jobs.image.queue, {
      connection: new Redis(redis.url),
      prefix: queuePrefix('outage', jobs.image.queue),
    });
    await runtime.ready();
  });

  afterAll(async () => {
    await runtime?.close(1_000);
    await queue?.close();
    storage?.close();
    await s3?.stop();
    await redis?.stop();
  });

  /**
   * Add a job of two attempts, `backoffMs` apart, and kill the store once its first output is
   * written.
   */
  const addAndKillMidJob = async (id: string, backoffMs: number) => {
    const job = await queue.add(
      'image',
      { source: { key: 'uploads/photo.jpg' }, outputs: OUTPUTS },
      { jobId: id, attempts: 2, backoff: { type: 'fixed', delay: backoffMs } },
    );
    await eventually(async () => ((await queue.getJob(id))?.progress ? true : undefined), {
      timeoutMs: 20_000,
      intervalMs: 10,
    });
    await s3.kill();
    return job;
  };
  const settled = (id: string) =>
    eventually(
      async () => {
        // The state first: a job read before it settled would show an earlier attempt.
        const state = await queue.getJobState(id);
        return state === 'completed' || state === 'failed' ? await queue.getJob(id) : undefined;
      },
      { timeoutMs: 30_000 },
    );

  it('fails for good with the store’s reason once every attempt found it down', async () => {
    await addAndKillMidJob('down-for-good', 1_500);
    const job = await settled('down-for-good');
    expect(await job.getState()).toBe('failed');
    expect(job.attemptsMade).toBe(2);
    expect(job.failedReason).toMatch(
      /^s3:\/\/errand-test\/outage\/ at http:\/\/127\.0\.0\.1:\d+: (writing "images\/down-for-good\/\d\.png"|reading "uploads\/photo\.jpg") failed: ECONNREFUSED/,
    );
    await s3.restart();
  });

  it('completes on the retry once the store is back, every output written', async () => {
    // time enough for the store to restart before the retry, on a loaded machine too
    await addAndKillMidJob('back-again', 5_000);
    await eventually(async () =>
      (await queue.getJob('back-again'))?.attemptsMade ? true : undefined,
    );
    await s3.restart();
    const job = await settled('back-again');
    expect(await job.getState()).toBe('completed');
    expect(job.attemptsMade).toBe(2);
    expect(job.returnvalue.outputs).toHaveLength(OUTPUTS.length);
    for (const output of job.returnvalue.outputs)
      expect((await storage.stat(output.key))?.contentType).toBe('image/png');
  });
});
