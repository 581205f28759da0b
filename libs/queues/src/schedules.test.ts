import type { ScheduleBody } from '@errand/contract';
import { startTestRedis, type TestRedis } from '@errand/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeQueues, openQueues, type Queues } from './queues.ts';
import { reconcileSchedules } from './reconcile.ts';
import { makeSchedules, ScheduleSourceConflict, type Schedules } from './schedules.ts';

const hourly: ScheduleBody = {
  cron: '0 * * * *',
  overlap: 'allow',
  catchUp: 'latest',
  job: { type: 'analytics-maintenance', data: {} },
};
const every = (ms: number): ScheduleBody => ({ ...hourly, cron: undefined, every: ms });

/** The fires BullMQ holds for a schedule (delayed or waiting), by job id. */
const pending = async (queues: Queues, id: string) =>
  (await queues['analytics-maintenance'].getJobs(['delayed', 'waiting', 'prioritized']))
    .filter((job) => job.repeatJobKey === id)
    .map((job) => job.id);

describe('schedules over BullMQ job schedulers (real Redis, no workers)', () => {
  let server: TestRedis;
  let redis: Redis;
  let queues: Queues;
  let schedules: Schedules;

  beforeAll(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url);
    queues = openQueues(redis, 'sched');
    schedules = makeSchedules(redis, queues, 'sched');
  });
  afterAll(async () => {
    await closeQueues(queues);
    redis.disconnect();
    await server.stop();
  });

  it('creates a schedule with one pending fire, and a second identical put touches nothing', async () => {
    expect(await schedules.put('h', hourly, 'api')).toEqual({ created: true, changed: true });
    const [fire] = await pending(queues, 'h');
    expect(fire).toMatch(/^repeat:h:\d+$/);
    expect(await schedules.put('h', { ...hourly }, 'api')).toEqual({
      created: false,
      changed: false,
    });
    expect(await pending(queues, 'h')).toEqual([fire]);

    const view = await schedules.get('h');
    const next = Date.parse(view?.nextRunAt ?? '');
    expect(next % 3_600_000).toBe(0);
    expect(view?.nextRuns).toHaveLength(5);
    expect(Date.parse(view?.nextRuns[4] ?? '') - next).toBe(4 * 3_600_000);
    expect(view).toMatchObject({
      id: 'h',
      source: 'api',
      paused: false,
      lastRun: null,
      history: [],
    });
  });

  it('replaces a changed schedule: still exactly one pending fire, at the new rhythm', async () => {
    await schedules.put('h', { ...hourly, cron: '30 * * * *' }, 'api');
    const fires = await pending(queues, 'h');
    expect(fires).toHaveLength(1);
    expect(Number(String(fires[0]).split(':')[2]) % 3_600_000).toBe(30 * 60_000);
  });

  it('pauses (no pending fire, no next run) and resumes', async () => {
    await schedules.setPaused('h', true);
    expect(await pending(queues, 'h')).toEqual([]);
    expect(await schedules.get('h')).toMatchObject({ paused: true, nextRunAt: null, nextRuns: [] });
    await schedules.setPaused('h', false);
    expect(await pending(queues, 'h')).toHaveLength(1);
    expect((await schedules.get('h'))?.paused).toBe(false);
  });

  it('moves the scheduler when the job type changes', async () => {
    await schedules.put('moving', every(60_000), 'api');
    expect(await pending(queues, 'moving')).toHaveLength(1);
    await schedules.put(
      'moving',
      { ...every(60_000), job: { type: 'image-cleanup', data: { olderThanHours: 1 } } },
      'api',
    );
    expect(await pending(queues, 'moving')).toEqual([]);
    expect(await queues['image-cleanup'].getJobScheduler('moving')).toBeDefined();
    expect(await schedules.remove('moving', 'api')).toBe(true);
    expect(await queues['image-cleanup'].getJobScheduler('moving')).toBeUndefined();
  });

  it('runs once now with the schedule id on the job, paused or not', async () => {
    const run = await schedules.runNow('h');
    const job = await queues['analytics-maintenance'].getJob(run?.jobId ?? '');
    expect(job?.name).toBe('schedule:h');
    expect(await schedules.runNow('nothing')).toBeUndefined();
  });

  it('agrees with BullMQ on the next fire across DST (Europe/Berlin, 2027)', async () => {
    const berlin = (startAt: string): ScheduleBody => ({
      ...hourly,
      cron: '30 2 * * *',
      tz: 'Europe/Berlin',
      startAt,
    });
    // 28 March 2027: 02:00 CET → 03:00 CEST, so 02:30 does not exist and fires at 03:30 CEST
    await schedules.put('spring', berlin('2027-03-27T12:00:00Z'), 'api');
    const spring = await schedules.get('spring');
    expect(spring?.nextRunAt).toBe('2027-03-28T01:30:00.000Z');
    expect(spring?.nextRuns.slice(0, 2)).toEqual([
      '2027-03-28T01:30:00.000Z',
      '2027-03-29T00:30:00.000Z',
    ]);
    // 31 October 2027: 03:00 CEST → 02:00 CET, so 02:30 happens twice and fires at the first
    await schedules.put('fall', berlin('2027-10-30T12:00:00Z'), 'api');
    const fall = await schedules.get('fall');
    expect(fall?.nextRunAt).toBe('2027-10-31T00:30:00.000Z');
    expect(fall?.nextRuns.slice(0, 2)).toEqual([
      '2027-10-31T00:30:00.000Z',
      '2027-11-01T01:30:00.000Z',
    ]);
    // the pending fire BullMQ holds is the one shown
    const [pendingSpring] = await pending(queues, 'spring');
    expect(pendingSpring).toBe(`repeat:spring:${Date.parse('2027-03-28T01:30:00Z')}`);
    await schedules.remove('spring', 'api');
    await schedules.remove('fall', 'api');
  });

  it('shows no next run once a schedule has ended', async () => {
    await schedules.put(
      'over',
      { ...hourly, endAt: new Date(Date.now() + 1_000).toISOString() },
      'api',
    );
    expect(await schedules.get('over')).toMatchObject({ nextRunAt: null, nextRuns: [] });
    const limited = await schedules.put('thrice', { ...every(3_600_000), limit: 3 }, 'api');
    expect(limited.created).toBe(true);
    expect((await schedules.get('thrice'))?.nextRuns).toHaveLength(3);
    await schedules.remove('over', 'api');
    await schedules.remove('thrice', 'api');
  });

  it('keeps the file and the API apart', async () => {
    await schedules.put('from-file', hourly, 'file');
    await expect(schedules.put('from-file', hourly, 'api')).rejects.toThrow(ScheduleSourceConflict);
    await expect(schedules.remove('from-file', 'api')).rejects.toThrow(/schedules file/);
    await expect(schedules.put('h', hourly, 'file')).rejects.toThrow(/made through the API/);
  });

  it('reconciles a file: creates, updates, removes its own, leaves the API ones, repairs', async () => {
    const first = await reconcileSchedules(schedules, [
      { id: 'a', ...hourly },
      { id: 'b', ...every(60_000) },
      { id: 'c', ...every(120_000) },
      { id: 'd', ...hourly, cron: '15 * * * *' },
    ]);
    expect(first).toMatchObject({ created: ['a', 'b', 'c', 'd'], removed: ['from-file'] });
    await queues['analytics-maintenance'].removeJobScheduler('d'); // lost, e.g. an old AOF
    // and a scheduler whose record was never saved (a crash between the two writes)
    await queues.digest.upsertJobScheduler(
      'ghost',
      { every: 3_600_000 },
      { name: 'schedule:ghost', data: {} },
    );
    const report = await reconcileSchedules(schedules, [
      { id: 'a', ...hourly },
      { id: 'b', ...every(90_000) },
      { id: 'd', ...hourly, cron: '15 * * * *' },
    ]);
    expect(report).toEqual({
      created: [],
      updated: ['b'],
      removed: ['c'],
      repaired: ['d'],
      orphans: ['ghost'],
      unchanged: 2,
    });
    expect(await queues.digest.getJobScheduler('ghost')).toBeUndefined();
    const ids = (await schedules.list()).map((s) => `${s.id}:${s.source}`);
    expect(ids).toEqual(['a:file', 'b:file', 'd:file', 'h:api']);
    expect(await pending(queues, 'c')).toEqual([]);
    for (const id of ['a', 'b', 'd', 'h']) expect(await pending(queues, id)).toHaveLength(1);
    await expect(reconcileSchedules(schedules, [{ id: 'h', ...hourly }])).rejects.toThrow(
      /made through the API/,
    );
  });
});
