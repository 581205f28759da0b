import { startTestRedis, type TestRedis } from '@errand/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leasedWindow, leaseSize, type WindowAnswer } from './leased-window.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const admitted = (answers: WindowAnswer[]) => answers.filter((a) => a.admitted).length;

/** The lease script's calls so far on the server (EVAL and EVALSHA). */
async function scriptCalls(redis: Redis): Promise<number> {
  const stats = await redis.info('commandstats');
  let calls = 0;
  for (const match of stats.matchAll(/^cmdstat_(eval|evalsha):calls=(\d+)/gm)) {
    calls += Number(match[2]);
  }
  return calls;
}

/** Fixed-window budgets leased in blocks, on a real redis-server, by one and by two processes. */
describe('leasedWindow', () => {
  let server: TestRedis;
  let redis: Redis;
  let other: Redis; // a second process's connection
  beforeAll(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url);
    other = new Redis(server.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    other?.disconnect();
    await server?.stop();
  });

  it('takes one admission per lease up to 100 a window: exact counts and remaining values', async () => {
    expect(leaseSize(2)).toBe(1);
    expect(leaseSize(100)).toBe(1);
    expect(leaseSize(199)).toBe(1);
    expect(leaseSize(10_000)).toBe(100);
    const window = leasedWindow(redis, { prefix: 'exact', windowMs: 1_000 });
    const before = await scriptCalls(redis);
    const answers: WindowAnswer[] = [];
    for (let i = 0; i < 4; i++) answers.push(await window.take('k', 3));
    expect(answers.map((a) => [a.admitted, a.remaining])).toEqual([
      [true, 2],
      [true, 1],
      [true, 0],
      [false, 0],
    ]);
    expect(answers[3]?.msLeft).toBeGreaterThan(0);
    expect(answers[3]?.msLeft).toBeLessThanOrEqual(1_000);
    // Three leases; the refusal needed none: Redis had said the window was spent.
    expect((await scriptCalls(redis)) - before).toBe(3);
    expect(await redis.get('exact:k')).toBe('3');
  });

  it('starts a new window once the last one ends', async () => {
    const window = leasedWindow(redis, { prefix: 'again', windowMs: 200 });
    expect((await window.take('k', 1)).admitted).toBe(true);
    expect((await window.take('k', 1)).admitted).toBe(false);
    await sleep(250);
    const next = await window.take('k', 1);
    expect(next).toMatchObject({ admitted: true, remaining: 0 });
  });

  it('leases a busy key in blocks: 20,000 takes at a budget of 10,000 cost about 100 Redis calls', async () => {
    const window = leasedWindow(redis, { prefix: 'busy', windowMs: 60_000 });
    const before = await scriptCalls(redis);
    const answers = await Promise.all(
      Array.from({ length: 20_000 }, () => window.take('k', 10_000)),
    );
    expect(admitted(answers)).toBe(10_000);
    // 100 leases of 100; the last one said the window was spent, so the refusals cost none.
    expect((await scriptCalls(redis)) - before).toBe(100);
    const remaining = answers.filter((a) => a.admitted).map((a) => a.remaining);
    expect(Math.min(...remaining)).toBe(0);
    expect(Math.max(...remaining)).toBe(9_999);
    expect(new Set(remaining).size).toBe(10_000); // each admission one less than the one before
  });

  it('shares the budget between processes: never more than it, under 1% per process unused', async () => {
    const budget = 5_000;
    const a = leasedWindow(redis, { prefix: 'shared', windowMs: 60_000 });
    const b = leasedWindow(other, { prefix: 'shared', windowMs: 60_000 });
    const answers: WindowAnswer[] = [];
    // Both take in turns of small bursts until each has been refused.
    let refusedA = false;
    let refusedB = false;
    while (!refusedA || !refusedB) {
      const [fromA, fromB] = await Promise.all([
        Promise.all(Array.from({ length: 37 }, () => a.take('k', budget))),
        Promise.all(Array.from({ length: 23 }, () => b.take('k', budget))),
      ]);
      answers.push(...fromA, ...fromB);
      refusedA ||= fromA.some((x) => !x.admitted);
      refusedB ||= fromB.some((x) => !x.admitted);
    }
    const count = admitted(answers);
    expect(count).toBeLessThanOrEqual(budget);
    expect(count).toBeGreaterThanOrEqual(budget - 2 * (leaseSize(budget) - 1));
    expect(Number(await redis.get('shared:k'))).toBeLessThanOrEqual(budget);
  });

  it('fails a take while Redis is down and works again once it is back', async () => {
    const down = await startTestRedis();
    const connection = new Redis(down.url, { maxRetriesPerRequest: 0, enableOfflineQueue: false });
    connection.on('error', () => {});
    const ready = () =>
      new Promise<void>((resolve) => {
        if (connection.status === 'ready') resolve();
        else connection.once('ready', () => resolve());
      });
    try {
      await ready();
      const window = leasedWindow(connection, { prefix: 'down', windowMs: 1_000 });
      expect((await window.take('k', 10)).admitted).toBe(true);
      await down.kill();
      await expect(window.take('k', 10)).rejects.toThrow();
      await down.restart();
      await ready();
      expect((await window.take('k', 10)).admitted).toBe(true);
    } finally {
      connection.disconnect();
      await down.stop();
    }
  });
});
