import { startApp, startTestRedis, type TestRedis } from '@errand/testing';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailQueue, mail, startFleet, stopFleet } from '../test/fleet.testkit.ts';

describe('worker start-up and queue selection', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(() => redis?.stop());

  it('lists every bad setting at once, per-queue ones included', async () => {
    const app = startApp('worker', {
      REDIS_URL: redis.url,
      WORKER_QUEUES: 'email,sms',
      SMTP_URL: 'http://mail',
      EMAIL_CONCURRENCY: '0',
      IMAGE_TIMEOUT_MS: 'soon',
      ANALYTICS_DEDUPE_WINDOW_HOURS: '0',
      ANALYTICS_TOP_PROPERTIES: 'plan,{evil}',
      WORKER_LIVENESS_GRACE_MS: '-1',
    });
    expect(await app.exited).toBe(1);
    const output = app.output();
    expect(output).toContain('unknown queue(s) sms');
    expect(output).toContain('- SMTP_URL:');
    expect(output).toContain('- EMAIL_CONCURRENCY:');
    expect(output).toContain('- IMAGE_TIMEOUT_MS:');
    expect(output).toContain('- ANALYTICS_DEDUPE_WINDOW_HOURS:');
    expect(output).toContain('- ANALYTICS_TOP_PROPERTIES.1:');
    expect(output).toContain('- WORKER_LIVENESS_GRACE_MS:');
    expect(output).not.toMatch(/\n\s+at /);
  });

  it('serves only the queues in WORKER_QUEUES', async () => {
    const fleet = await startFleet(1, {
      REDIS_URL: redis.url,
      QUEUE_PREFIX: 'subset',
      WORKER_QUEUES: 'image',
    });
    const queue: Queue = emailQueue(redis.url, 'subset');
    try {
      const job = await queue.add('email', mail('nobody@example.com', 1));
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await queue.getJobState(String(job.id))).toBe('waiting');
      expect(fleet[0]?.output()).toContain('"queues":["image"]');
    } finally {
      await stopFleet(fleet);
      await queue.close();
    }
  });
});
