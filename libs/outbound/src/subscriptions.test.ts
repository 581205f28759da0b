import { createRedis, type RedisClient } from '@errand/redis';
import { startTestRedis, type TestRedis } from '@errand/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscriptionStore } from './subscriptions.ts';

/** What deliveries find of a subscription, written by many workers at once. */
describe('subscription state', () => {
  let server: TestRedis;
  let redis: RedisClient;
  let store: ReturnType<typeof subscriptionStore>;
  const body = { url: 'https://hooks.example.com/a', events: ['job.completed' as const] };

  beforeAll(async () => {
    server = await startTestRedis();
    redis = createRedis(server.url, 'worker');
    store = subscriptionStore(redis, 'subs');
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  it('keeps a disable whatever successes and failures race it, and its first reason', async () => {
    await store.put('a', body, 'ops');
    await Promise.all([
      store.disable('a', '410 Gone', new Date(1_000)),
      ...Array.from({ length: 20 }, (_, i) =>
        i % 2 ? store.markSuccess('a') : store.markFailure('a', 5_000 + i),
      ),
      store.disable('a', 'failing for days', new Date(2_000)),
    ]);
    expect((await store.state('a')).disabled).toEqual({
      at: new Date(1_000).toISOString(),
      reason: '410 Gone',
    });
  });

  it('counts failing time from the first failure in a row, and a success ends the row', async () => {
    await store.put('b', body, 'ops');
    expect(await store.markFailure('b', 10_000)).toBe(0);
    expect(await store.markFailure('b', 25_000)).toBe(15_000);
    await store.markSuccess('b');
    expect(await store.markFailure('b', 40_000)).toBe(0);
    expect((await store.state('b')).failingSince).toBe(40_000);
  });

  it('clears what deliveries found when the admin puts it again', async () => {
    await store.disable('b', 'failing for days');
    expect(
      (await store.list()).find((s) => s.subscription.id === 'b')?.state.disabled,
    ).toBeDefined();
    await store.put('b', body, 'ops');
    expect(await store.state('b')).toEqual({});
  });
});
