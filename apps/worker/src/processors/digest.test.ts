import { type AnalyticsSettings, makeAnalyticsReader, makeIngest } from '@errand/analytics';
import type { AnalyticsPayload, DigestPayload } from '@errand/contract';
import { closeQueues, openQueues, type Queues } from '@errand/queues';
import { startTestRedis, type TestRedis } from '@errand/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../../test/processor.testkit.ts';
import { makeDigestProcessor, yesterdayIn } from './digest.ts';

type Event = AnalyticsPayload['events'][number];
const HOUR_S = 3_600;
const TEN_YEARS_S = 10 * 365 * 86_400;
/** Buckets kept long enough that the fixed dates of these tests are still there to read. */
const settings = (prefix: string): AnalyticsSettings => ({
  prefix,
  retentionS: { minute: TEN_YEARS_S, hour: TEN_YEARS_S, day: TEN_YEARS_S },
  dedupeWindowS: 3_600,
  topProperties: undefined,
});
let n = 0;
const ev = (name: string, timestamp: string, userId?: string): Event => ({
  id: `e${n++}`,
  name,
  timestamp,
  ...(userId ? { userId } : {}),
});
const payload = (timeZone: string, events = ['signup']): DigestPayload => ({
  events,
  to: ['ops@example.com'],
  timeZone,
  subject: 'Daily',
});

describe('yesterdayIn: the local calendar day before the run, in UTC hours', () => {
  const range = (timeZone: string, now: string) => {
    const { day, from, until } = yesterdayIn(timeZone, Date.parse(now));
    return { day, from: new Date(from * 1000).toISOString(), hours: (until - from) / HOUR_S };
  };

  it('is the day before the local date, not the UTC one', () => {
    // 01:00 UTC on the 25th is still the 24th in New York, 10:00 on the 25th in Tokyo
    expect(range('America/New_York', '2026-11-25T01:00:00Z')).toEqual({
      day: '2026-11-23',
      from: '2026-11-23T05:00:00.000Z',
      hours: 24,
    });
    expect(range('Asia/Tokyo', '2026-11-25T01:00:00Z')).toEqual({
      day: '2026-11-24',
      from: '2026-11-23T15:00:00.000Z',
      hours: 24,
    });
    expect(range('UTC', '2026-03-01T00:00:00Z')).toMatchObject({ day: '2026-02-28', hours: 24 });
  });

  it('spans 23 hours after a spring forward and 25 after a fall back', () => {
    expect(range('Europe/Berlin', '2026-03-30T05:00:00Z')).toEqual({
      day: '2026-03-29',
      from: '2026-03-28T23:00:00.000Z',
      hours: 23,
    });
    expect(range('Europe/Berlin', '2026-10-26T06:00:00Z')).toEqual({
      day: '2026-10-25',
      from: '2026-10-24T22:00:00.000Z',
      hours: 25,
    });
  });

  it('starts a day whose midnight is skipped at 01:00, and one whose midnight repeats at the first', () => {
    // Santiago springs forward at 00:00 → 01:00 (−04 → −03): 6 September begins at 01:00
    expect(range('America/Santiago', '2026-09-07T12:00:00Z')).toEqual({
      day: '2026-09-06',
      from: '2026-09-06T04:00:00.000Z',
      hours: 23,
    });
    // Havana falls back at 01:00 → 00:00 (−04 → −05): 1 November begins at the first 00:00
    expect(range('America/Havana', '2026-11-02T12:00:00Z')).toEqual({
      day: '2026-11-01',
      from: '2026-11-01T04:00:00.000Z',
      hours: 25,
    });
  });

  it('rounds a midnight between UTC hours to the nearest, the earlier on a half hour', () => {
    // India, +05:30: midnight is 18:30Z; the day is read from 18:00Z (23:30 IST)
    expect(range('Asia/Kolkata', '2026-11-25T03:00:00Z')).toEqual({
      day: '2026-11-24',
      from: '2026-11-23T18:00:00.000Z',
      hours: 24,
    });
    // Nepal, +05:45: midnight is 18:15Z, nearest 18:00Z
    expect(range('Asia/Kathmandu', '2026-11-25T03:00:00Z')).toMatchObject({
      from: '2026-11-23T18:00:00.000Z',
      hours: 24,
    });
    // Newfoundland, −03:30: midnight is 03:30Z, read from 03:00Z
    expect(range('America/St_Johns', '2026-11-25T12:00:00Z')).toMatchObject({
      from: '2026-11-24T03:00:00.000Z',
      hours: 24,
    });
  });
});

