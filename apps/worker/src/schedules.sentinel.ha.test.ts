import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SentinelGroup } from '@errand/devservers';
import { createLogger } from '@errand/observability';
import { closeQueues, makeSchedules, openQueues, type Queues } from '@errand/queues';
import { createRedis } from '@errand/redis';
import { eventually } from '@errand/testing';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FleetWorker, startFleet, stopFleet } from '../test/fleet.testkit.ts';

const PREFIX = 'hasched';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** When BullMQ planned a fire: the millis at the end of `repeat:<id>:<millis>`. */
const plannedAt = (job: Job) => Number(String(job.id).split(':').at(-1));

/**
 * A schedule fired by two workers on a Sentinel group: its rhythm goes on after the primary
 * is killed, on the new primary, with no tick run twice and no worker restarted. Part of
 * `npm run test:ha`.
 */
describe('schedules on Sentinel', () => {
  let group: SentinelGroup;
  let dir: string;
  let connection: Redis;
  let queues: Queues;
  let fleet: FleetWorker[] = [];

  beforeAll(async () => {
    group = await SentinelGroup.start();
    dir = await mkdtemp(join(tmpdir(), 'errand-schedules-ha-'));
    await writeFile(join(dir, 'none.yaml'), 'schedules: []\n');
    connection = createRedis(
      { mode: 'sentinel', sentinels: [...group.sentinels], name: group.name, sentinelTls: false },
      'worker',
    );
    connection.on('error', () => {}); // the test kills the primary on purpose
    queues = openQueues(connection, PREFIX, { logger: createLogger('test', 'silent') });
    fleet = await startFleet(2, {
      REDIS_SENTINELS: group.sentinels.map(({ host, port }) => `${host}:${port}`).join(','),
      REDIS_SENTINEL_NAME: group.name,
      QUEUE_PREFIX: PREFIX,
      SCHEDULES_FILE: join(dir, 'none.yaml'),
      WORKER_QUEUES: 'analytics-maintenance',
    });
  }, 60_000);
  afterAll(async () => {
    await stopFleet(fleet);
    if (queues) await closeQueues(queues);
    connection?.disconnect();
    await group?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('keeps firing once per tick after a failover', async () => {
    const schedules = makeSchedules(connection, queues, PREFIX);
    const body = {
      every: 1_000,
      overlap: 'allow',
      catchUp: 'latest',
      job: { type: 'analytics-maintenance', data: {} },
    } as const;
    await schedules.put('beat', body, 'api');
    await sleep(3_000);
    await group.synced();
    const killed = await group.killPrimary();
    await group.waitForNewPrimary(killed);
    const promotedAt = Date.now();
    await sleep(6_000);
    await eventually(async () => (await schedules.remove('beat', 'api')) || undefined, {
      timeoutMs: 10_000,
      what: 'the schedule removed',
    });

    const fires = (
      await queues['analytics-maintenance'].getJobs([
        'completed',
        'failed',
        'active',
        'waiting',
        'delayed',
      ])
    ).filter((job) => job.name === 'schedule:beat');
    const ticks = fires.map(plannedAt).sort((a, b) => a - b);
    expect(new Set(ticks).size).toBe(ticks.length); // no tick twice
    // The rhythm on the new primary: a fire a second (some may still be on their way).
    const after = fires.filter((job) => plannedAt(job) > promotedAt);
    expect(after.length).toBeGreaterThanOrEqual(3);
    expect(
      after.filter((job) => job.finishedOn && !job.failedReason).length,
    ).toBeGreaterThanOrEqual(3);
    expect(fleet.every((worker) => worker.child.exitCode === null)).toBe(true);
  }, 60_000);
});
