import { type AppProcess, SmtpSink, startTestRedis, type TestRedis } from '@errand/testing';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allCompleted,
  deliveredIds,
  emailQueue,
  mail,
  startFleet,
  stopFleet,
} from '../test/fleet.testkit.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Redis goes away under running workers and comes back: they resume by themselves. */
describe('Redis outages', () => {
  let redis: TestRedis;
  let smtp: SmtpSink;
  let fleet: AppProcess[] = [];
  let queue: Queue;

  beforeAll(async () => {
    redis = await startTestRedis({ appendfsync: 'always' });
    smtp = await SmtpSink.start();
    fleet = await startFleet(2, {
      REDIS_URL: redis.url,
      QUEUE_PREFIX: 'outage',
      SMTP_URL: smtp.url,
      WORKER_QUEUES: 'email',
      EMAIL_RATE_MAX: '20',
    });
    queue = emailQueue(redis.url, 'outage');
  });
  afterAll(async () => {
    await stopFleet(fleet);
    await queue?.close();
    await smtp?.close();
    await redis?.stop();
  });

  it('finishes every job when Redis is killed mid-run and back 5 s later', async () => {
    const added = await queue.addBulk(
      Array.from({ length: 60 }, (_, n) => ({ name: 'email', data: mail(`o${n}@example.com`, n) })),
    );
    await smtp.waitFor(10);
    await redis.kill();
    const duringOutage = smtp.messages.length;
    await sleep(5_000);
    await redis.restart();
    await allCompleted(queue, added, 60_000);
    expect(duringOutage).toBeLessThan(60); // the outage really cut the run
    const ids = deliveredIds(smtp.messages);
    expect(new Set(ids).size).toBe(60);
    expect(ids).toHaveLength(60); // the send ledger kept resent commands from sending twice
  });

  it('resumes consuming after a 60 s outage, without a restart', { timeout: 120_000 }, async () => {
    await redis.kill();
    await sleep(60_000);
    await redis.restart();
    const before = smtp.messages.length;
    const added = await queue.addBulk(
      Array.from({ length: 5 }, (_, n) => ({
        name: 'email',
        data: mail(`late${n}@example.com`, n),
      })),
    );
    await allCompleted(queue, added, 30_000);
    expect(smtp.messages.length - before).toBe(5);
    for (const worker of fleet) expect(worker.child.exitCode).toBeNull();
  });
});
