import { readFileSync } from 'node:fs';
import type { AnalyticsReport, EventList } from '@errand/contract';
import type { RedisClient } from '@errand/redis';
import type { Result } from 'ioredis';
import { countKey, eventBase, namesKey, topKey, usersKey } from './keys.ts';
import { type BucketRange, bucketStarts, isoOf } from './range.ts';

const TOP_LUA = readFileSync(new URL('./top.lua', import.meta.url), 'utf8');

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** `top.lua`, on the clients `makeAnalyticsReader` was given. */
    errandAnalyticsTop(keyCount: number, ...args: (string | number)[]): Result<string[], Context>;
  }
}

export interface ReportRequest {
  event: string;
  range: BucketRange;
  /** String properties whose top values to list. */
  top: string[];
  /** Values per property. */
  limit: number;
}

/**
 * Reads of the aggregates, each in one round trip: every key of one event name shares its
 * hash tag, so a pipeline of them goes to one node even on Redis Cluster.
 */
export function makeAnalyticsReader(redis: RedisClient, prefix: string) {
  redis.defineCommand('errandAnalyticsTop', { lua: TOP_LUA });
  const topScript = redis.errandAnalyticsTop.bind(redis);

  return {
    /** Dense buckets (zero where nothing happened), the total, and top property values. */
    async report({ event, range, top, limit }: ReportRequest): Promise<AnalyticsReport> {
      const { granularity } = range;
      const base = eventBase(prefix, event);
      const starts = bucketStarts(range);
      const userKeys = starts.map((start) => usersKey(base, granularity, start));
      const [counts, bucketUsers, totalUsers, tops] = await Promise.all([
        redis.mget(starts.map((start) => countKey(base, granularity, start))),
        Promise.all(userKeys.map((key) => redis.pfcount(key))),
        redis.pfcount(userKeys),
        Promise.all(
          top.map((property) => {
            const keys = starts.map((start) => topKey(base, property, granularity, start));
            return topScript(keys.length, ...keys, limit);
          }),
        ),
      ]);
      const buckets = starts.map((start, i) => ({
        start: isoOf(start),
        count: Number(counts[i] ?? 0),
        uniqueUsers: bucketUsers[i] ?? 0,
      }));
      return {
        event,
        granularity,
        from: isoOf(range.from),
        to: isoOf(range.to),
        buckets,
        total: { count: buckets.reduce((sum, b) => sum + b.count, 0), uniqueUsers: totalUsers },
        top: Object.fromEntries(top.map((property, i) => [property, valueCounts(tops[i] ?? [])])),
      };
    },

    /** The event names seen, most recently arrived first. */
    async events(limit: number): Promise<EventList> {
      const key = namesKey(prefix);
      const [listed, total] = await Promise.all([
        redis.zrevrange(key, 0, limit - 1, 'WITHSCORES'),
        redis.zcard(key),
      ]);
      const events = [];
      for (let i = 0; i < listed.length; i += 2) {
        events.push({
          name: listed[i] as string,
          lastSeen: new Date(Number(listed[i + 1])).toISOString(),
        });
      }
      return { events, total };
    },
  };
}

export type AnalyticsReader = ReturnType<typeof makeAnalyticsReader>;

const valueCounts = (flat: string[]) => {
  const values = [];
  for (let i = 0; i < flat.length; i += 2) {
    values.push({ value: flat[i] as string, count: Number(flat[i + 1]) });
  }
  return values;
};
