import { startTestRedis, type TestRedis } from '@errand/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limiterKeys } from './keys.ts';
import { type Admission, keyedLimiter } from './limiter.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const admitted = (answers: Admission[]) => answers.filter((a) => a.admitted).length;
const refusal = (answer: Admission) => {
  if (answer.admitted) throw new Error('admitted, where a refusal was expected');
  return answer;
};

/** The rate limit of the keyed limiter, alone and with a concurrency limit, on a real redis-server. */
describe('keyedLimiter: rate', () => {
  let server: TestRedis;
  let redis: Redis;
  beforeAll(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });
  const limiter = (name: string, leaseMs = 30_000) =>
    keyedLimiter(redis, { prefix: 'r', name, leaseMs });

  it('admits 5 of 20 immediate acquirers at 5 per second, and the next one after retryInMs', async () => {
    const limit = limiter('five');
    const spec = { ratePerSecond: 5 };
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => limit.acquire('https://b.example', spec, `job${i}`)),
    );
    expect(admitted(answers)).toBe(5);
    const refused = refusal(answers.at(-1) as Admission);
    expect(refused.reason).toBe('rate');
    expect(refused.retryInMs).toBeGreaterThan(800); // the window is one second
    expect(refused.retryInMs).toBeLessThanOrEqual(1000);
    const early = refusal(await limit.acquire('https://b.example', spec, 'late'));
    await sleep(early.retryInMs);
    expect((await limit.acquire('https://b.example', spec, 'late')).admitted).toBe(true);
    // the window (trimmed by that acquire) never holds more than 5 admissions
    expect(
      await redis.zcard(limiterKeys('r', 'five', 'https://b.example').rate),
    ).toBeLessThanOrEqual(5);
  });

  it('spreads a rate below one per second over a longer window', async () => {
    const limit = limiter('slow');
    expect((await limit.acquire('k', { ratePerSecond: 0.5 }, 'a')).admitted).toBe(true);
    const refused = refusal(await limit.acquire('k', { ratePerSecond: 0.5 }, 'b'));
    expect(refused.retryInMs).toBeGreaterThan(1900);
    expect(refused.retryInMs).toBeLessThanOrEqual(2000);
  });

  it('does not count the same holder twice while its lease runs', async () => {
    const limit = limiter('again');
    const spec = { ratePerSecond: 2 };
    for (let i = 0; i < 5; i++)
      expect((await limit.acquire('k', spec, 'job1:1')).admitted).toBe(true);
    expect((await limit.acquire('k', spec, 'job2:1')).admitted).toBe(true);
    expect((await limit.acquire('k', spec, 'job3:1')).admitted).toBe(false);
  });

  it('leaves no concurrency slot taken when the rate refuses, nor a rate slot when concurrency does', async () => {
    const limit = limiter('both');
    const key = 'https://c.example';
    // concurrency refuses: the window still has room for the one it refused
    const tight = { concurrency: 1, ratePerSecond: 3 };
    expect((await limit.acquire(key, tight, 'a')).admitted).toBe(true);
    for (const holder of ['b', 'c', 'd']) {
      expect(refusal(await limit.acquire(key, tight, holder)).reason).toBe('concurrency');
    }
    expect(await redis.zcard(limiterKeys('r', 'both', key).rate)).toBe(1);
    await limit.release(key, 'a');
    expect((await limit.acquire(key, tight, 'b')).admitted).toBe(true);
    await limit.release(key, 'b');
    // rate refuses: no lease is left behind
    const wide = { concurrency: 10, ratePerSecond: 3 };
    expect((await limit.acquire(key, wide, 'c')).admitted).toBe(true);
    const refused = refusal(await limit.acquire(key, wide, 'd'));
    expect(refused.reason).toBe('rate');
    expect(await limit.inUse(key)).toBe(1);
    // both refuse: concurrency is named, and the retry waits for the later of the two
    const both = { concurrency: 1, ratePerSecond: 3 };
    const twice = refusal(await limit.acquire(key, both, 'e'));
    expect(twice.reason).toBe('concurrency');
    expect(twice.retryInMs).toBeGreaterThan(20_000); // c's lease, not the window's second
    expect(await limit.inUse(key)).toBe(1);
    await sleep(refused.retryInMs);
    expect((await limit.acquire(key, wide, 'd')).admitted).toBe(true);
    expect(await limit.inUse(key)).toBe(2);
  });

  it('keeps the windows of different keys apart', async () => {
    const limit = limiter('apart');
    const spec = { ratePerSecond: 1 };
    expect((await limit.acquire('x', spec, 'a')).admitted).toBe(true);
    expect((await limit.acquire('y', spec, 'b')).admitted).toBe(true);
    expect((await limit.acquire('x', spec, 'c')).admitted).toBe(false);
  });
});
