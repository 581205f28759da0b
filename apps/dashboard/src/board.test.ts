import { jobs, jobTypes } from '@errand/contract';
import { closeQueues, makeSchedules, openQueues, type Queues } from '@errand/queues';
import { startTestRedis, type TestRedis } from '@errand/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  type DashboardProcess,
  type Login,
  logIn,
  startDashboard,
  testUsers,
} from '../test/dashboard.testkit.ts';

const PREFIX = 'board';
let redis: TestRedis;
let connection: Redis;
let queues: Queues;
let dashboard: DashboardProcess;
let url: string;
let viewer: Login;

beforeAll(async () => {
  redis = await startTestRedis();
  connection = new Redis(redis.url);
  queues = openQueues(connection, PREFIX);
  dashboard = await startDashboard({ REDIS_URL: redis.url, QUEUE_PREFIX: PREFIX });
  url = dashboard.url;
  viewer = await logIn(url, testUsers.viewer);
});
afterAll(async () => {
  await dashboard?.stop();
  await closeQueues(queues);
  connection?.disconnect();
  await redis?.stop();
});

/** The dashboard process: schedules show in Bull Board and in its /metrics. */
it('shows schedules as job schedulers of their queues, and exports when each fires next', async () => {
  const schedules = makeSchedules(connection, queues, PREFIX);
  await schedules.put(
    'nightly-cleanup',
    {
      cron: '30 3 * * *',
      tz: 'Europe/Berlin',
      overlap: 'skip',
      catchUp: 'latest',
      job: { type: 'image-cleanup', data: { olderThanHours: 720 } },
    },
    'api',
  );
  const board = await viewer.fetch('/api/job-schedulers');
  expect(board.status).toBe(200);
  expect(((await board.json()) as { schedulers: unknown[] }).schedulers).toEqual([
    expect.objectContaining({
      id: 'nightly-cleanup',
      name: 'schedule:nightly-cleanup',
      pattern: '30 3 * * *',
      tz: 'Europe/Berlin',
      queueName: 'image-cleanup',
    }),
  ]);
  const { queues: listed } = (await (await viewer.fetch('/api/queues')).json()) as {
    queues: { name: string }[];
  };
  const queueNames = listed.map((queue) => queue.name);
  // every queue of the contract, internal ones included (the contract test pins the list)
  expect([...queueNames].sort()).toEqual(jobTypes.map((type) => jobs[type].queue).sort());

  const metrics = await fetch(`${url}/metrics`).then((response) => response.text());
  const next = (await schedules.get('nightly-cleanup'))?.nextRunAt ?? '';
  expect(metrics).toContain(
    `errand_schedule_next_run_timestamp_seconds{schedule="nightly-cleanup",app="dashboard"} ${Date.parse(next) / 1000}`,
  );
  expect(metrics).toContain('errand_schedule_paused{schedule="nightly-cleanup",app="dashboard"} 0');
});
