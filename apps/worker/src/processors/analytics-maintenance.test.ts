import { DEFAULT_DEDUPE_WINDOW_S, namesKey } from '@errand/analytics';
import { startTestRedis, type TestRedis } from '@errand/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { testContext } from '../../test/processor.testkit.ts';
import { makeAnalyticsMaintenanceProcessor } from './analytics-maintenance.ts';

const DAY_S = 86_400;
let server: TestRedis;
let redis: Redis;
beforeAll(async () => {
  server = await startTestRedis();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

it('prunes the names whose data has all expired (not seen for the day retention), keeps the rest', async () => {
  const settings = {
    prefix: 'maint',
    retentionS: { minute: DAY_S, hour: 7 * DAY_S, day: 30 * DAY_S },
    dedupeWindowS: DEFAULT_DEDUPE_WINDOW_S,
    topProperties: undefined,
  };
  const now = Date.now();
  const seen = (days: number) => now - days * DAY_S * 1000;
  await redis.zadd(
    namesKey('maint'),
    String(seen(31)),
    'gone',
    String(seen(29)),
    'fading',
    String(seen(0)),
    'fresh',
  );
  const maintain = makeAnalyticsMaintenanceProcessor({ redis, settings });
  expect(await maintain({}, testContext())).toEqual({ pruned: 1, names: 2 });
  expect(await redis.zrange(namesKey('maint'), '0', '-1')).toEqual(['fading', 'fresh']);
  expect(await maintain({}, testContext())).toEqual({ pruned: 0, names: 2 });
});
