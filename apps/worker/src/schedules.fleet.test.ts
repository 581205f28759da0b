import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobType, ScheduleBody } from '@errand/contract';
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
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FleetWorker, startFleet, stopFleet } from '../test/fleet.testkit.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const maintenance = { type: 'analytics-maintenance' as const, data: {} };
const every = (ms: number, extra: Partial<ScheduleBody> = {}): ScheduleBody => ({
  every: ms,
  overlap: 'allow',
  catchUp: 'latest',
  job: maintenance,
  ...extra,
});
/** When BullMQ planned a fire: the millis at the end of `repeat:<id>:<millis>`. */
const plannedAt = (job: Job) => Number(String(job.id).split(':').at(-1));

/**
 * Schedules fired by three real worker processes on one real Redis: once per tick however
 * many workers run, once after downtime, never overlapping when told not to, paused and run
 * by hand. Each test has its own queue prefix; the schedules are written as the API does.
 */
describe('schedules on a fleet of 3 workers', () => {
  let redis: TestRedis;
  let dir: string;
  let fleet: FleetWorker[] = [];
  let connection: Redis;
  let prefix = '';
  let queues: Queues;
  let schedules: Schedules;

  const env = (extra: Record<string, string> = {}) => ({
    REDIS_URL: redis.url,
    QUEUE_PREFIX: prefix,
    STORAGE_DIR: join(dir, 'storage'),
    SCHEDULES_FILE: join(dir, 'none.yaml'),
    IMAGE_FETCH_ALLOW_IPS: '127.0.0.1',
    ...extra,
  });
  /** Every job a schedule made so far, in any state. */
  const firesOf = async (id: string, type: JobType = 'analytics-maintenance') =>
    (
      await queues[type].getJobs([
        'completed',
        'failed',
        'active',
        'waiting',
        'delayed',
        'prioritized',
      ])
    ).filter((job) => job.name === `schedule:${id}`);

  beforeAll(async () => {
    redis = await startTestRedis();
    dir = await mkdtemp(join(tmpdir(), 'errand-schedules-fleet-'));
    await writeFile(join(dir, 'none.yaml'), 'schedules: []\n');
    connection = new Redis(redis.url);
  });
  afterEach(async () => {
    await stopFleet(fleet);
    fleet = [];
    await closeQueues(queues);
  });
  afterAll(async () => {
    connection?.disconnect();
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const setUp = async (name: string) => {
    prefix = name;
    queues = openQueues(connection, prefix);
    schedules = makeSchedules(connection, queues, prefix);
    fleet = await startFleet(3, env());
  };

  it('fires an every-second schedule 9 to 11 times in 10 s, once per tick; DELETE stops it', async () => {
    await setUp('tick');
    await schedules.put('tick', every(1_000), 'api');
    await sleep(10_000);
    await schedules.remove('tick', 'api');
    const removedAt = Date.now();
    await sleep(2_500);

    const fires = await firesOf('tick');
    const ticks = fires.map(plannedAt).sort((a, b) => a - b);
    expect(fires.length).toBeGreaterThanOrEqual(9);
    expect(fires.length).toBeLessThanOrEqual(11);
    expect(new Set(ticks).size).toBe(ticks.length); // no tick twice
    for (let i = 1; i < ticks.length; i++)
      expect((ticks[i] ?? 0) - (ticks[i - 1] ?? 0)).toBe(1_000);
    expect(ticks.filter((tick) => tick > removedAt)).toEqual([]);
    expect(fires.every((job) => job.finishedOn && !job.failedReason)).toBe(true);
    const workers = new Set(fires.map((job) => job.processedBy));
    expect(workers.size).toBeGreaterThan(1); // the fleet shared the ticks
  });

  it('runs once after all workers were down for 5 ticks, then keeps its rhythm', async () => {
    await setUp('downtime');
    await schedules.put('beat', every(1_000), 'api');
    await schedules.put('strict', every(1_000, { catchUp: 'none' }), 'api');
    await sleep(2_500);
    await Promise.all(fleet.map((worker) => worker.stop('SIGTERM')));
    const stoppedAt = Date.now();
    await sleep(5_500);
    fleet = await startFleet(3, env());
    const backAt = Date.now();
    await sleep(3_300);

    const late = (await firesOf('beat')).filter((job) => (job.processedOn ?? 0) > stoppedAt);
    const ticks = late.map(plannedAt).sort((a, b) => a - b);
    // One fire was pending when the workers went down; it runs once, however late.
    expect(ticks.filter((tick) => tick < backAt - 1_000)).toHaveLength(1);
    // Then the rhythm again: a fire per second.
    const after = ticks.filter((tick) => tick >= backAt - 1_000);
    expect(after.length).toBeGreaterThanOrEqual(2);
    expect(after.length).toBeLessThanOrEqual(5);
    const history = (await schedules.get('strict'))?.history ?? [];
    expect(history.filter((run) => run.state === 'missed')).toHaveLength(1);
    expect(history.find((run) => run.state === 'missed')?.reason).toContain(
      'over one interval late',
    );
    expect(history[0]?.state).toBe('completed');
  });

  it('skips fires while the previous run is active; pause, resume and run now', async () => {
    await setUp('overlap');
    let running = 0;
    let mostAtOnce = 0;
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#36a' } })
      .png()
      .toBuffer();
    const server: Server = createServer((_req, res) => {
      running++;
      mostAtOnce = Math.max(mostAtOnce, running);
      setTimeout(() => {
        running--;
        res.writeHead(200, { 'content-type': 'image/png' }).end(png);
      }, 2_500);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const slow: ScheduleBody = every(1_000, {
      overlap: 'skip',
      job: {
        type: 'image',
        data: {
          source: { url: `http://127.0.0.1:${port}/slow.png` },
          outputs: [{ format: 'png' }],
        },
      },
    });
    try {
      await schedules.put('slow', slow, 'api');
      await sleep(6_000);
      await schedules.setPaused('slow', true);
      const pausedAt = Date.now();
      await sleep(3_000); // the run that was active ends in here
      const history = (await schedules.get('slow'))?.history ?? [];
      expect(mostAtOnce).toBe(1);
      expect(history.filter((run) => run.state === 'completed').length).toBeGreaterThanOrEqual(2);
      // A fire already on its way when the pause lands is refused as paused; the rest were
      // refused because the run before them was still active.
      const skipped = history.filter((run) => run.state === 'skipped');
      const overlapped = skipped.filter((run) => run.reason !== 'the schedule is paused');
      expect(overlapped.length).toBeGreaterThanOrEqual(2);
      for (const run of overlapped) {
        expect(run.reason).toMatch(/previous run \(job repeat:slow:\d+\) is still active/);
      }
      expect((await firesOf('slow', 'image')).filter((job) => plannedAt(job) > pausedAt)).toEqual(
        [],
      );
      expect(await schedules.get('slow')).toMatchObject({ paused: true, nextRunAt: null });

      const run = await schedules.runNow('slow');
      await sleep(3_000);
      const ranNow = await queues.image.getJob(run?.jobId ?? '');
      expect(ranNow?.name).toBe('schedule:slow');
      expect(await ranNow?.getState()).toBe('completed');
      expect((await schedules.get('slow'))?.history[0]).toMatchObject({
        jobId: run?.jobId,
        state: 'completed',
      });

      await schedules.setPaused('slow', false);
      const resumedAt = Date.now();
      await sleep(1_500);
      expect(
        (await firesOf('slow', 'image')).some((job) => plannedAt(job) >= resumedAt - 1_000),
      ).toBe(true);
      expect(mostAtOnce).toBe(1);
    } finally {
      await schedules.remove('slow', 'api');
      server.close();
    }
  });

  it('delays fires by their jitter, stops at the limit across a change and at endAt, and counts runs', async () => {
    await setUp('policies');
    const startedAt = Date.now();
    await schedules.put('jittery', every(2_000, { jitter: 1_500 }), 'api');
    await schedules.put('limited', every(1_000, { limit: 4 }), 'api');
    const endAt = new Date(startedAt + 3_500).toISOString();
    await schedules.put('ending', every(1_000, { endAt }), 'api');
    await sleep(1_600);
    await schedules.put('limited', every(1_200, { limit: 4 }), 'api'); // changed mid-way
    await sleep(7_500);

    const jittered = (await firesOf('jittery')).filter((job) => job.finishedOn);
    expect(jittered.length).toBeGreaterThanOrEqual(3);
    const lateBy = jittered.map((job) => (job.processedOn ?? 0) - plannedAt(job));
    for (const late of lateBy) expect(late).toBeLessThan(1_500 + 500);
    expect(Math.max(...lateBy)).toBeGreaterThan(100); // not all at their tick

    expect((await firesOf('limited')).filter((job) => job.finishedOn)).toHaveLength(4);
    expect(await schedules.get('limited')).toMatchObject({ nextRunAt: null, nextRuns: [] });

    const ending = await firesOf('ending');
    const ran = ending.filter((job) => job.returnvalue && !('skipped' in job.returnvalue));
    expect(ran.every((job) => plannedAt(job) <= Date.parse(endAt))).toBe(true);
    expect(ran.length).toBeGreaterThanOrEqual(3);
    expect(await schedules.get('ending')).toMatchObject({ nextRunAt: null, nextRuns: [] });

    // Every fire is counted once, by its outcome: on a loaded machine one may be `missed`
    // (it started too late for its catch-up policy) rather than run, so count each apart.
    const scraped = await Promise.all(
      fleet.map((worker) => fetch(`${worker.url}/metrics`).then((response) => response.text())),
    );
    const counted = (outcome: string) =>
      scraped
        .flatMap(
          (text) =>
            text.match(
              new RegExp(
                `errand_schedule_runs_total\\{schedule="limited",outcome="${outcome}"[^}]*\\} (\\d+)`,
                'g',
              ),
            ) ?? [],
        )
        .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
    const limited = (await firesOf('limited')).filter((job) => job.finishedOn);
    const ranLimited = limited.filter((job) => job.returnvalue && !('skipped' in job.returnvalue));
    expect(counted('completed')).toBe(ranLimited.length);
    expect(counted('completed') + counted('skipped') + counted('missed')).toBe(4);
  });
});
