import type { AnalyticsReader } from '@errand/analytics';
import { jobs } from '@errand/contract';
import type { Queue } from 'bullmq';
import { PermanentError, type Processor } from '../processor.ts';

export interface DigestDeps {
  /** Reads the aggregates: `makeAnalyticsReader(redis, prefix)`. */
  analytics: AnalyticsReader;
  /** Where the digest's mail goes: the email queue. */
  emailQueue: Queue;
  /** The clock that decides which day is "yesterday"; tests fix it. */
  now?: () => number;
}

/**
 * The daily digest: each event's count and unique users of yesterday (see `yesterdayIn`), read
 * from the analytics aggregates and mailed with the `digest` template as one email job. That
 * job's id is derived from this job's, so a retried digest adds no second mail.
 */
export const makeDigestProcessor =
  ({ analytics, emailQueue, now = Date.now }: DigestDeps): Processor<'digest'> =>
  async ({ events, to, timeZone, subject }, ctx) => {
    // A schedule's fire reports the day before its tick, however late it runs (a retry or a
    // catch-up after midnight still mails the day it was meant for); a run by hand, the day
    // before now.
    const tick = /^repeat:.+:(\d+)$/.exec(ctx.id)?.[1];
    const { day, from, until } = yesterdayIn(timeZone, tick ? Number(tick) : now());
    const rows = await Promise.all(
      events.map(async (event) => {
        const range = { granularity: 'hour' as const, from, to: until };
        const { total } = await analytics.report({ event, range, top: [], limit: 1 });
        return { event, count: total.count, users: total.uniqueUsers };
      }),
    );
    const mail = jobs.email.schema.safeParse({
      to,
      subject: `${subject} — ${day}`,
      template: { name: 'digest', data: { period: day, rows } },
    });
    if (!mail.success)
      throw new PermanentError(`the digest mail is invalid: ${mail.error.message}`);
    ctx.signal.throwIfAborted(); // an attempt past its timeout adds no mail
    // BullMQ refuses ":" in custom ids, and a schedule's fire is `repeat:<schedule>:<ms>`.
    const emailJobId = `digest-${ctx.id.replaceAll(':', '-')}`;
    await emailQueue.add('digest', mail.data, { jobId: emailJobId });
    return { day, rows, emailJobId };
  };

const HOUR_S = 3_600;
const DAY_MS = 86_400_000;

/**
 * "Yesterday" for a run at `nowMs`: the calendar day before the run's date in `timeZone`, from
 * the first instant of that date to the first instant of the next (23 or 25 hours on a DST
 * day), as the epoch seconds of the UTC hour buckets it is read from (`until` exclusive).
 *
 * Buckets are whole UTC hours, so each end is the hour nearest the local midnight. Where that
 * is a whole UTC hour (most zones) the day is exact. Where it is not (India +05:30, Nepal
 * +05:45, Newfoundland −03:30, …) the hour that midnight splits counts toward the day holding
 * most of it, the later one on an even split: India's digest reads 23:30 to 23:30 IST. The
 * error is at most 30 minutes at each end, and consecutive days still count every event once.
 * (Minute buckets would be exact, but a day is 1,440 of them, and they are kept only 48 hours
 * by default, less if so configured: a late run would silently miss the start of its day.)
 */
export function yesterdayIn(timeZone: string, nowMs: number) {
  const today = dateIn(timeZone, nowMs);
  const day = new Date(Date.parse(today) - DAY_MS).toISOString().slice(0, 10);
  return {
    day,
    from: nearestHour(dayStart(timeZone, day)),
    until: nearestHour(dayStart(timeZone, today)),
  };
}

/** The nearest whole UTC hour (epoch seconds), the earlier one on a half-hour. */
const nearestHour = (epochS: number) => Math.ceil((epochS - HOUR_S / 2) / HOUR_S) * HOUR_S;

/**
 * The first second (epoch seconds) whose local date in the zone is `date` or later. A search,
 * not offset arithmetic: it needs no rule for the nights where midnight is skipped (a zone
 * springing forward at 00:00 starts the day at 01:00) or happens twice (falling back at 01:00),
 * only that local dates never run backwards. Offsets lie within ±18 hours, so the start lies
 * within 18 hours of the date's UTC midnight; 17 steps find it.
 */
function dayStart(timeZone: string, date: string): number {
  const utcMidnight = Date.parse(date) / 1000;
  let before = utcMidnight - 18 * HOUR_S; // an earlier local date
  let after = utcMidnight + 18 * HOUR_S; // this local date or a later one
  while (after - before > 1) {
    const middle = Math.floor((before + after) / 2);
    if (dateIn(timeZone, middle * 1000) < date) before = middle;
    else after = middle;
  }
  return after;
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** `YYYY-MM-DD`: the calendar date of an instant in a zone. */
function dateIn(timeZone: string, ms: number): string {
  let format = formats.get(timeZone);
  if (!format) {
    const digits = { year: 'numeric', month: '2-digit', day: '2-digit' } as const;
    format = new Intl.DateTimeFormat('en-US', { timeZone, ...digits });
    formats.set(timeZone, format);
  }
  const part = Object.fromEntries(format.formatToParts(ms).map((p) => [p.type, p.value]));
  return `${part.year}-${part.month}-${part.day}`;
}
