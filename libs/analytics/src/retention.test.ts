import { eventually, startTestRedis, type TestRedis } from '@errand/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeIngest } from './ingest.ts';
import { makeAnalyticsReader } from './query.ts';
import { isoOf, resolveRange } from './range.ts';

const DAY_S = 86_400;
const sleepUntil = (epochMs: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, epochMs - Date.now())));

/** Short windows, real Redis expiry: what is past its retention or window is gone. */
describe('analytics retention and dedupe window (real Redis)', () => {
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

  it('drops a bucket its retention after it ends, and keeps the coarser ones', async () => {
    const now = Math.floor(Date.now() / 1000);
    const recent = now - 60; // its minute ended less than a minute ago
    const minuteEnd = recent - (recent % 60) + 60;
    const keepMinutes = now - minuteEnd + 3; // so it is gone 3 s from now
    const ingest = makeIngest(redis, {
      prefix: 'ret',
      retentionS: { minute: keepMinutes, hour: DAY_S, day: DAY_S },
      dedupeWindowS: DAY_S,
      topProperties: undefined,
    });
    const reader = makeAnalyticsReader(redis, 'ret');
    const old = now - 600; // its minute is past the retention already
    await ingest([
      {
        id: 'r1',
        name: 'visit',
        userId: 'u1',
        timestamp: isoOf(recent),
        properties: { page: '/' },
      },
      { id: 'r2', name: 'visit', userId: 'u2', timestamp: isoOf(old), properties: { page: '/' } },
    ]);
    const report = (granularity: 'minute' | 'hour') =>
      reader.report({
        event: 'visit',
        range: resolveRange({ granularity, from: isoOf(old - 3_600), to: isoOf(now) }, Date.now()),
        top: ['page'],
        limit: 5,
      });

    const minutes = await report('minute');
    expect(minutes.total.count).toBe(1); // the old minute was never written
    expect(minutes.buckets.find((b) => b.count > 0)?.start).toBe(isoOf(recent - (recent % 60)));
    expect((await report('hour')).total).toEqual({ count: 2, uniqueUsers: 2 });

    await eventually(async () => ((await report('minute')).total.count === 0 ? true : undefined), {
      timeoutMs: 10_000,
      what: 'minute bucket expired',
    });
    expect(await redis.keys('ret:analytics:*:minute:*')).toEqual([]);
    const hours = await report('hour');
    expect(hours.total).toEqual({ count: 2, uniqueUsers: 2 });
    expect(hours.top).toEqual({ page: [{ value: '/', count: 2 }] });
  });

  it('refuses an id again within the dedupe window, forgets it within one and a half', async () => {
    const ingest = makeIngest(redis, {
      prefix: 'win',
      retentionS: { minute: DAY_S, hour: DAY_S, day: DAY_S },
      dedupeWindowS: 2,
      topProperties: undefined,
    });
    const event = { id: 'w1', name: 'ping', timestamp: new Date().toISOString() };
    const generation = Math.floor(Date.now() / 1000); // generations of 1 s: half the window
    expect(await ingest([event])).toEqual({ counted: 1, duplicates: 0 });
    await sleepUntil(generation * 1000 + 1_900);
    expect(await ingest([event])).toEqual({ counted: 0, duplicates: 1 });
    await sleepUntil((generation + 3) * 1000 + 50);
    expect(await ingest([event])).toEqual({ counted: 1, duplicates: 0 });
    // The generation it was first counted in has expired by itself.
    expect(await redis.exists(`win:analytics:{ping}:seen:${generation}`)).toBe(0);
  });
});
