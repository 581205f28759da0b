import { Metrics } from '@errand/observability';
import { startTestRedis, type TestRedis } from '@errand/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { closeQueues, openQueues, type Queues } from './queues.ts';
import { scheduleMetrics } from './schedule-metrics.ts';
import { makeSchedules } from './schedules.ts';

let server: TestRedis;
let redis: Redis;
let queues: Queues;
beforeAll(async () => {
  server = await startTestRedis();
  redis = new Redis(server.url);
  queues = openQueues(redis, 'metrics');
});
afterAll(async () => {
  await closeQueues(queues);
  redis.disconnect();
  await server.stop();
});

it('exports next run, last run and paused per schedule, read at scrape time', async () => {
  const schedules = makeSchedules(redis, queues, 'metrics');
  const metrics = new Metrics('test');
  scheduleMetrics(metrics, schedules);
  const job = { type: 'analytics-maintenance' as const, data: {} };
  await schedules.put(
    'nightly',
    { cron: '0 3 * * *', overlap: 'allow', catchUp: 'latest', job },
    'api',
  );
  await schedules.put(
    'held',
    { cron: '0 4 * * *', overlap: 'allow', catchUp: 'latest', job },
    'api',
  );
  await schedules.setPaused('held', true);
  await schedules.store.recordRun('nightly', {
    jobId: 'repeat:nightly:1',
    firedAt: '2026-11-24T03:00:00.000Z',
    state: 'completed',
    durationMs: 12,
    reason: null,
  });

  await schedules.store.recordRun('nightly', {
    jobId: 'repeat:nightly:2',
    firedAt: '2026-11-25T03:00:00.000Z',
    state: 'skipped',
    durationMs: null,
    reason: 'the previous run (job repeat:nightly:1) is still active',
  });

  const { body } = await metrics.scrape();
  const next = Number(
    /errand_schedule_next_run_timestamp_seconds\{schedule="nightly",app="test"\} (\d+)/.exec(
      body,
    )?.[1],
  );
  expect(next % 86_400).toBe(3 * 3_600);
  expect(next * 1000).toBeGreaterThan(Date.now());
  expect(body).not.toMatch(/next_run_timestamp_seconds\{schedule="held"/);
  expect(body).toContain(
    'errand_schedule_last_run_timestamp_seconds{schedule="nightly",app="test"} 1795489200',
  );
  expect(body).toContain('errand_schedule_paused{schedule="held",app="test"} 1');
  expect(body).toContain('errand_schedule_paused{schedule="nightly",app="test"} 0');
});

it('answers a scrape without schedule samples while Redis is gone, instead of waiting for it', async () => {
  const lost = await startTestRedis();
  // As the dashboard's connection: commands wait for Redis to come back, never give up.
  const waiting = new Redis(lost.url, { maxRetriesPerRequest: null });
  waiting.on('error', () => undefined); // refused reconnects are expected here
  const lostQueues = openQueues(waiting, 'lost');
  for (const queue of Object.values(lostQueues)) queue.on('error', () => undefined);
  try {
    const schedules = makeSchedules(waiting, lostQueues, 'lost');
    await schedules.put(
      'nightly',
      {
        cron: '0 3 * * *',
        overlap: 'allow',
        catchUp: 'latest',
        job: { type: 'analytics-maintenance', data: {} },
      },
      'api',
    );
    const metrics = new Metrics('test');
    scheduleMetrics(metrics, schedules);
    expect((await metrics.scrape()).body).toContain('errand_schedule_paused{schedule="nightly"');

    await lost.kill();
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // past the one-second cache
    const { body } = await metrics.scrape();
    expect(body).not.toContain('{schedule=');
    expect(body).toContain('errand_schedule_paused');
  } finally {
    await closeQueues(lostQueues).catch(() => undefined);
    waiting.disconnect();
    await lost.stop();
  }
});
