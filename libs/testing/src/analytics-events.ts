import type { AnalyticsPayload } from '@errand/contract';

type Event = AnalyticsPayload['events'][number];

/** A small seeded generator (mulberry32), so a run can be repeated exactly. */
export function seededRandom(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface EventMix {
  count: number;
  names: string[];
  /** Timestamps fall in [fromMs, fromMs + spanMs). */
  fromMs: number;
  spanMs: number;
  /** Distinct users; one event in ten is anonymous. */
  users: number;
  seed?: number;
  /** Prefix of the event ids, so several mixes do not share ids. */
  idPrefix?: string;
}

const PLANS = ['free', 'free', 'free', 'free', 'free', 'free', 'pro', 'pro', 'pro', 'team'];

/** Analytics events with a skewed `plan` property (free 60%, pro 30%, team 10%). */
export function makeEvents(mix: EventMix): Event[] {
  const random = seededRandom(mix.seed ?? 1);
  const pick = <T>(list: T[]) => list[Math.floor(random() * list.length)] as T;
  return Array.from({ length: mix.count }, (_, i) => {
    const who = Math.floor(random() * mix.users);
    const identity = random() < 0.1 ? { anonymousId: `anon-${who}` } : { userId: `user-${who}` };
    return {
      id: `${mix.idPrefix ?? 'ev'}-${i}`,
      name: pick(mix.names),
      timestamp: new Date(mix.fromMs + Math.floor(random() * mix.spanMs)).toISOString(),
      ...identity,
      properties: { plan: pick(PLANS), amount: Math.round(random() * 100) },
    };
  });
}
