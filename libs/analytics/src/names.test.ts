import { startTestRedis, type TestRedis } from '@errand/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { namesKey } from './keys.ts';
import { makeNamesIndex, pruneNames } from './names.ts';
import { type AnalyticsSettings, DEFAULT_DEDUPE_WINDOW_S } from './settings.ts';

const DAY_MS = 86_400_000;
const settings = (prefix: string): AnalyticsSettings => ({
  prefix,
  retentionS: { minute: 86_400, hour: 7 * 86_400, day: 30 * 86_400 },
  dedupeWindowS: DEFAULT_DEDUPE_WINDOW_S,
  topProperties: undefined,
});

describe('names index pruning (real Redis)', () => {
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

  const listed = (prefix: string) => redis.zrange(namesKey(prefix), '0', '-1');

  it('removes the names last seen the day retention ago or longer, and says how many', async () => {
    const now = Date.parse('2026-11-25T12:00:00Z');
    const cutoff = now - 30 * DAY_MS;
    await redis.zadd(
      namesKey('p'),
      String(cutoff - 5 * DAY_MS),
      'long-gone',
      String(cutoff),
      'just-expired',
      String(cutoff + 1),
      'still-there',
      String(now),
      'fresh',
    );
    expect(await pruneNames(redis, settings('p'), now)).toBe(2);
    expect(await listed('p')).toEqual(['still-there', 'fresh']);
    expect(await pruneNames(redis, settings('p'), now)).toBe(0);
    expect(await pruneNames(redis, settings('empty'), now)).toBe(0);
  });

  it('is what noting names runs too', async () => {
    await redis.zadd(namesKey('q'), String(Date.now() - 31 * DAY_MS), 'stale');
    await makeNamesIndex(redis, settings('q')).note(['signup']);
    expect(await listed('q')).toEqual(['signup']);
  });
});
