import { readFileSync } from 'node:fs';
import type { AnalyticsPayload, AnalyticsResult } from '@errand/contract';
import type { RedisClient } from '@errand/redis';
import type { Result } from 'ioredis';
import { eventBase } from './keys.ts';
import { makeNamesIndex } from './names.ts';
import type { AnalyticsSettings } from './settings.ts';

type Event = AnalyticsPayload['events'][number];
type EventArgs = [id: string, user: string, epochS: number, top: string[]];

const INGEST_LUA = readFileSync(new URL('./ingest.lua', import.meta.url), 'utf8');

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** `ingest.lua`, on the clients `makeIngest` was given. */
    errandAnalyticsIngest(base: string, ...args: (string | number)[]): Result<string, Context>;
  }
}

/** Events per script call: a call blocks Redis while it runs, so a big batch goes in parts. */
const EVENTS_PER_CALL = 250;

/** The events of one name gathered in this tick, and the jobs waiting for their outcome. */
interface Gathered {
  args: EventArgs[];
  waiters: { from: number; to: number; done: (counted: number | Error) => void }[];
}

/**
 * Aggregate events into Redis: counts, unique users and top property values per minute,
 * hour and day bucket, each event id once (`ingest.lua`).
 *
 * The events of every job that calls in the same tick are gathered per event name and sent
 * as one script call per name (per 250 events): a worker running 100 one-event jobs at once
 * makes a handful of calls, not 100, and one job makes one round trip whatever its size.
 * Each call is atomic, so a crash can split a job's events between calls but never count
 * one twice: its retry finds the counted ones seen.
 */
export function makeIngest(redis: RedisClient, settings: AnalyticsSettings) {
  redis.defineCommand('errandAnalyticsIngest', { numberOfKeys: 1, lua: INGEST_LUA });
  const ingestScript = redis.errandAnalyticsIngest.bind(redis);
  const { retentionS, topProperties } = settings;
  const generationS = Math.max(1, Math.round(settings.dedupeWindowS / 2));
  const namesIndex = makeNamesIndex(redis, settings);
  let gathered = new Map<string, Gathered>();

  /** An event as the script reads it: [id, user, epoch seconds, [property, value, …]]. */
  const eventArgs = (event: Event): EventArgs => {
    const top: string[] = [];
    for (const property in event.properties) {
      const value = event.properties[property];
      if (typeof value === 'string' && (!topProperties || topProperties.has(property))) {
        top.push(property, value);
      }
    }
    return [
      event.id,
      event.userId ?? event.anonymousId ?? '',
      Math.floor(Date.parse(event.timestamp) / 1000),
      top,
    ];
  };

  /** One name's gathered events, in calls of 250; each waiter learns how many of its counted. */
  async function send(name: string, { args, waiters }: Gathered, noting: Promise<unknown>) {
    const now = Math.floor(Date.now() / 1000);
    const base = eventBase(settings.prefix, name);
    const { minute, hour, day } = retentionS;
    const calls: Promise<string>[] = [];
    for (let i = 0; i < args.length; i += EVENTS_PER_CALL) {
      const events = JSON.stringify(args.slice(i, i + EVENTS_PER_CALL));
      calls.push(ingestScript(base, now, generationS, minute, hour, day, events));
    }
    const [outcomes, noted] = await Promise.all([
      Promise.allSettled(calls),
      noting.then(
        () => undefined,
        (error: Error) => error,
      ),
    ]);
    for (const { from, to, done } of waiters) {
      let counted = 0;
      let failure: Error | undefined = noted;
      for (let c = Math.floor(from / EVENTS_PER_CALL); c * EVENTS_PER_CALL < to; c++) {
        const outcome = outcomes[c] as PromiseSettledResult<string>;
        if (outcome.status === 'rejected') failure = outcome.reason as Error;
        else {
          const offset = c * EVENTS_PER_CALL;
          counted += countOnes(outcome.value, Math.max(from, offset) - offset, to - offset);
        }
      }
      done(failure ?? counted);
    }
  }

  function flush() {
    const batch = gathered;
    gathered = new Map();
    const noting = namesIndex.note(batch.keys());
    for (const [name, group] of batch) {
      send(name, group, noting).catch((error: Error) => {
        for (const { done } of group.waiters) done(error);
      });
    }
  }

  return async (events: readonly Event[]): Promise<AnalyticsResult> => {
    if (gathered.size === 0) setImmediate(flush);
    const outcomes = [...Map.groupBy(events, (event) => event.name)].map(
      ([name, group]) =>
        new Promise<number>((resolve, reject) => {
          let entry = gathered.get(name);
          if (!entry) {
            entry = { args: [], waiters: [] };
            gathered.set(name, entry);
          }
          const from = entry.args.length;
          for (const event of group) entry.args.push(eventArgs(event));
          const to = entry.args.length;
          entry.waiters.push({
            from,
            to,
            done: (outcome) => (outcome instanceof Error ? reject(outcome) : resolve(outcome)),
          });
        }),
    );
    const counted = (await Promise.all(outcomes)).reduce((sum, n) => sum + n, 0);
    return { counted, duplicates: events.length - counted };
  };
}

export type Ingest = ReturnType<typeof makeIngest>;

/** How many '1's `flags` has from `from` up to `to` (or its end). */
const countOnes = (flags: string, from: number, to: number) => {
  let ones = 0;
  for (let i = from; i < Math.min(to, flags.length); i++) if (flags.charCodeAt(i) === 49) ones++;
  return ones;
};
