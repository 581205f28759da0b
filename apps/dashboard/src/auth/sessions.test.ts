import { startTestRedis, type TestRedis } from '@errand/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeSessions } from './sessions.ts';

let redis: TestRedis;
let connection: Redis;

beforeAll(async () => {
  redis = await startTestRedis();
  connection = new Redis(redis.url);
});
afterAll(async () => {
  connection?.disconnect();
  await redis?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('ends a session after its idle time, each request restarting the clock', async () => {
  const sessions = makeSessions(connection, 'idle', { idleMs: 600, maxMs: 60_000 });
  const session = await sessions.create('ada', 'fingerprint');
  for (let i = 0; i < 4; i++) {
    await sleep(300);
    expect((await sessions.get(session.id))?.user).toBe('ada');
  }
  await sleep(800);
  expect(await sessions.get(session.id)).toBeUndefined();
});

it('does not restart the idle time for a request the user did not make (a page polling)', async () => {
  const sessions = makeSessions(connection, 'poll', { idleMs: 600, maxMs: 60_000 });
  const session = await sessions.create('ada', 'fingerprint');
  await sleep(300);
  expect(await sessions.get(session.id, false)).toMatchObject({
    user: 'ada',
    credentials: 'fingerprint',
  });
  await sleep(400);
  expect(await sessions.get(session.id, false)).toBeUndefined();
});

it('ends a session at its maximum age however busy it is', async () => {
  const sessions = makeSessions(connection, 'max', { idleMs: 10_000, maxMs: 900 });
  const session = await sessions.create('ada', 'fingerprint');
  await sleep(500);
  expect(await sessions.get(session.id)).toMatchObject({ user: 'ada', csrf: session.csrf });
  await sleep(500);
  expect(await sessions.get(session.id)).toBeUndefined();
});

it('keeps only a hash of the id in Redis, and reads nothing for an id of the wrong shape', async () => {
  const sessions = makeSessions(connection, 'hashed', { idleMs: 10_000, maxMs: 10_000 });
  const session = await sessions.create('ada', 'fingerprint');
  const keys = await connection.keys('hashed:dashboard:session:*');
  expect(keys).toHaveLength(1);
  expect(keys[0]).not.toContain(session.id);
  for (const id of [
    '',
    'x',
    `${session.id}x`,
    session.id.replace(/.$/, '*'),
    '../'.repeat(20),
    undefined,
  ]) {
    expect(await sessions.get(id)).toBeUndefined();
  }
  await sessions.destroy(session.id);
  expect(await sessions.get(session.id)).toBeUndefined();
});
