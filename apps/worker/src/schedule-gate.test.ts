import type { ScheduleBody } from '@errand/contract';
import { createLogger, Metrics } from '@errand/observability';
import {
  closeQueues,
  makeSchedules,
  openQueues,
  type Queues,
  type Schedules,
} from '@errand/queues';
import { startTestRedis, type TestRedis } from '@errand/testing';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runtimeMetrics } from './runtime-metrics.ts';
import { makeScheduleGate } from './schedule-gate.ts';

const every = (ms: number, extra: Partial<ScheduleBody> = {}): ScheduleBody => ({
  every: ms,
  overlap: 'allow',
  catchUp: 'latest',
  job: { type: 'analytics-maintenance', data: {} },
  ...extra,
});

/**
 * The gate on real fires (the jobs BullMQ's schedulers add, read from a real Redis), without
 * a worker: which fires it refuses, and what it records.
 */
describe('schedule gate', () => {
  let server: TestRedis;
  let redis: Redis;
  let queues: Queues;
  let schedules: Schedules;
  const gate = () =>
    makeScheduleGate({
      redis,
      prefix: 'gate',
      timeoutMs: 1_000,
      metrics: runtimeMetrics(new Metrics('test')),
      logger: createLogger('test', 'silent'),
    });
  /** The fire BullMQ holds for a schedule. */
  const fireOf = async (id: string) =>
    (await queues['analytics-maintenance'].getJobs(['waiting', 'delayed'])).find(
      (job) => job.repeatJobKey === id,
    ) as Job;

  beforeAll(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url);
    queues = openQueues(redis, 'gate');
    schedules = makeSchedules(redis, queues, 'gate');
  });
  afterAll(async () => {
    await closeQueues(queues);
    redis.disconnect();
    await server.stop();
  });

  it('lets a fire of a live schedule through, and records it when it finishes', async () => {
    await schedules.put('live', every(60_000), 'api');
    const fire = await fireOf('live');
    const admission = await gate().admit(fire, 'live');
    expect(admission).toMatchObject({ id: 'live', holdsLock: false });
    if (!admission || 'skipped' in admission) throw new Error('not admitted');
    await gate().finish(fire, admission, 'completed');
    expect((await schedules.get('live'))?.history[0]).toMatchObject({
      jobId: fire.id,
      state: 'completed',
    });
  });

  it('refuses a fire of a paused schedule, and does nothing for one of a deleted schedule', async () => {
    await schedules.put('held', every(60_000), 'api');
    const fire = await fireOf('held');
    await redis.hset(
      'gate:schedules',
      'held',
      JSON.stringify({ ...(await schedules.store.get('held')), paused: true }),
    ); // paused while this fire already waits (as after a jitter delay)
    expect(await gate().admit(fire, 'held')).toMatchObject({ skipped: 'paused' });
    expect((await schedules.get('held'))?.history[0]).toMatchObject({
      state: 'skipped',
      reason: 'the schedule is paused',
    });
    await schedules.store.delete('held');
    expect(await gate().admit(fire, 'held')).toMatchObject({ skipped: 'removed' });
  });

  it('records a fire over one interval late as missed with catchUp none, but not its retry', async () => {
    await schedules.put('strict', every(1_000, { catchUp: 'none' }), 'api');
    const fire = await fireOf('strict');
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    expect(await gate().admit(fire, 'strict')).toMatchObject({ skipped: 'missed' });
    const retry = Object.assign(Object.create(Object.getPrototypeOf(fire)), fire, {
      attemptsMade: 1,
    }) as Job;
    expect(await gate().admit(retry, 'strict')).toMatchObject({ id: 'strict' });
  });

  it('skips a fire while another run holds the overlap lock, and frees it when that run ends', async () => {
    await schedules.put('single', every(60_000, { overlap: 'skip' }), 'api');
    const first = await fireOf('single');
    const running = await gate().admit(first, 'single');
    if (!running || 'skipped' in running) throw new Error('not admitted');
    const manual = await queues['analytics-maintenance'].getJob(
      (await schedules.runNow('single'))?.jobId ?? '',
    );
    expect(await gate().admit(manual as Job, 'single')).toMatchObject({
      skipped: 'overlap',
      reason: `the previous run (job ${first.id}) is still active`,
    });
    await gate().finish(first, running, 'completed');
    expect(await gate().admit(manual as Job, 'single')).toMatchObject({ holdsLock: true });
  });
});
