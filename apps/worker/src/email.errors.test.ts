import {
  type AppProcess,
  eventually,
  SmtpSink,
  startTestRedis,
  type TestRedis,
} from '@errand/testing';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allCompleted,
  deliveredIds,
  emailQueue,
  type FleetWorker,
  mail,
  startFleet,
  stopFleet,
} from '../test/fleet.testkit.ts';

/** How the email processor answers each kind of SMTP failure, through a real worker process. */
describe('email failures', () => {
  let redis: TestRedis;
  let smtp: SmtpSink;
  let fleet: AppProcess[];
  let queue: Queue;
  const quickRetry = { attempts: 5, backoff: { type: 'fixed', delay: 100 } };

  beforeAll(async () => {
    redis = await startTestRedis();
    smtp = await SmtpSink.start();
    fleet = await startFleet(1, {
      REDIS_URL: redis.url,
      QUEUE_PREFIX: 'errors',
      SMTP_URL: smtp.url,
      WORKER_QUEUES: 'email',
      EMAIL_THROTTLE_MS: '700',
    });
    queue = emailQueue(redis.url, 'errors');
  });
  afterAll(async () => {
    await stopFleet(fleet ?? []);
    await queue?.close();
    await smtp?.close();
    await redis?.stop();
  });

  // The state first, then the job: a job read while still active, whose state is read after
  // it failed, has no failedReason yet (the move to failed writes both in one script).
  const failedJob = async (id: string) =>
    eventually(async () =>
      (await queue.getJobState(id)) === 'failed' ? await queue.getJob(id) : undefined,
    );

  it('retries a recipient answered 4xx, and completes on attempt 3', async () => {
    smtp.failRecipient('busy@example.com', 450, 2, 'Mailbox busy');
    const job = await queue.add('email', mail('busy@example.com', 'busy'), quickRetry);
    const [done] = await allCompleted(queue, [job]);
    expect(done?.attemptsMade).toBe(3);
    expect(deliveredIds(smtp.messages)).toContain(String(job.id));
  });

  it('fails a 5xx recipient after one attempt', async () => {
    smtp.failRecipient('gone@example.com', 550, Number.POSITIVE_INFINITY, 'No such user');
    const job = await queue.add('email', mail('gone@example.com', 'gone'), quickRetry);
    const failed = await failedJob(String(job.id));
    expect(failed?.attemptsStarted).toBe(1);
    expect(failed?.failedReason).toContain('No such user');
  });

  // 451 rather than 421: a 421 also closes the connection, and nodemailer's pool then resends
  // on a new one by itself, so whether our processor sees the 421 depends on the pool's state.
  it('throttles the queue on 451, then delivers without spending an attempt', async () => {
    smtp.failRecipient('throttle@example.com', 451, 1, 'Too many messages, try again later');
    const job = await queue.add('email', mail('throttle@example.com', 'throttle'), quickRetry);
    const [done] = await allCompleted(queue, [job]);
    expect(done?.attemptsMade).toBe(1);
    // The pause is the configured 700 ms (the server named no time).
    expect((done?.finishedOn ?? 0) - (done?.timestamp ?? 0)).toBeGreaterThanOrEqual(700);
    await (fleet[0] as AppProcess).waitForLine('queue throttled; job will run again');
  });

  it('refuses CR/LF in headers of a job added around the API, sending nothing', async () => {
    const before = smtp.messages.length;
    const job = await queue.add('email', {
      to: 'a@example.com',
      subject: 'Hi\r\nBcc: b@example.com',
      text: 'x',
    });
    const failed = await failedJob(String(job.id));
    expect(failed?.failedReason).toMatch(/payload breaks the email contract/);
    expect(smtp.messages).toHaveLength(before);
  });

  it('counts outcomes, durations and throttles on the worker /metrics', async () => {
    const [worker] = fleet as [FleetWorker];
    const text = await fetch(`${worker.url}/metrics`).then((response) => response.text());
    expect(text).toMatch(
      /errand_jobs_finished_total\{queue="email",outcome="completed",app="worker"\} [1-9]/,
    );
    expect(text).toMatch(
      /errand_jobs_finished_total\{queue="email",outcome="retried",app="worker"\} [1-9]/,
    );
    expect(text).toMatch(
      /errand_jobs_finished_total\{queue="email",outcome="failed",app="worker"\} [1-9]/,
    );
    expect(text).toMatch(/errand_rate_limit_hits_total\{queue="email",app="worker"\} 1/);
    expect(text).toMatch(/errand_job_duration_seconds_count\{app="worker",queue="email"\} [1-9]/);
    expect(text).toMatch(/errand_job_wait_seconds_bucket/);
    expect(text).toMatch(/errand_jobs_active\{queue="email",app="worker"\} 0/);
    expect(await fetch(`${worker.url}/readyz`).then((response) => response.status)).toBe(200);
  });

  it('does not send again when a completed job runs again (the send ledger)', async () => {
    const job = await queue.add('email', mail('once@example.com', 'once'));
    await allCompleted(queue, [job]);
    await (await queue.getJob(String(job.id)))?.retry('completed');
    await eventually(async () =>
      (await queue.getJob(String(job.id)))?.attemptsStarted === 2 ? true : undefined,
    );
    await allCompleted(queue, [job]);
    expect(deliveredIds(smtp.messages).filter((id) => id === String(job.id))).toHaveLength(1);
    const [worker] = fleet as [AppProcess];
    await worker.waitForLine('not sending again');
  });
});
