import { startTestRedis, type TestRedis } from '@errand/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeIngest } from './ingest.ts';
import { makeAnalyticsReader } from './query.ts';
import { resolveRange } from './range.ts';
import { DEFAULT_DEDUPE_WINDOW_S, DEFAULT_RETENTION_S } from './settings.ts';

const settings = (prefix: string, topProperties?: string[]) => ({
  prefix,
  retentionS: DEFAULT_RETENTION_S,
  dedupeWindowS: DEFAULT_DEDUPE_WINDOW_S,
  topProperties: topProperties && new Set(topProperties),
});

/** An hour ago, so every granularity is well inside its retention. */
const HOUR = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
const at = (minute: number, second = 0) =>
  new Date(HOUR + minute * 60_000 + second * 1000).toISOString();
const event = (id: string, minute: number, extra: object = {}) => ({
  id,
  name: 'signup',
  timestamp: at(minute, 30),
  ...extra,
});

describe('analytics ingest and reads (real Redis)', () => {
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

  const hourRange = (granularity: 'minute' | 'hour' | 'day') =>
    resolveRange(
      {
        granularity,
        from: new Date(HOUR).toISOString(),
        to: new Date(HOUR + 3_600_000).toISOString(),
      },
      Date.now(),
    );

  it('counts per minute, hour and day; uniques; top values; dense buckets', async () => {
    const ingest = makeIngest(redis, settings('a'));
    const reader = makeAnalyticsReader(redis, 'a');
    const batch = [
      event('e1', 5, { userId: 'u1', properties: { plan: 'pro', seats: 3 } }),
      event('e2', 5, { userId: 'u2', properties: { plan: 'pro' } }),
      event('e3', 7, { userId: 'u1', properties: { plan: 'free', ref: 'ad' } }),
      event('e4', 59, { anonymousId: 'anon-1' }),
      { ...event('x1', 5), name: 'login', userId: 'u9' },
    ];
    expect(await ingest(batch)).toEqual({ counted: 5, duplicates: 0 });

    const minutes = await reader.report({
      event: 'signup',
      range: hourRange('minute'),
      top: ['plan', 'ref', 'seats', 'none'],
      limit: 10,
    });
    expect(minutes.buckets).toHaveLength(60);
    expect(minutes.buckets.filter((b) => b.count > 0)).toEqual([
      { start: at(5).replace('.000Z', 'Z'), count: 2, uniqueUsers: 2 },
      { start: at(7).replace('.000Z', 'Z'), count: 1, uniqueUsers: 1 },
      { start: at(59).replace('.000Z', 'Z'), count: 1, uniqueUsers: 1 },
    ]);
    expect(minutes.buckets[0]).toEqual({ start: minutes.from, count: 0, uniqueUsers: 0 });
    expect(minutes.total).toEqual({ count: 4, uniqueUsers: 3 });
    expect(minutes.top).toEqual({
      plan: [
        { value: 'pro', count: 2 },
        { value: 'free', count: 1 },
      ],
      ref: [{ value: 'ad', count: 1 }],
      seats: [], // numbers are not kept as top values
      none: [],
    });

    const hours = await reader.report({
      event: 'signup',
      range: hourRange('hour'),
      top: ['plan'],
      limit: 1,
    });
    expect(hours.buckets).toEqual([{ start: hours.from, count: 4, uniqueUsers: 3 }]);
    expect(hours.top).toEqual({ plan: [{ value: 'pro', count: 2 }] });
    const day = await reader.report({
      event: 'signup',
      range: hourRange('day'),
      top: [],
      limit: 1,
    });
    expect(day.total).toEqual({ count: 4, uniqueUsers: 3 });

    const login = await reader.report({
      event: 'login',
      range: hourRange('hour'),
      top: [],
      limit: 1,
    });
    expect(login.total).toEqual({ count: 1, uniqueUsers: 1 });
    const never = await reader.report({
      event: 'never',
      range: hourRange('minute'),
      top: ['plan'],
      limit: 5,
    });
    expect(never.total).toEqual({ count: 0, uniqueUsers: 0 });
    expect(never.buckets.every((b) => b.count === 0 && b.uniqueUsers === 0)).toBe(true);
    expect(never.top).toEqual({ plan: [] });
  });

  it('counts an id once: in a retried batch, twice in one batch, across 250-event parts', async () => {
    const ingest = makeIngest(redis, settings('b'));
    const reader = makeAnalyticsReader(redis, 'b');
    const events = Array.from({ length: 700 }, (_, i) =>
      event(`id-${i % 600}`, i % 60, { userId: `u${i % 50}` }),
    );
    expect(await ingest(events)).toEqual({ counted: 600, duplicates: 100 });
    expect(await ingest(events)).toEqual({ counted: 0, duplicates: 700 });
    expect(await ingest([event('id-5', 1), event('new', 1)])).toEqual({
      counted: 1,
      duplicates: 1,
    });
    const report = await reader.report({
      event: 'signup',
      range: hourRange('hour'),
      top: [],
      limit: 1,
    });
    expect(report.total).toEqual({ count: 601, uniqueUsers: 50 });
  });

  it('gathers the calls of one tick: one script call per name, each caller its own outcome', async () => {
    const ingest = makeIngest(redis, settings('g'));
    const scriptCalls = async () => {
      const stats = await redis.info('commandstats');
      const calls = (command: string) =>
        Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
      return calls('eval') + calls('evalsha'); // a script's first call on a connection is EVAL
    };
    const before = await scriptCalls();
    const [a, b, c] = await Promise.all([
      ingest([event('g1', 1), event('g2', 1)]),
      ingest([event('g2', 2), event('g3', 2)]),
      ingest([{ ...event('g4', 3), name: 'other' }, event('g5', 3)]),
    ]);
    expect(await scriptCalls()).toBe(before + 2); // signup and other, not one per caller
    expect(a).toEqual({ counted: 2, duplicates: 0 });
    expect(b).toEqual({ counted: 1, duplicates: 1 }); // g2 came first with a
    expect(c).toEqual({ counted: 2, duplicates: 0 });
  });

  it('fails every caller of a call Redis refused, so their jobs retry', async () => {
    const gone = await startTestRedis();
    const client = new Redis(gone.url, {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      lazyConnect: true,
    });
    client.on('error', () => {});
    await client.connect();
    await gone.stop();
    const ingest = makeIngest(client, settings('h'));
    const outcomes = await Promise.allSettled([ingest([event('h1', 1)]), ingest([event('h2', 1)])]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    client.disconnect();
  });

  it('lists top values most frequent first, ties alphabetically, up to the limit', async () => {
    const ingest = makeIngest(redis, settings('c'));
    const reader = makeAnalyticsReader(redis, 'c');
    const plans = ['b', 'a', 'c', 'c', 'd', 'd', 'd', 'e', 'e', 'e'];
    await ingest(plans.map((plan, i) => event(`t${i}`, i, { properties: { plan } })));
    const top = async (limit: number) =>
      (await reader.report({ event: 'signup', range: hourRange('minute'), top: ['plan'], limit }))
        .top.plan ?? [];
    expect(await top(10)).toEqual([
      { value: 'd', count: 3 },
      { value: 'e', count: 3 },
      { value: 'c', count: 2 },
      { value: 'a', count: 1 },
      { value: 'b', count: 1 },
    ]);
    expect((await top(4)).map((v) => v.value)).toEqual(['d', 'e', 'c', 'a']);
    expect((await top(1)).map((v) => v.value)).toEqual(['d']);
  });

  it('keeps top values only of the chosen properties when told', async () => {
    const ingest = makeIngest(redis, settings('d', ['plan']));
    const reader = makeAnalyticsReader(redis, 'd');
    await ingest([event('p1', 1, { properties: { plan: 'pro', url: '/a' } })]);
    const { top } = await reader.report({
      event: 'signup',
      range: hourRange('hour'),
      top: ['plan', 'url'],
      limit: 5,
    });
    expect(top).toEqual({ plan: [{ value: 'pro', count: 1 }], url: [] });
    expect(await redis.keys('d:analytics:*top:url*')).toEqual([]);
  });

  it('lists event names, most recently arrived first', async () => {
    const ingest = makeIngest(redis, settings('e'));
    const reader = makeAnalyticsReader(redis, 'e');
    const before = Date.now();
    await ingest([event('n1', 1)]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await ingest([
      { ...event('n2', 1), name: 'checkout' },
      { ...event('n3', 1), name: 'a:b.c-d_e' },
    ]);
    const list = await reader.events(10);
    expect(list.total).toBe(3);
    expect(list.events.map((e) => e.name).slice(2)).toEqual(['signup']);
    expect(new Set(list.events.map((e) => e.name).slice(0, 2))).toEqual(
      new Set(['checkout', 'a:b.c-d_e']),
    );
    for (const { lastSeen } of list.events) {
      expect(Date.parse(lastSeen)).toBeGreaterThanOrEqual(before);
      expect(Date.parse(lastSeen)).toBeLessThanOrEqual(Date.now());
    }
    expect((await reader.events(1)).events).toHaveLength(1);
  });

  it('keeps every key of one event name under its hash tag, each with an expiry', async () => {
    const ingest = makeIngest(redis, settings('f'));
    await ingest([
      event('k1', 1, { userId: 'u', properties: { plan: 'pro' } }),
      { ...event('k2', 2), name: 'other', anonymousId: 'a' },
    ]);
    const keys = await redis.keys('f:analytics:*');
    const perEvent = keys.filter((key) => key !== 'f:analytics:names');
    expect(perEvent.length).toBe(1 + 3 * 3 + 1 + 3 * 2); // seen, counts, users, top; other: seen, counts, users
    for (const key of perEvent) {
      expect(key).toMatch(/^f:analytics:\{(signup|other)\}:(seen|count|users|top):/);
      expect(await redis.ttl(key), key).toBeGreaterThan(0);
    }
  });
});
