import type { AnalyticsPayload, AnalyticsReport, Granularity } from '@errand/contract';
import { granularities, jobs } from '@errand/contract';
import { queuePrefix } from '@errand/queues';
import {
  type AppProcess,
  eventually,
  makeEvents,
  type ProducerProcess,
  request,
  seededRandom,
  startProducerProcess,
  startTestRedis,
  type TestRedis,
} from '@errand/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFleet, stopFleet } from '../test/fleet.testkit.ts';

type Event = AnalyticsPayload['events'][number];

const KEY = 'analytics-fleet-key-0123456789';
const HOUR_MS = 3_600_000;
const NAMES = ['signup', 'checkout', 'page.view'];

/** What the query API must say: counts, users and plan values per bucket, from the events. */
function truthOf(events: Event[]) {
  const counts = new Map<string, number>();
  const users = new Map<string, Set<string>>();
  const plans = new Map<string, Map<string, number>>();
  for (const e of events) {
    const epochS = Math.floor(Date.parse(e.timestamp) / 1000);
    for (const [g, size] of Object.entries(granularities)) {
      const key = `${e.name}|${g}|${epochS - (epochS % size)}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      const user = e.userId ?? e.anonymousId;
      if (user) users.set(key, (users.get(key) ?? new Set()).add(user));
    }
    const plan = String(e.properties?.plan);
    const byPlan = plans.get(e.name) ?? new Map<string, number>();
    plans.set(e.name, byPlan.set(plan, (byPlan.get(plan) ?? 0) + 1));
  }
  return { counts, users, plans };
}

/**
 * The whole path under a crash: 10,000 events (1,000 of them repeats of an id already sent)
 * through the producer's batch API, aggregated by 3 worker processes of which one is killed
 * with SIGKILL mid-run. The query API must then count every event exactly once.
 */
describe('analytics under a worker crash (producer, 3 workers, real Redis)', () => {
  let redis: TestRedis;
  let producer: ProducerProcess;
  let fleet: AppProcess[] = [];
  let api: string;
  let queue: Queue;
  let connection: Redis;

  beforeAll(async () => {
    redis = await startTestRedis();
    producer = await startProducerProcess({
      REDIS_URL: redis.url,
      QUEUE_PREFIX: 'anfleet',
      API_KEYS: JSON.stringify([{ name: 'svc', key: KEY, scopes: ['enqueue', 'read'] }]),
    });
    api = producer.api;
    connection = new Redis(redis.url);
    queue = new Queue(jobs.analytics.queue, {
      connection,
      prefix: queuePrefix('anfleet', jobs.analytics.queue),
    });
  });
  afterAll(async () => {
    await stopFleet(fleet);
    await producer?.stop();
    await queue?.close();
    connection?.disconnect();
    await redis?.stop();
  });

  const call = (path: string, json?: unknown) =>
    request(`${api}${path}`, {
      method: json === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${KEY}` },
      json,
    });

  it('counts every event once, uniques within 2%, top values right, views agree', async () => {
    // Four hours around a UTC midnight, so the day view has two buckets.
    const midnight = Math.floor(Date.now() / (24 * HOUR_MS)) * 24 * HOUR_MS;
    const from = midnight - 2 * HOUR_MS;
    const distinct = makeEvents({
      count: 9_000,
      names: NAMES,
      fromMs: from,
      spanMs: 4 * HOUR_MS,
      users: 1_500,
      seed: 7,
    });
    const random = seededRandom(11);
    const repeats = Array.from(
      { length: 1_000 },
      () => distinct[Math.floor(random() * distinct.length)] as Event,
    );
    const sent = [...distinct, ...repeats].sort(() => random() - 0.5);
    const truth = truthOf(distinct);

    fleet = await startFleet(3, {
      REDIS_URL: redis.url,
      QUEUE_PREFIX: 'anfleet',
      WORKER_QUEUES: 'analytics',
      ANALYTICS_CONCURRENCY: '4',
      WORKER_LOCK_DURATION_MS: '4000',
      WORKER_STALLED_INTERVAL_MS: '1000',
      LOG_LEVEL: 'debug', // for "job started"
    });
    const victim = fleet[0] as AppProcess;
    // 1,000 jobs of 10 events, 100 jobs per request; the victim dies once it has work.
    for (let r = 0; r < 10; r++) {
      const jobsOf = Array.from({ length: 100 }, (_, j) => ({
        data: { events: sent.slice((r * 100 + j) * 10, (r * 100 + j + 1) * 10) },
      }));
      expect((await call('/v1/jobs/analytics/batch', { jobs: jobsOf })).status).toBe(202);
      if (r === 4) {
        await victim.waitForLine('"msg":"job started"');
        victim.child.kill('SIGKILL');
      }
    }
    await eventually(
      async () => {
        const counts = await queue.getJobCounts(
          'waiting',
          'active',
          'delayed',
          'completed',
          'failed',
        );
        expect(counts.failed).toBe(0);
        return counts.completed === 1_000 ? counts : undefined;
      },
      { timeoutMs: 60_000, what: 'every analytics job completed' },
    );
    expect(await victim.exited).toBeNull(); // killed by a signal, not exited
    // It died with jobs in hand, which the survivors took back as stalled.
    const stalled = fleet.slice(1).map((w) => w.output().split('"msg":"job stalled').length - 1);
    expect(stalled.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);

    const report = async (name: string, granularity: Granularity, top = '') => {
      const span =
        granularity === 'day'
          ? [midnight - 24 * HOUR_MS, midnight + 24 * HOUR_MS]
          : [from, from + 4 * HOUR_MS];
      const query = `from=${new Date(span[0] as number).toISOString()}&to=${new Date(span[1] as number).toISOString()}`;
      const answer = await call(`/v1/analytics/${name}?granularity=${granularity}&${query}${top}`);
      expect(answer.status).toBe(200);
      return answer.body as AnalyticsReport;
    };
    for (const name of NAMES) {
      const totals = [];
      for (const g of ['minute', 'hour', 'day'] as const) {
        const view = await report(name, g, '&top=plan&limit=3');
        expect(view.buckets).toHaveLength(g === 'minute' ? 240 : g === 'hour' ? 4 : 2);
        for (const bucket of view.buckets) {
          const key = `${name}|${g}|${Date.parse(bucket.start) / 1000}`;
          expect(bucket.count, `${key} count`).toBe(truth.counts.get(key) ?? 0);
          const users = truth.users.get(key)?.size ?? 0;
          expect(Math.abs(bucket.uniqueUsers - users), `${key} users`).toBeLessThanOrEqual(
            Math.max(1, users * 0.02),
          );
        }
        const expected = [...(truth.plans.get(name) ?? new Map())]
          .sort((a, b) => b[1] - a[1])
          .map(([value, count]) => ({ value, count }));
        expect(view.top.plan).toEqual(expected);
        totals.push(view.total);
      }
      // Minute, hour and day views agree exactly on counts, and on users within 2%.
      const count = distinct.filter((e) => e.name === name).length;
      const users = new Set(
        distinct.filter((e) => e.name === name).map((e) => e.userId ?? e.anonymousId),
      ).size;
      for (const total of totals) {
        expect(total.count).toBe(count);
        expect(Math.abs(total.uniqueUsers - users)).toBeLessThanOrEqual(users * 0.02);
      }
    }
    const listed = await call('/v1/analytics');
    expect(listed.body.events.map((e: { name: string }) => e.name).sort()).toEqual(
      [...NAMES].sort(),
    );
  });
});
