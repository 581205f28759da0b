import { eventually, startTestRedis, type TestRedis } from '@errand/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startAnalyticsRuntime } from '../test/runtime.testkit.ts';
import { loadEnv } from './env.ts';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(() => redis?.stop());

it('reads FAILED_RETENTION_COUNT, 10,000 by default', () => {
  expect(loadEnv({}).runtime.retention.failedCount).toBe(10_000);
  expect(loadEnv({ FAILED_RETENTION_COUNT: '5' }).runtime.retention.failedCount).toBe(5);
  expect(() => loadEnv({ FAILED_RETENTION_COUNT: '0' })).toThrow(/FAILED_RETENTION_COUNT/);
});

it('keeps at most failedCount failed jobs per queue, the newest', async () => {
  let runs = 0;
  const fail = async (): Promise<never> => {
    runs++;
    throw new Error(`failure ${runs}`);
  };
  const { queue, close } = await startAnalyticsRuntime(redis.url, 'retention', fail, {
    queue: { concurrency: 1, timeoutMs: 1_000 },
    retention: { failedHours: 1, failedCount: 2, completedHours: 1, completedCount: 100 },
  });
  try {
    const event = { id: 'e1', name: 'signup', timestamp: new Date().toISOString() };
    for (let n = 0; n < 4; n++) await queue.add('analytics', { events: [event] }, { attempts: 1 });
    await eventually(() => (runs === 4 ? true : undefined));
    await eventually(async () =>
      (await queue.getJobCounts('active')).active === 0 ? true : undefined,
    );
    const failed = await queue.getFailed();
    expect(failed.map((job) => job.failedReason).sort()).toEqual(['failure 3', 'failure 4']);
  } finally {
    await close();
  }
});
