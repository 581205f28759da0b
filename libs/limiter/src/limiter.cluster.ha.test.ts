import { RedisCluster } from '@errand/devservers';
import { createRedis, type RedisClient } from '@errand/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limiterKeys } from './keys.ts';
import { keyedLimiter } from './limiter.ts';

/**
 * The keyed limiter on a real Redis Cluster (3 masters, 3 replicas): each script touches the
 * keys of one limited key, which share one slot, so Redis runs it instead of refusing it with
 * CROSSSLOT; keys of other origins land on other masters. Part of `npm run test:ha`.
 */
let cluster: RedisCluster;
let redis: RedisClient;
beforeAll(async () => {
  cluster = await RedisCluster.start();
  redis = createRedis({ mode: 'cluster', nodes: [...cluster.nodes] }, 'worker');
});
afterAll(async () => {
  redis?.disconnect();
  await cluster?.stop();
});

describe('keyedLimiter on a Redis Cluster', () => {
  it('admits, refuses, extends and releases keys of many slots, each key’s two in one slot', async () => {
    const limiter = keyedLimiter(redis, { prefix: 'errand', name: 'http-target', leaseMs: 30_000 });
    const origins = Array.from({ length: 12 }, (_, i) => `https://api${i}.example.com:{${i}}`);
    const spec = { concurrency: 2, ratePerSecond: 10 };
    const slots = new Set<number>();
    const masters = new Set<number>();
    for (const origin of origins) {
      const { holders, rate } = limiterKeys('errand', 'http-target', origin);
      const slot = await redis.call('CLUSTER', 'KEYSLOT', holders);
      expect(await redis.call('CLUSTER', 'KEYSLOT', rate)).toBe(slot);
      slots.add(slot as number);
      masters.add((await cluster.masterOf(holders)).node.port);
      const answers = await Promise.all(
        ['a', 'b', 'c'].map((holder) => limiter.acquire(origin, spec, holder)),
      );
      expect(answers.filter((a) => a.admitted)).toHaveLength(2);
      expect(await limiter.inUse(origin)).toBe(2);
      expect(await limiter.extend(origin, 'a')).toBe(true);
      await limiter.release(origin, 'a');
      await limiter.release(origin, 'b');
      expect(await limiter.inUse(origin)).toBe(0);
    }
    expect(slots.size).toBe(origins.length);
    expect(masters.size).toBeGreaterThan(1);
  });
});
