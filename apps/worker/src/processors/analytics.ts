import type { Redis } from 'ioredis';
import type { Processor } from '../processor.ts';

/**
 * Count one event unless its id was counted before, atomically: the "seen" mark and the
 * counters change together or not at all, so retries and redelivery never count twice.
 * KEYS: seen, count hash per granularity (3), HyperLogLog per bucket (3), top-value zsets.
 * ARGV: seen TTL, bucket per granularity (3), user ('' for none), property values.
 */
const COUNT_ONCE = `
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
for i = 0, 2 do
  redis.call('HINCRBY', KEYS[2 + i], ARGV[2 + i], 1)
  if ARGV[5] ~= '' then redis.call('PFADD', KEYS[5 + i], ARGV[5]) end
end
for i = 8, #KEYS do redis.call('ZINCRBY', KEYS[i], 1, ARGV[i - 2]) end
return 1`;

export const GRANULARITIES = ['minute', 'hour', 'day'] as const;

/** Start of the minute, hour and day (UTC) that a timestamp falls in, as ISO strings. */
export function bucketsOf(timestamp: string): [string, string, string] {
  const iso = new Date(timestamp).toISOString();
  return [`${iso.slice(0, 16)}:00Z`, `${iso.slice(0, 13)}:00:00Z`, `${iso.slice(0, 10)}T00:00:00Z`];
}

export interface AnalyticsDeps {
  redis: Redis;
  /** Prefix of every analytics key. */
  keyPrefix: string;
  /** How long an event id is remembered to refuse duplicates. */
  dedupeSeconds: number;
}

/** Aggregate a batch of events: counts per bucket, unique users, top string property values. */
export const makeAnalyticsProcessor = ({
  redis,
  keyPrefix,
  dedupeSeconds,
}: AnalyticsDeps): Processor<'analytics'> => {
  const k = (...parts: string[]) => [keyPrefix, ...parts].join(':');
  return async ({ events }, ctx) => {
    let counted = 0;
    for (const [index, event] of events.entries()) {
      const buckets = bucketsOf(event.timestamp);
      const props = Object.entries(event.properties ?? {}).filter(
        (entry): entry is [string, string] => typeof entry[1] === 'string',
      );
      const keys = [
        k('seen', event.id),
        ...GRANULARITIES.map((g) => k('count', event.name, g)),
        ...GRANULARITIES.map((g, i) => k('users', event.name, g, buckets[i] ?? '')),
        ...props.map(([prop]) => k('top', event.name, prop, buckets[2])),
      ];
      const args = [
        String(dedupeSeconds),
        ...buckets,
        event.userId ?? event.anonymousId ?? '',
        ...props.map(([, v]) => v),
      ];
      counted += Number(await redis.eval(COUNT_ONCE, keys.length, ...keys, ...args));
      if (index % 100 === 99) await ctx.progress(Math.round(((index + 1) / events.length) * 100));
    }
    return { counted, duplicates: events.length - counted };
  };
};
