import type { Granularity } from '@errand/contract';

const HOUR_S = 3_600;
const DAY_S = 24 * HOUR_S;

/** How the aggregates are kept; the worker fills it from its environment. */
export interface AnalyticsSettings {
  /** QUEUE_PREFIX: analytics keys live under `<prefix>:analytics`. */
  prefix: string;
  /** How long a bucket is kept after it ends, in seconds, per granularity. */
  retentionS: Record<Granularity, number>;
  /** An event id is refused as a duplicate for at least this long after it was counted. */
  dedupeWindowS: number;
  /** The string properties whose top values are kept; every string property when undefined. */
  topProperties: ReadonlySet<string> | undefined;
}

export const DEFAULT_RETENTION_S = {
  minute: 48 * HOUR_S, // two days of minutes: "what happened this morning, yesterday"
  hour: 90 * DAY_S, // a quarter of hours
  day: 2 * 365 * DAY_S, // two years of days: this year against last
} satisfies Record<Granularity, number>;

/** Longer than every retry of a job, redelivery after a crash, and a client's own retries. */
export const DEFAULT_DEDUPE_WINDOW_S = 48 * HOUR_S;
