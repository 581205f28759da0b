import { readFileSync } from 'node:fs';
import type { AnalyticsPayload, AnalyticsResult } from '@errand/contract';
import type { Redis } from 'ioredis';
import { eventBase, namesKey } from './keys.ts';
import type { AnalyticsSettings } from './settings.ts';

type Event = AnalyticsPayload['events'][number];
type IngestScript = (base: string, ...args: (string | number)[]) => Promise<[number, number]>;

const INGEST_LUA = readFileSync(new URL('./ingest.lua', import.meta.url), 'utf8');
/** Events per script call: a call blocks Redis while it runs, so a big batch goes in parts. */
const EVENTS_PER_CALL = 250;
/** A process notes an event name in the names index at most this often. */
const NOTE_NAME_EVERY_MS = 10_000;

/**
 * Aggregate events into Redis: counts, unique users and top property values per minute,
 * hour and day bucket, each event id once. One script call per event name (per 250 events),
 * all sent at once: one round trip for a job, whatever its size.
 */
export function makeIngest(redis: Redis, settings: AnalyticsSettings) {
  redis.defineCommand('errandAnalyticsIngest', { numberOfKeys: 1, lua: INGEST_LUA });
  const ingestScript = (
    redis as unknown as { errandAnalyticsIngest: IngestScript }
  ).errandAnalyticsIngest.bind(redis);
  const { retentionS, topProperties } = settings;
  const generationS = Math.max(1, Math.round(settings.dedupeWindowS / 2));
  const names = namesKey(settings.prefix);
  const noted = new Map<string, number>();
  let prunedAt = 0;

  const eventArgs = (event: Event): (string | number)[] => {
    const top = Object.entries(event.properties ?? {}).filter(
      ([property, value]) =>
        typeof value === 'string' && (!topProperties || topProperties.has(property)),
    );
    return [
      event.id,
      event.userId ?? event.anonymousId ?? '',
      Math.floor(Date.parse(event.timestamp) / 1000),
      top.length,
      ...top.flat(),
    ] as (string | number)[];
  };

  /** The names index says which events exist and when each last arrived. */
  const noteNames = (eventNames: Iterable<string>, nowMs: number): Promise<unknown>[] => {
    const writes: Promise<unknown>[] = [];
    for (const name of eventNames) {
      if (nowMs - (noted.get(name) ?? 0) < NOTE_NAME_EVERY_MS) continue;
      if (noted.size > 10_000) noted.clear();
      noted.set(name, nowMs);
      const forget = (error: unknown) => {
        noted.delete(name); // so the job's retry notes it again
        throw error;
      };
      writes.push(redis.zadd(names, 'GT', nowMs, name).catch(forget));
    }
    if (writes.length > 0 && nowMs - prunedAt > 60_000) {
      prunedAt = nowMs;
      writes.push(redis.zremrangebyscore(names, '-inf', nowMs - retentionS.day * 1000));
    }
    return writes;
  };

  return async (events: readonly Event[]): Promise<AnalyticsResult> => {
    const nowMs = Date.now();
    const now = Math.floor(nowMs / 1000);
    const byName = Map.groupBy(events, (event) => event.name);
    const calls: Promise<[number, number]>[] = [];
    for (const [name, group] of byName) {
      const base = eventBase(settings.prefix, name);
      for (let i = 0; i < group.length; i += EVENTS_PER_CALL) {
        const args = group.slice(i, i + EVENTS_PER_CALL).flatMap(eventArgs);
        calls.push(
          ingestScript(
            base,
            now,
            generationS,
            retentionS.minute,
            retentionS.hour,
            retentionS.day,
            ...args,
          ),
        );
      }
    }
    const [results] = await Promise.all([Promise.all(calls), ...noteNames(byName.keys(), nowMs)]);
    let counted = 0;
    for (const [fresh] of results) counted += fresh;
    return { counted, duplicates: events.length - counted };
  };
}

export type Ingest = ReturnType<typeof makeIngest>;
