import type { RedisClient } from '@errand/redis';
import { namesKey } from './keys.ts';
import type { AnalyticsSettings } from './settings.ts';

/** A process notes an event name at most this often: "last seen" is good to ten seconds. */
const NOTE_EVERY_MS = 10_000;
const PRUNE_EVERY_MS = 60_000;

/**
 * The names index (a sorted set: event name → when an event of it last arrived, in ms), which
 * `GET /v1/analytics` lists. Names not seen for the day retention, whose data is all gone,
 * are pruned. It lives outside the names' hash tags, so it is written apart from the counts.
 */
export function makeNamesIndex(redis: RedisClient, settings: AnalyticsSettings) {
  const key = namesKey(settings.prefix);
  const noted = new Map<string, number>();
  let prunedAt = 0;

  return {
    /** Note the names (each at most every 10 s per process); rejects if Redis refused. */
    note(names: Iterable<string>): Promise<unknown> {
      const nowMs = Date.now();
      const writes: Promise<unknown>[] = [];
      for (const name of names) {
        if (nowMs - (noted.get(name) ?? 0) < NOTE_EVERY_MS) continue;
        if (noted.size > 10_000) noted.clear();
        noted.set(name, nowMs);
        const forget = (error: unknown) => {
          noted.delete(name); // so the job's retry notes it again
          throw error;
        };
        writes.push(redis.zadd(key, 'GT', nowMs, name).catch(forget));
      }
      if (writes.length > 0 && nowMs - prunedAt > PRUNE_EVERY_MS) {
        prunedAt = nowMs;
        writes.push(pruneNames(redis, settings, nowMs));
      }
      return Promise.all(writes);
    },
  };
}

/**
 * Remove the names whose last event arrived the day retention ago or longer: their buckets
 * have expired (the day bucket of that last event may outlive them by less than a day).
 * Returns how many went. The one definition of "expired" for the names index: `note` runs it
 * while events arrive, the hourly analytics maintenance for a system where none do.
 */
export function pruneNames(
  redis: RedisClient,
  settings: AnalyticsSettings,
  nowMs: number,
): Promise<number> {
  return redis.zremrangebyscore(
    namesKey(settings.prefix),
    '-inf',
    nowMs - settings.retentionS.day * 1000,
  );
}
