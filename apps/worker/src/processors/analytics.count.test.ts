import { startTestRedis, type TestRedis } from '@errand/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../processor.testkit.ts';
import { bucketsOf, makeAnalyticsProcessor } from './analytics.ts';

const ctx = testContext();

describe('analytics processor (real Redis)', () => {
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

  const at = '2026-11-21T10:15:42.000Z';
  const batch = {
    events: [
      { id: 'e1', name: 'signup', userId: 'u1', timestamp: at, properties: { plan: 'pro' } },
      { id: 'e2', name: 'signup', userId: 'u2', timestamp: at, properties: { plan: 'pro' } },
      { id: 'e3', name: 'signup', userId: 'u1', timestamp: at, properties: { plan: 'free' } },
    ],
  };

  it('puts events in minute, hour and day buckets (UTC)', () => {
    expect(bucketsOf('2026-11-21T11:15:42+01:00')).toEqual([
      '2026-11-21T10:15:00Z',
      '2026-11-21T10:00:00Z',
      '2026-11-21T00:00:00Z',
    ]);
  });

  it('counts, unique users and top values; a retried batch counts nothing twice', async () => {
    const process = makeAnalyticsProcessor({ redis, keyPrefix: 'an', dedupeSeconds: 3600 });
    expect(await process(batch, ctx)).toEqual({ counted: 3, duplicates: 0 });
    expect(await process(batch, { ...ctx, attempt: 2 })).toEqual({ counted: 0, duplicates: 3 });

    const [minute, hour, day] = bucketsOf(at);
    expect(await redis.hget('an:count:signup:minute', minute)).toBe('3');
    expect(await redis.hget('an:count:signup:hour', hour)).toBe('3');
    expect(await redis.hget('an:count:signup:day', day)).toBe('3');
    expect(await redis.pfcount(`an:users:signup:day:${day}`)).toBe(2);
    expect(await redis.zscore(`an:top:signup:plan:${day}`, 'pro')).toBe('2');
    expect(await redis.zscore(`an:top:signup:plan:${day}`, 'free')).toBe('1');
  });
});
