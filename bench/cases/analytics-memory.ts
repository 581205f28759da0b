import { randomUUID } from 'node:crypto';
import {
  DEFAULT_DEDUPE_WINDOW_S,
  DEFAULT_RETENTION_S,
  type Ingest,
  makeIngest,
} from '@errand/analytics';
import { RedisServer } from '@errand/devservers';
import { makeEvents } from '@errand/testing';
import { Redis } from 'ioredis';
import type { BenchCase, BenchContext, Row } from '../case.ts';
import { pooled } from '../measure.ts';

const EVENTS_PER_JOB = 1_000;
const MB = 1024 * 1024;

const usedMemory = async (redis: Redis) =>
  Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? 0);

/** Sum of MEMORY USAGE over the keys matching `pattern`. */
async function memoryOf(redis: Redis, pattern: string): Promise<number> {
  let total = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000);
    cursor = next;
    for (const key of keys) total += (await redis.memory('USAGE', key, 'SAMPLES', '0')) ?? 0;
  } while (cursor !== '0');
  return total;
}

/** Clients name events with UUIDs: the ids of the dedupe window are this long. */
const withUuids = (events: ReturnType<typeof makeEvents>) =>
  events.map((event) => ({ ...event, id: randomUUID() }));

/** Feed events the way jobs do: 1,000 per call, 8 calls at once. Resolves with the seconds. */
async function ingestAll(ingest: Ingest, events: ReturnType<typeof makeEvents>) {
  const from = performance.now();
  const starts = Array.from(
    { length: events.length / EVENTS_PER_JOB },
    (_, i) => i * EVENTS_PER_JOB,
  );
  await pooled(starts, 8, async (start) => {
    await ingest(events.slice(start, start + EVENTS_PER_JOB));
  });
  return (performance.now() - from) / 1000;
}

/**
 * What the aggregates cost in Redis memory, and that it all goes away: 1 million distinct
 * events (5 names, 50,000 users, over the last 24 h) with the default windows; then 1 million
 * with windows short enough to watch them pass. Runs on a redis-server of its own, so
 * `used_memory` counts nothing else.
 */
export const analyticsMemory: BenchCase = {
  name: 'analytics-memory',
  async run(ctx: BenchContext): Promise<Row[]> {
    const count = Math.round(1_000_000 * ctx.scale);
    const server = await RedisServer.start({ appendfsync: 'everysec' });
    const redis = new Redis(server.url);
    try {
      // 1. Default windows: minute buckets 48 h, hours 90 d, days 2 y, ids remembered 48 h.
      const empty = await usedMemory(redis);
      const spread = withUuids(
        makeEvents({
          count,
          names: ['signup', 'login', 'page.view', 'purchase', 'search'],
          fromMs: Date.now() - 24 * 3_600_000,
          spanMs: 24 * 3_600_000,
          users: 50_000,
        }),
      );
      const ingest = makeIngest(redis, {
        prefix: 'mem',
        retentionS: DEFAULT_RETENTION_S,
        dedupeWindowS: DEFAULT_DEDUPE_WINDOW_S,
        topProperties: undefined,
      });
      const seconds = await ingestAll(ingest, spread);
      const full = await usedMemory(redis);
      const dedupe = await memoryOf(redis, 'mem:analytics:*:seen:*');
      const perMillion = (bytes: number) => Math.round((bytes / count) * 1_000_000);
      ctx.say(`  default windows: ${((full - empty) / MB).toFixed(1)} MB for ${count} events`);

      // 2. Short windows. A minute that ends a UTC day ends its hour and its day too: events
      // in the last minute of yesterday have all their buckets end at midnight, so one
      // retention (time since midnight + a margin) makes every bucket expire together.
      await redis.flushall();
      const midnightS = Math.floor(Date.now() / 86_400_000) * 86_400;
      const marginS = Math.ceil(seconds * 2) + 10;
      const keep = Math.floor(Date.now() / 1000) - midnightS + marginS;
      const lastMinute = withUuids(
        makeEvents({
          count,
          names: ['signup', 'login', 'page.view', 'purchase', 'search'],
          fromMs: (midnightS - 60) * 1000,
          spanMs: 60_000,
          users: 50_000,
        }),
      );
      const before = await usedMemory(redis);
      const short = makeIngest(redis, {
        prefix: 'mem',
        retentionS: { minute: keep, hour: keep, day: keep },
        dedupeWindowS: marginS,
        topProperties: undefined,
      });
      await ingestAll(short, lastMinute);
      const after = await usedMemory(redis);
      const waitedFrom = Date.now();
      let left = await redis.dbsize();
      while (left > 1 && Date.now() - waitedFrom < (marginS * 3 + 30) * 1000) {
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        left = await redis.dbsize();
      }
      const gone = await usedMemory(redis);
      ctx.say(
        `  short windows: ${((after - before) / MB).toFixed(1)} MB, then ${left} key(s) left`,
      );
      return [
        {
          case: `Redis memory for ${count.toLocaleString('en-US')} distinct events, default windows`,
          errand: {
            value: Number(((full - empty) / MB).toFixed(1)),
            unit: 'MB',
            what: 'used_memory growth',
          },
          notes: [
            `used_memory ${(empty / MB).toFixed(1)} MB before, ${(full / MB).toFixed(1)} MB after (ingested in ${seconds.toFixed(1)} s)`,
            `dedupe (36-character UUIDs of the window): ${(perMillion(dedupe) / MB).toFixed(1)} MB per million distinct events (${Math.round(dedupe / count)} bytes each, by MEMORY USAGE)`,
            `aggregates (counts, HyperLogLogs, top values of 5 names over 24 h): ${((full - empty - dedupe) / MB).toFixed(1)} MB`,
          ],
        },
        {
          case: `the same after every window has passed (short windows: ${marginS} s)`,
          errand: {
            value: Number(((gone - before) / MB).toFixed(1)),
            unit: 'MB',
            what: 'used_memory growth',
          },
          pass: left <= 1,
          target: 'nothing left but the names index',
          notes: [
            `all in one minute, so nearly all of it is the ids: ${Math.round((after - before) / count)} bytes per event`,
            `used_memory ${(before / MB).toFixed(1)} MB before, ${(after / MB).toFixed(1)} MB after ingest, ${(gone / MB).toFixed(1)} MB ${Math.round((Date.now() - waitedFrom) / 1000)} s later; keys left: ${left}`,
          ],
        },
      ];
    } finally {
      redis.disconnect();
      await server.dispose();
    }
  },
};
