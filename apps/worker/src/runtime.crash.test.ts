import {
  type AppProcess,
  SmtpSink,
  startApp,
  startTestRedis,
  type TestRedis,
} from '@errand/testing';
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

/** Workers that die or are told to stop: no job is lost, and no message goes out twice. */
describe('worker crash and shutdown', () => {
  let redis: TestRedis;
  let smtp: SmtpSink;
  let fleet: AppProcess[] = [];
  let queue: Queue | undefined;
  const env = (prefix: string, extra: Record<string, string> = {}) => ({
    REDIS_URL: redis.url,
    QUEUE_PREFIX: prefix,
    SMTP_URL: smtp.url,
    WORKER_QUEUES: 'email',
    WORKER_LOCK_DURATION_MS: '4000',
    WORKER_STALLED_INTERVAL_MS: '1000',
    LOG_LEVEL: 'debug', // for "job started"
    ...extra,
  });

  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterEach(async () => {
    await stopFleet(fleet);
    await queue?.close();
    await smtp?.close();
  });
  afterAll(() => redis?.stop());

  it('recovers a job whose worker was killed mid-send, and delivers it once', async () => {
    smtp = await SmtpSink.start();
    smtp.slowRecipient('slow@example.com', 2_000);
    fleet = await startFleet(2, env('crash'));
    queue = emailQueue(redis.url, 'crash');
    const job = await queue.add('email', mail('slow@example.com', 'crash'));
    const owner = await Promise.race(
      fleet.map((worker) => worker.waitForLine('"msg":"job started"').then(() => worker)),
    );
    owner.child.kill('SIGKILL');
    const killedAt = Date.now();
    const [done] = await allCompleted(queue, [job], 60_000);
    expect(Date.now() - killedAt).toBeLessThan(60_000);
    const survivor = fleet.find((worker) => worker !== owner) as AppProcess;
    await survivor.waitForLine('"msg":"job completed"'); // logs reach stdout a tick later
    expect(done?.returnvalue.accepted).toEqual(['slow@example.com']);
    expect(deliveredIds(smtp.messages)).toEqual([String(job.id)]);
  });

  it('lets a running send finish on SIGTERM, then exits 0', async () => {
    smtp = await SmtpSink.start();
    smtp.slowRecipient('slow@example.com', 1_500);
    fleet = await startFleet(1, env('drain'));
    queue = emailQueue(redis.url, 'drain');
    const job = await queue.add('email', mail('slow@example.com', 'drain'));
    const [worker] = fleet as [AppProcess];
    await worker.waitForLine('"msg":"job started"');
    expect(await worker.stop('SIGTERM')).toBe(0);
    expect(await queue.getJobState(String(job.id))).toBe('completed');
    expect(deliveredIds(smtp.messages)).toEqual([String(job.id)]);
  });

  it('hands a job cut off by the shutdown deadline back to the queue; it completes later', async () => {
    smtp = await SmtpSink.start();
    smtp.slowRecipient('slow@example.com', 3_000);
    fleet = await startFleet(1, env('deadline', { SHUTDOWN_TIMEOUT_MS: '300' }));
    queue = emailQueue(redis.url, 'deadline');
    const job = await queue.add('email', mail('slow@example.com', 'deadline'));
    const [worker] = fleet as [AppProcess];
    await worker.waitForLine('"msg":"job started"');
    expect(await worker.stop('SIGTERM')).toBe(0);
    expect(worker.output()).toContain('job handed back to the queue');
    const back = await queue.getJob(String(job.id));
    expect(await back?.getState()).toBe('waiting');
    expect(back?.attemptsMade).toBe(0);
    expect(smtp.messages).toHaveLength(0); // the cut-off send never got its 250

    smtp.slowRecipient('slow@example.com', 0);
    fleet.push(startApp('worker', { ...env('deadline'), WORKER_PORT: '0' }));
    await allCompleted(queue, [job], 20_000);
    expect(deliveredIds(smtp.messages)).toEqual([String(job.id)]);
  });
});
