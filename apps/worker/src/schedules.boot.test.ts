import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@errand/devservers';
import {
  closeQueues,
  makeSchedules,
  openQueues,
  type Queues,
  type Schedules,
} from '@errand/queues';
import {
  type AppProcess,
  seededRandom,
  startApp,
  startTestRedis,
  type TestRedis,
} from '@errand/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** File A: three schedules whose fires are far off, so each stays pending through the test. */
const FILE_A = `schedules:
  - id: yearly
    cron: "0 0 1 1 *"
    job: { type: analytics-maintenance }
  - id: hourly
    every: 3600000
    job: { type: analytics-maintenance }
  - id: cleanup
    cron: "30 3 1 * *"
    tz: America/New_York
    job: { type: image-cleanup, data: { olderThanHours: 48 } }
`;
/** File B: `hourly` changed, `cleanup` gone. */
const FILE_B = `schedules:
  - id: yearly
    cron: "0 0 1 1 *"
    job: { type: analytics-maintenance }
  - id: hourly
    every: 7200000
    job: { type: analytics-maintenance }
`;

/**
 * Start-up against the schedules file: reconciling is idempotent, leaves API schedules alone,
 * and several workers booting at once (BullMQ's most-reported scheduler bug class: replicas
 * upserting together leave duplicate or no pending fires) leave exactly one pending fire
 * per schedule.
 */
describe('schedules at worker start-up', () => {
  let redis: TestRedis;
  let dir: string;
  let connection: Redis;
  let queues: Queues;
  let schedules: Schedules;
  const prefix = 'boot';

  const start = async (file: string) => {
    const port = await freePort();
    return startApp('worker', {
      REDIS_URL: redis.url,
      QUEUE_PREFIX: prefix,
      WORKER_PORT: String(port),
      STORAGE_DIR: join(dir, 'storage'),
      SCHEDULES_FILE: file,
      WORKER_QUEUES: 'email', // serve no queue the schedules use: fires stay pending
    });
  };
  /** Pending fires (delayed or waiting) per schedule id, over the queues schedules use. */
  const pendingFires = async () => {
    const counts: Record<string, number> = {};
    for (const queue of [queues['analytics-maintenance'], queues['image-cleanup']]) {
      for (const job of await queue.getJobs(['delayed', 'waiting', 'prioritized'])) {
        if (job.repeatJobKey) counts[job.repeatJobKey] = (counts[job.repeatJobKey] ?? 0) + 1;
      }
    }
    return counts;
  };

  beforeAll(async () => {
    redis = await startTestRedis();
    dir = await mkdtemp(join(tmpdir(), 'errand-schedules-boot-'));
    await writeFile(join(dir, 'a.yaml'), FILE_A);
    await writeFile(join(dir, 'b.yaml'), FILE_B);
    connection = new Redis(redis.url);
    queues = openQueues(connection, prefix);
    schedules = makeSchedules(connection, queues, prefix);
  });
  afterAll(async () => {
    await closeQueues(queues);
    connection?.disconnect();
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('makes the file true at start and leaves API schedules alone', async () => {
    await schedules.put(
      'by-api',
      {
        every: 3_600_000,
        overlap: 'allow',
        catchUp: 'latest',
        job: { type: 'analytics-maintenance', data: {} },
      },
      'api',
    );
    const first = await start(join(dir, 'a.yaml'));
    await first.waitForLine('worker running');
    await first.stop();
    expect((await schedules.list()).map((s) => `${s.id}:${s.source}`)).toEqual([
      'by-api:api',
      'cleanup:file',
      'hourly:file',
      'yearly:file',
    ]);
    const second = await start(join(dir, 'b.yaml'));
    await second.waitForLine('worker running');
    await second.stop();
    expect(second.output()).toMatch(/"updated":\["hourly"\],"removed":\["cleanup"\]/);
    const now = await schedules.list();
    expect(now.map((s) => `${s.id}:${s.source}`)).toEqual([
      'by-api:api',
      'hourly:file',
      'yearly:file',
    ]);
    expect(now.find((s) => s.id === 'hourly')?.every).toBe(7_200_000);
    expect(await pendingFires()).toEqual({ 'by-api': 1, hourly: 1, yearly: 1 });
  });

  it('refuses to start on a bad file, naming the file, the schedule and the reason', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(
      bad,
      'schedules:\n  - id: digest\n    cron: "0 7 * *"\n    job: { type: analytics-maintenance }\n',
    );
    const worker = await start(bad);
    expect(await worker.exited).toBe(1);
    expect(worker.output()).toContain(`worker did not start: ${bad}: invalid schedules`);
    expect(worker.output()).toContain('schedule "digest" cron: expected a cron expression');
    // and one that claims a schedule the API owns
    await writeFile(
      bad,
      'schedules:\n  - id: by-api\n    every: 5000\n    job: { type: analytics-maintenance }\n',
    );
    const claiming = await start(bad);
    expect(await claiming.exited).toBe(1);
    expect(claiming.output()).toContain('Schedule "by-api" was made through the API');
  });

  it('leaves exactly one pending fire per schedule after 20 racing boots with kill -9', async () => {
    const random = seededRandom(9);
    for (let round = 0; round < 20; round++) {
      const file = join(dir, round % 2 === 0 ? 'a.yaml' : 'b.yaml');
      const boot: AppProcess[] = await Promise.all([start(file), start(file), start(file)]);
      const victim = boot[Math.floor(random() * 3)] as AppProcess;
      // A worker reaches its reconcile about 1.5–2.5 s after it is spawned here: the kill
      // lands before, during or after it.
      await new Promise((resolve) => setTimeout(resolve, 1_000 + random() * 2_000));
      await victim.stop('SIGKILL');
      const survivors = boot.filter((worker) => worker !== victim);
      await Promise.all(survivors.map((worker) => worker.waitForLine('worker running', 30_000)));
      await Promise.all(survivors.map((worker) => worker.stop('SIGKILL')));
      const fires = await pendingFires();
      const expected =
        round % 2 === 0
          ? { 'by-api': 1, cleanup: 1, hourly: 1, yearly: 1 }
          : { 'by-api': 1, hourly: 1, yearly: 1 };
      expect({ round, fires }).toEqual({ round, fires: expected });
    }
  }, 240_000);
});
