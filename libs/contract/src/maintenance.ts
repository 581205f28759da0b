import { z } from 'zod';
import { analyticsName } from './analytics.ts';
import { address } from './headers.ts';
import { timeZone } from './time-zone.ts';

/*
 * Internal job types: the built-in schedules run them. The enqueue API takes them only from
 * an `admin` key (see `enqueueScope` in the catalog).
 */

/** The daily digest: yesterday's totals and unique users of some events, mailed. */
export const digestPayload = z.strictObject({
  events: z.array(analyticsName).min(1).max(50),
  to: z.array(address).min(1).max(50),
  /** "Yesterday" is the day before the run in this zone. */
  timeZone: timeZone.default('UTC'),
  subject: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[^\r\n]*$/, 'one line')
    .default('Errand daily digest'),
});
export type DigestPayload = z.infer<typeof digestPayload>;

export interface DigestRow {
  event: string;
  count: number;
  users: number;
}

export interface DigestResult {
  /** The day reported, `YYYY-MM-DD` in the payload's zone. */
  day: string;
  rows: DigestRow[];
  /** The email job that sends it (its id is derived from this job's, so a retry adds no second). */
  emailJobId: string;
}

const MAX_AGE_HOURS = 10 * 365 * 24;

/** The nightly clean-up: stored image outputs older than the age go. */
export const imageCleanupPayload = z.strictObject({
  olderThanHours: z.int().min(1).max(MAX_AGE_HOURS),
});
export type ImageCleanupPayload = z.infer<typeof imageCleanupPayload>;

export interface ImageCleanupResult {
  removed: number;
  kept: number;
}

/** The hourly analytics maintenance: prune names whose data has all expired. */
export const analyticsMaintenancePayload = z.strictObject({});

export interface AnalyticsMaintenanceResult {
  /** Names removed from the names index (nothing of them is left to read). */
  pruned: number;
  /** Names still listed. */
  names: number;
}