describe('digest processor (real Redis, real analytics)', () => {
  let server: TestRedis;
  let redis: Redis;
  const opened: Queues[] = [];
  beforeAll(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    await Promise.all(opened.map(closeQueues));
    redis?.disconnect();
    await server?.stop();
  });

  /** A digest over its own prefix's analytics and email queue, run at `now`. */
  const digestAt = async (prefix: string, events: Event[], now: string) => {
    await makeIngest(redis, settings(prefix))(events);
    const queues = openQueues(redis, prefix);
    opened.push(queues);
    const digest = makeDigestProcessor({
      analytics: makeAnalyticsReader(redis, prefix),
      emailQueue: queues.email,
      now: () => Date.parse(now),
    });
    return { digest, emailQueue: queues.email };
  };

  it('counts yesterday in the zone, local midnight to midnight, and mails it once', async () => {
    // 07:00 EST on 25 November: yesterday is 24 November, 05:00Z to 05:00Z
    const { digest, emailQueue } = await digestAt(
      'ny',
      [
        ev('signup', '2026-11-24T04:59:59Z', 'u0'), // the day before, local
        ev('signup', '2026-11-24T05:00:00Z', 'u3'),
        ev('signup', '2026-11-24T12:00:00Z', 'u1'),
        ev('signup', '2026-11-24T23:30:00Z', 'u2'), // the 25th in UTC, the 24th in New York
        ev('signup', '2026-11-25T04:59:59Z', 'u1'),
        ev('signup', '2026-11-25T05:00:00Z', 'u4'), // today, local
        ev('login', '2026-11-24T15:00:00Z', 'u3'),
        ev('login', '2026-11-24T16:00:00Z', 'u3'),
      ],
      '2026-11-25T12:00:00Z',
    );
    const ctx = testContext('repeat:daily-digest:1795604400000');
    const job = payload('America/New_York', ['signup', 'login', 'purchase']);
    const result = await digest(job, ctx);
    expect(result).toEqual({
      day: '2026-11-24',
      rows: [
        { event: 'signup', count: 4, users: 3 },
        { event: 'login', count: 2, users: 1 },
        { event: 'purchase', count: 0, users: 0 }, // never seen
      ],
      emailJobId: 'digest-repeat-daily-digest-1795604400000',
    });
    const mail = await emailQueue.getJob(result.emailJobId);
    expect(mail?.name).toBe('digest');
    expect(mail?.data).toEqual({
      to: ['ops@example.com'],
      subject: 'Daily — 2026-11-24',
      template: { name: 'digest', data: { period: '2026-11-24', rows: result.rows } },
    });

    expect(await digest(job, testContext(ctx.id, 2))).toEqual(result); // its retry
    // a retry two days late still reports the day its tick meant; a run by hand, the day before now
    const late = makeDigestProcessor({
      analytics: makeAnalyticsReader(redis, 'ny'),
      emailQueue,
      now: () => Date.parse('2026-11-27T12:00:00Z'),
    });
    expect((await late(job, testContext(ctx.id, 3))).day).toBe('2026-11-24');
    expect((await late(job, testContext('42'))).day).toBe('2026-11-26');
    expect(await emailQueue.getJobCounts('waiting', 'delayed', 'prioritized')).toEqual({
      waiting: 2, // the tick's mail once, and the run by hand's
      delayed: 0,
      prioritized: 0,
    });
  });

  it('reads 23 hours after Europe/Berlin springs forward, 25 after it falls back', async () => {
    const { digest: spring } = await digestAt(
      'berlin-spring',
      [
        ev('signup', '2026-03-28T22:59:59Z'), // 23:59:59 CET on the 28th
        ev('signup', '2026-03-28T23:00:00Z'), // 00:00 CET on the 29th
        ev('signup', '2026-03-29T21:59:59Z'), // 23:59:59 CEST on the 29th, 23 h later
        ev('signup', '2026-03-29T22:00:00Z'), // 00:00 CEST on the 30th
      ],
      '2026-03-30T05:00:00Z',
    );
    expect(await spring(payload('Europe/Berlin'), testContext('s'))).toMatchObject({
      day: '2026-03-29',
      rows: [{ event: 'signup', count: 2 }],
    });

    const { digest: fall } = await digestAt(
      'berlin-fall',
      [
        ev('signup', '2026-10-24T21:59:59Z'), // 23:59:59 CEST on the 24th
        ev('signup', '2026-10-24T22:00:00Z'), // 00:00 CEST on the 25th
        ev('signup', '2026-10-25T22:59:59Z'), // 23:59:59 CET on the 25th, 25 h later
        ev('signup', '2026-10-25T23:00:00Z'), // 00:00 CET on the 26th
      ],
      '2026-10-26T06:00:00Z',
    );
    expect(await fall(payload('Europe/Berlin'), testContext('f'))).toMatchObject({
      day: '2026-10-25',
      rows: [{ event: 'signup', count: 2 }],
    });
  });

  it('reads whole UTC hours in a zone whose midnight is none (Asia/Kolkata, 23:30 to 23:30)', async () => {
    const { digest } = await digestAt(
      'kolkata',
      [
        ev('signup', '2026-11-23T17:59:59Z'), // 23:29:59 IST on the 23rd
        ev('signup', '2026-11-23T18:00:00Z'), // 23:30 IST on the 23rd: counted with the 24th
        ev('signup', '2026-11-24T17:59:59Z'), // 23:29:59 IST on the 24th
        ev('signup', '2026-11-24T18:00:00Z'), // 23:30 IST on the 24th: left to the 25th
      ],
      '2026-11-25T03:00:00Z',
    );
    expect(await digest(payload('Asia/Kolkata'), testContext('k'))).toMatchObject({
      day: '2026-11-24',
      rows: [{ event: 'signup', count: 2 }],
    });
  });
});

/** A zone where it is now well inside a day, so the test and the worker agree on "yesterday". */
const _calmZone = () =>
  ['America/New_York', 'Asia/Tokyo'].find((timeZone) => {
    const hour = Number(
      new Intl.DateTimeFormat('en-US', { timeZone, hour: 'numeric', hourCycle: 'h23' }).format(),
    );
    return hour >= 1 && hour <= 22;
  }) as string;
