import { jobTypes } from '@errand/contract';
import { eventually, startTestRedis, type TestRedis } from '@errand/testing';
import { FlowProducer, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { queuePrefix } from './key-layout.ts';
import { readQueueStates } from './queue-state.ts';
import { closeQueues, openQueues, type Queues } from './queues.ts';

const PREFIX = 'qstate';
const ago = (ms: number) => Date.now() - ms;

let server: TestRedis;
let redis: Redis;
let queues: Queues;
beforeAll(async () => {
  server = await startTestRedis();
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
  queues = openQueues(redis, PREFIX);
});
afterAll(async () => {
  await closeQueues(queues);
  redis.disconnect();
  await server.stop();
});

const byType = async (options?: { workers?: boolean }) =>
  Object.fromEntries(
    (await readQueueStates(queues, redis, options)).map((state) => [state.type, state]),
  );

it('reads every queue of the contract, empty at first', async () => {
  const states = await readQueueStates(queues, redis);
  expect(states.map((state) => state.type)).toEqual(jobTypes);
  expect(states[0]).toEqual({
    type: 'email',
    queue: 'email',
    counts: {
      waiting: 0,
      prioritized: 0,
      delayed: 0,
      active: 0,
      failed: 0,
      completed: 0,
      'waiting-children': 0,
    },
    paused: false,
    oldestWaitingSeconds: 0,
    workers: 0,
  });
});

it('counts by state, and ages the job first in line from when it was due', async () => {
  // email: two plain jobs (60 s and 30 s old), a prioritized one enqueued 120 s ago, a
  // delayed one, and a parent waiting for its child (which waits in image).
  await queues.email.add('a', {}, { timestamp: ago(60_000) });
  await queues.email.add('b', {}, { timestamp: ago(30_000) });
  await queues.email.add('p', {}, { timestamp: ago(120_000), priority: 5 });
  await queues.email.add('later', {}, { delay: 60_000 });
  const flows = new FlowProducer({ connection: redis });
  await flows.add({
    name: 'parent',
    queueName: 'email',
    prefix: queuePrefix(PREFIX, 'email'),
    children: [{ name: 'c', queueName: 'image', prefix: queuePrefix(PREFIX, 'image') }],
  });
  await flows.close();
  // analytics: only a prioritized job, 45 s old; the queue is paused.
  await queues.analytics.add('p', {}, { timestamp: ago(45_000), priority: 1 });
  await queues.analytics.pause();
  // digest: enqueued an hour ago to run 10 s ago, promoted: it has waited 10 s, not an hour.
  const delayed = await queues.digest.add('d', {}, { timestamp: ago(3_600_000), delay: 3_590_000 });
  await delayed.promote();

  const states = await byType();
  expect(states.email?.counts).toEqual({
    waiting: 2,
    prioritized: 1,
    delayed: 1,
    active: 0,
    failed: 0,
    completed: 0,
    'waiting-children': 1,
  });
  expect(states.email?.oldestWaitingSeconds).toBeGreaterThanOrEqual(120);
  expect(states.email?.oldestWaitingSeconds).toBeLessThan(125);
  expect(states.image?.counts.waiting).toBe(1);
  expect(states.analytics).toMatchObject({ paused: true, counts: { prioritized: 1 } });
  expect(states.analytics?.oldestWaitingSeconds).toBeGreaterThanOrEqual(45);
  expect(states.analytics?.oldestWaitingSeconds).toBeLessThan(50);
  expect(states.digest?.counts.waiting).toBe(1);
  expect(states.digest?.oldestWaitingSeconds).toBeGreaterThanOrEqual(10);
  expect(states.digest?.oldestWaitingSeconds).toBeLessThan(15);
  expect(states['image-cleanup']).toMatchObject({ paused: false, oldestWaitingSeconds: 0 });
});

it('counts the connected workers of each queue as BullMQ does, with one CLIENT LIST', async () => {
  const connection = new Redis(server.url, { maxRetriesPerRequest: null });
  const idle = async () => {};
  const prefix = queuePrefix(PREFIX, 'image-cleanup');
  const named = new Worker('image-cleanup', idle, { connection, prefix, name: 'host:1' });
  const unnamed = new Worker('image-cleanup', idle, { connection, prefix });
  const other = new Worker('image-cleanup', idle, {
    connection,
    prefix: queuePrefix('elsewhere', 'image-cleanup'),
  });
  try {
    await Promise.all([named, unnamed, other].map((worker) => worker.waitUntilReady()));
    // Each Worker names its blocking connection once connected.
    await eventually(
      async () => (await queues['image-cleanup'].getWorkersCount()) === 2 || undefined,
    );
    const before = await clientListCalls();
    const states = await byType();
    expect(await clientListCalls()).toBe(before + 1);
    expect(states['image-cleanup']?.workers).toBe(2);
    expect(states.email?.workers).toBe(0);
    expect((await byType({ workers: false }))['image-cleanup']?.workers).toBeUndefined();
    expect(await clientListCalls()).toBe(before + 1);
  } finally {
    await Promise.all([named, unnamed, other].map((worker) => worker.close()));
    connection.disconnect();
  }
});

async function clientListCalls(): Promise<number> {
  const stats = await redis.info('commandstats');
  return Number(/cmdstat_client\|list:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}
