import {
  type AppProcess,
  eventually,
  request,
  SmtpSink,
  startTestRedis,
  type TestRedis,
} from '@errand/testing';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  allCompleted,
  emailQueue,
  type FleetWorker,
  mail,
  startFleet,
  stopFleet,
} from '../test/fleet.testkit.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A worker whose Redis hangs, goes away or cuts its connections says so on `/readyz`, asks to
 * be restarted on `/healthz` only past its grace, and consumes again by itself when Redis is back.
 */
describe('worker readiness and liveness', () => {
  let redis: TestRedis;
  let smtp: SmtpSink;
  let fleet: AppProcess[] = [];
  let queue: Queue | undefined;

  beforeAll(async () => {
    redis = await startTestRedis();
    smtp = await SmtpSink.start();
  });
  afterEach(async () => {
    await redis.thaw(); // a failed test may leave it frozen
    await stopFleet(fleet);
    await queue?.close();
    fleet = [];
    queue = undefined;
  });
  afterAll(async () => {
    await smtp?.close();
    await redis?.stop();
  });

  const startWorker = async (prefix: string, env: Record<string, string> = {}) => {
    fleet = await startFleet(1, {
      REDIS_URL: redis.url,
      QUEUE_PREFIX: prefix,
      SMTP_URL: smtp.url,
      WORKER_QUEUES: 'email',
      ...env,
    });
    queue = emailQueue(redis.url, prefix);
    queue.on('error', () => {}); // this test's own client sees the outages too
    return fleet[0] as FleetWorker;
  };
  /** Poll a probe until it answers `status`; its last answer. */
  const probe = (url: string, status: number, timeoutMs = 40_000) =>
    eventually(
      async () => {
        const answer = await request(url);
        return answer.status === status ? answer : undefined;
      },
      { timeoutMs, intervalMs: 200, what: `${url} answering ${status}` },
    );
  /** Kill the worker's BZPOPMIN connection from another client, as a proxy or failover would. */
  const killBlockingConnection = (prefix: string) =>
    eventually(
      async () => {
        const admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
        try {
          const clients = (await admin.client('LIST')) as string;
          // BullMQ names it `<prefix>:<base64 of the queue>:w:<worker name>`.
          const ids = clients
            .split('\n')
            .filter((line) => line.includes(` name=${prefix}:`) && line.includes(':w:'))
            .map((line) => /\bid=(\d+)/.exec(line)?.[1] as string);
          for (const id of ids) await admin.client('KILL', 'ID', id);
          return ids.length > 0 ? ids : undefined;
        } finally {
          admin.disconnect();
        }
      },
      { timeoutMs: 20_000, what: 'the blocking connection to kill' },
    );

  it('is not ready while Redis is frozen, then consumes again after its connection is cut', {
    timeout: 120_000,
  }, async () => {
    const worker = await startWorker('live-a');
    await probe(`${worker.url}/readyz`, 200);

    await redis.freeze();
    const down = await eventually(
      async () => {
        const answer = await request(`${worker.url}/readyz`);
        return answer.status === 503 && answer.body.queues?.email ? answer : undefined;
      },
      { timeoutMs: 40_000, intervalMs: 200, what: '/readyz naming the email Worker' },
    );
    expect(down.headers.get('retry-after')).toBe('1');
    expect(down.body).toMatchObject({ status: 'unavailable' });
    expect(down.body.queues.email).toMatch(/^blocking connection |unanswered for/);
    // A frozen Redis for a few seconds is far from the default 60 s grace.
    expect((await request(`${worker.url}/healthz`)).status).toBe(200);

    await redis.thaw();
    expect(await killBlockingConnection('live-a')).not.toHaveLength(0);
    await probe(`${worker.url}/readyz`, 200);
    const added = [await (queue as Queue).add('email', mail('after-freeze@example.com', 1))];
    await allCompleted(queue as Queue, added, 30_000);
    expect(worker.child.exitCode).toBeNull();
  });

  it('fails /healthz once not ready past the grace, and passes again once Redis is back', {
    timeout: 120_000,
  }, async () => {
    const worker = await startWorker('live-b', { WORKER_LIVENESS_GRACE_MS: '2000' });
    await probe(`${worker.url}/healthz`, 200);

    await redis.kill();
    const stuck = await probe(`${worker.url}/healthz`, 503);
    expect(stuck.body).toMatchObject({ status: 'not-live' });
    expect(stuck.body.notReadyForMs).toBeGreaterThan(2000);
    expect(stuck.body.queues.email).toMatch(/^blocking connection /);

    await redis.restart();
    await probe(`${worker.url}/healthz`, 200);
    await probe(`${worker.url}/readyz`, 200);
    const added = [await (queue as Queue).add('email', mail('after-restart@example.com', 1))];
    await allCompleted(queue as Queue, added, 30_000);
    expect(worker.child.exitCode).toBeNull(); // nothing restarted it: it recovered by itself
    expect(worker.output()).toContain('worker consuming again');
  });

  it('logs an outage as one JSON line per error, with no printed stacks', {
    timeout: 120_000,
  }, async () => {
    // Every queue: each one's Queue and Worker report the outage.
    const worker = await startWorker('live-c', { WORKER_QUEUES: '' });
    await probe(`${worker.url}/readyz`, 200);
    const before = worker.output().length;

    await redis.kill();
    await worker.waitForLine('"worker error"', 20_000);
    await sleep(3_000); // several reconnect attempts, each failing
    await redis.restart();
    await probe(`${worker.url}/readyz`, 200);

    const lines = worker.output().slice(before).split('\n').filter(Boolean);
    const notJson = lines.filter((line) => {
      try {
        JSON.parse(line);
        return false;
      } catch {
        return true;
      }
    });
    expect(notJson).toEqual([]);
    const logged = lines.map((line) => JSON.parse(line) as { msg: string; err?: object });
    const errors = logged.filter((line) => /error$/.test(line.msg));
    expect(errors.length).toBeGreaterThan(0);
    for (const line of errors) expect(line.err).toBeDefined();
    expect(logged.map((line) => line.msg)).toContain('worker consuming again');
  });
});
