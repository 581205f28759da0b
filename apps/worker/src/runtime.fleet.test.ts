import { type AppProcess, SmtpSink, startTestRedis, type TestRedis } from '@errand/testing';
import type { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  allCompleted,
  deliveredIds,
  emailQueue,
  mail,
  startFleet,
  stopFleet,
} from '../test/fleet.testkit.ts';

/** Several worker processes on one queue: each job runs once, and the rate limit is global. */
describe('a fleet of worker processes', () => {
  let redis: TestRedis;
  let smtp: SmtpSink;
  let fleet: AppProcess[] = [];
  let queue: Queue | undefined;

  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterEach(async () => {
    await stopFleet(fleet);
    await queue?.close();
    await smtp?.close();
  });
  afterAll(() => redis?.stop());

  it('delivers 300 emails across 3 processes, each exactly once', async () => {
    smtp = await SmtpSink.start();
    const env = {
      REDIS_URL: redis.url,
      QUEUE_PREFIX: 'fleet300',
      SMTP_URL: smtp.url,
      WORKER_QUEUES: 'email',
    };
    fleet = await startFleet(3, env);
    queue = emailQueue(redis.url, 'fleet300');
    const added = await queue.addBulk(
      Array.from({ length: 300 }, (_, n) => ({
        name: 'email',
        data: mail(`user${n}@example.com`, n),
      })),
    );
    const done = await allCompleted(queue, added, 60_000);
    const ids = deliveredIds(await smtp.waitFor(300));
    expect(new Set(ids).size).toBe(300);
    expect(smtp.messages).toHaveLength(300);
    expect(ids.sort()).toEqual(added.map((job) => String(job.id)).sort());
    // Work was shared: every process ran some of it.
    await Promise.all(fleet.map((worker) => worker.waitForLine('"msg":"job completed"')));
    expect(done.every((job) => job.attemptsMade === 1)).toBe(true);
  });

  it('holds a rate limit of 10/s over 3 processes together', async () => {
    smtp = await SmtpSink.start();
    const env = {
      REDIS_URL: redis.url,
      QUEUE_PREFIX: 'fleetrate',
      SMTP_URL: smtp.url,
      WORKER_QUEUES: 'email',
      EMAIL_RATE_MAX: '10',
      EMAIL_RATE_DURATION_MS: '1000',
    };
    fleet = await startFleet(3, env);
    queue = emailQueue(redis.url, 'fleetrate');
    const started = Date.now();
    const added = await queue.addBulk(
      Array.from({ length: 50 }, (_, n) => ({ name: 'email', data: mail(`r${n}@example.com`, n) })),
    );
    const done = await allCompleted(queue, added, 30_000);
    // 50 jobs at 10 per second run in five windows, starting at 0, 1, 2, 3 and 4 s: the last
    // cannot start before 4 s (the 4.5 s would need a stricter limit than 10/s).
    const starts = done.map((job) => job.processedOn ?? 0).sort((a, b) => a - b);
    expect((starts.at(-1) ?? 0) - (starts[0] ?? 0)).toBeGreaterThanOrEqual(3_900);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4_000);
    // A limit kept per process would let the three of them run 30/s: all 50 within ~2 s.
  });
});
