import { CronExpressionParser } from 'cron-parser';

/** What decides when a schedule fires. */
export interface Rhythm {
  cron?: string | undefined;
  every?: number | undefined;
  tz?: string | undefined;
  startAt?: string | undefined;
  endAt?: string | undefined;
}

/**
 * The fire times from `first` on (epoch ms; `first` itself when it is one), at most `count`
 * and none past `endAt`. Cron times are read in the schedule's zone (UTC by default) with the
 * parser BullMQ itself uses, so they agree with the fires it schedules. Across DST: a wall
 * time that does not exist (spring forward) fires at the same minute of the next hour; one
 * that happens twice (fall back) fires once, at its first occurrence.
 */
export function fireTimes(rhythm: Rhythm, first: number, count: number): number[] {
  const end = rhythm.endAt ? Date.parse(rhythm.endAt) : Number.POSITIVE_INFINITY;
  const times: number[] = [];
  if (rhythm.every) {
    for (let at = first; times.length < count && at <= end; at += rhythm.every) times.push(at);
    return times;
  }
  if (!rhythm.cron) return times;
  const start = rhythm.startAt ? Math.max(first, Date.parse(rhythm.startAt)) : first;
  const cron = CronExpressionParser.parse(rhythm.cron, {
    tz: rhythm.tz ?? 'UTC',
    currentDate: new Date(start - 1),
  });
  while (times.length < count && cron.hasNext()) {
    const at = cron.next().getTime();
    if (at > end) break;
    times.push(at);
  }
  return times;
}

/** How long after `at` (a fire time) the next fire comes: the interval a fire may be late by. */
export function intervalAfter(rhythm: Rhythm, at: number): number {
  if (rhythm.every) return rhythm.every;
  const [, next] = fireTimes({ ...rhythm, startAt: undefined, endAt: undefined }, at, 2);
  return next === undefined ? Number.POSITIVE_INFINITY : next - at;
}
