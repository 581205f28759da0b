import { startTestRedis, type TestRedis } from '@errand/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limiterKeys } from './keys.ts';
import { type Admission, type KeyedLimiter, keyedLimiter } from './limiter.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The part of a key Redis Cluster hashes (its hash tag rule). */
const hashTag = (key: string) => {
  const open = key.indexOf('{');
  const close = key.indexOf('}', open + 1);
  return open >= 0 && close > open + 1 ? key.slice(open + 1, close) : key;
};
const admittedOf = (answers: Admission[]) => answers.filter((a) => a.admitted).length;

/** Concurrency, leases and keys of the keyed limiter on a real redis-server. */
describe('keyedLimiter: concurrency, leases and keys', () => {
  let server: TestRedis;
  /** Several connections, as several worker processes would have. */
  let clients: Redis[];
  beforeAll(async () => {
    server = await startTestRedis();
    clients = Array.from({ length: 5 }, () => new Redis(server.url));
  });
  afterAll(async () => {
    for (const client of clients ?? []) client.disconnect();
    await server?.stop();
  });
  const limiters = (name: string, leaseMs = 30_000) =>
    clients.map((redis) => keyedLimiter(redis, { prefix: 'c', name, leaseMs }));
  const one = (name: string, leaseMs = 30_000) =>
    keyedLimiter(clients[0] as Redis, { prefix: 'c', name, leaseMs });

  it('admits exactly N of 50 acquirers at once from five connections', async () => {
    const all = limiters('n-of-50');
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        (all[i % all.length] as KeyedLimiter).acquire(
          'https://a.example',
          { concurrency: 3 },
          `job${i}`,
        ),
      ),
    );
    expect(admittedOf(answers)).toBe(3);
    expect(await one('n-of-50').inUse('https://a.example')).toBe(3);
    const refused = answers.find((a) => !a.admitted);
    expect(refused).toMatchObject({ admitted: false, reason: 'concurrency' });
    // nobody released: the earliest lease runs out within leaseMs
    if (refused && !refused.admitted) expect(refused.retryInMs).toBeLessThanOrEqual(30_000);
  });

  it('frees a slot on release, through the lease or by key and holder', async () => {
    const limiter = one('release');
    const spec = { concurrency: 2 };
    const a = await limiter.acquire('k', spec, 'a');
    await limiter.acquire('k', spec, 'b');
    expect((await limiter.acquire('k', spec, 'c')).admitted).toBe(false);
    if (!a.admitted) throw new Error('a was refused');
    await a.lease.release();
    expect(await limiter.inUse('k')).toBe(1);
    expect((await limiter.acquire('k', spec, 'c')).admitted).toBe(true);
    await limiter.release('k', 'b');
    await limiter.release('k', 'nobody');
    expect(await limiter.inUse('k')).toBe(1);
  });

  it('frees the slot of a holder that never releases once its lease runs out, and the key goes', async () => {
    const limiter = one('expiry', 300);
    const spec = { concurrency: 1 };
    expect((await limiter.acquire('k', spec, 'dead')).admitted).toBe(true);
    const refused = await limiter.acquire('k', spec, 'next');
    expect(refused).toMatchObject({ admitted: false, reason: 'concurrency' });
    if (refused.admitted) throw new Error('admitted');
    expect(refused.retryInMs).toBeGreaterThan(0);
    expect(refused.retryInMs).toBeLessThanOrEqual(300);
    await sleep(refused.retryInMs);
    expect(await limiter.inUse('k')).toBe(0);
    expect((await limiter.acquire('k', spec, 'next')).admitted).toBe(true);
    await sleep(350);
    // an idle key disappears: nothing left of it in Redis
    expect(await clients[0]?.exists(limiterKeys('c', 'expiry', 'k').holders)).toBe(0);
  });

  it('extends a running lease, and refuses to extend one that ran out', async () => {
    const limiter = one('extend', 1000);
    const held = await limiter.acquire('k', { concurrency: 1 }, 'long');
    if (!held.admitted) throw new Error('refused');
    await sleep(600);
    expect(await held.lease.extend()).toBe(true);
    await sleep(600); // 1200 ms after acquiring: alive only thanks to the extension
    expect(await limiter.inUse('k')).toBe(1);
    expect((await limiter.acquire('k', { concurrency: 1 }, 'other')).admitted).toBe(false);
    await sleep(1050);
    expect(await limiter.extend('k', 'long')).toBe(false);
    expect(await limiter.inUse('k')).toBe(0);
  });

  it('holds one slot for the same holder acquiring twice, and renews it', async () => {
    const limiter = one('idempotent');
    const spec = { concurrency: 2 };
    expect((await limiter.acquire('k', spec, 'job1:1')).admitted).toBe(true);
    expect((await limiter.acquire('k', spec, 'job1:1')).admitted).toBe(true);
    expect(await limiter.inUse('k')).toBe(1);
    expect((await limiter.acquire('k', spec, 'job2:1')).admitted).toBe(true);
    // full, yet a holder already in is admitted again
    expect((await limiter.acquire('k', spec, 'job1:1')).admitted).toBe(true);
    expect((await limiter.acquire('k', spec, 'job3:1')).admitted).toBe(false);
    expect(await limiter.inUse('k')).toBe(2);
  });

  it('keeps keys with braces and colons apart, and every key of one in one hash tag', async () => {
    const limiter = one('odd');
    const odd = ['https://api.example.com:8443', '{tenant}:a', '}{', 'a:{b}:c', ''];
    for (const key of odd) {
      expect(
        (await limiter.acquire(key, { concurrency: 1, ratePerSecond: 10 }, 'h')).admitted,
      ).toBe(true);
    }
    for (const key of odd) expect(await limiter.inUse(key)).toBe(1);
    const redis = clients[0] as Redis;
    for (const key of odd) {
      const { holders, rate } = limiterKeys('c', 'odd', key);
      expect(holders).toMatch(/^c:limit:odd:\{[0-9a-f]{40}\}:holders$/);
      expect(rate).toMatch(/^c:limit:odd:\{[0-9a-f]{40}\}:rate$/);
      expect(await redis.exists(holders, rate)).toBe(2); // the keys the scripts wrote
    }
    // Redis hashes what is between the first { and the next }: the same for both keys,
    // and a different tag for each key
    const tags = odd.map((key) => {
      const { holders, rate } = limiterKeys('c', 'odd', key);
      expect(hashTag(rate)).toBe(hashTag(holders));
      return hashTag(holders);
    });
    expect(new Set(tags).size).toBe(odd.length);
  });

  it('does not let one key, nor a limiter of another name, use the slots of another', async () => {
    const first = one('one');
    const second = one('two');
    expect((await first.acquire('x', { concurrency: 1 }, 'h1')).admitted).toBe(true);
    expect((await first.acquire('y', { concurrency: 1 }, 'h2')).admitted).toBe(true);
    expect((await second.acquire('x', { concurrency: 1 }, 'h3')).admitted).toBe(true);
    expect((await first.acquire('x', { concurrency: 1 }, 'h4')).admitted).toBe(false);
    expect([await first.inUse('x'), await first.inUse('y'), await second.inUse('x')]).toEqual([
      1, 1, 1,
    ]);
  });

  it('refuses a spec or options that make no sense, and a prefix that would break the hash tag', async () => {
    const redis = clients[0] as Redis;
    expect(() => keyedLimiter(redis, { prefix: 'a{b}', name: 'n', leaseMs: 1000 })).toThrow(/\{/);
    expect(() => keyedLimiter(redis, { prefix: 'a', name: '}', leaseMs: 1000 })).toThrow(/\{/);
    expect(() => keyedLimiter(redis, { prefix: 'a', name: 'n', leaseMs: 0 })).toThrow(/leaseMs/);
    const limiter = keyedLimiter(redis, { prefix: 'a', name: 'n', leaseMs: 1000 });
    for (const spec of [{ concurrency: 0 }, { concurrency: 1.5 }, { ratePerSecond: 0 }]) {
      await expect(limiter.acquire('k', spec, 'h')).rejects.toThrow(RangeError);
    }
  });
});
