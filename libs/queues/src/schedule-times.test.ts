import { describe, expect, it } from 'vitest';
import { fireTimes, intervalAfter } from './schedule-times.ts';

const at = (iso: string) => Date.parse(iso);
const times = (rhythm: Parameters<typeof fireTimes>[0], from: string, count = 4) =>
  fireTimes(rhythm, at(from), count).map((ms) => new Date(ms).toISOString());

/*
 * Expectations worked by hand from the zones' rules (2026):
 * - Europe/Berlin: CET (UTC+1) → CEST (UTC+2) at 02:00 on 29 March (02:00–02:59 do not
 *   exist); back at 03:00 on 25 October (02:00–02:59 happen twice).
 * - America/New_York: EST (UTC−5) → EDT (UTC−4) at 02:00 on 8 March; back at 02:00 on 1 November.
 */
describe('fire times across DST', () => {
  it('Europe/Berlin spring forward: 02:30 does not exist that day and fires at 03:30 CEST', () => {
    expect(times({ cron: '30 2 * * *', tz: 'Europe/Berlin' }, '2026-03-27T12:00:00Z')).toEqual([
      '2026-03-28T01:30:00.000Z', // 02:30 CET
      '2026-03-29T01:30:00.000Z', // 03:30 CEST: the first minute that exists after 02:29
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
      '2026-03-31T00:30:00.000Z',
    ]);
  });

  it('Europe/Berlin fall back: 02:30 happens twice and fires once, at the first', () => {
    expect(times({ cron: '30 2 * * *', tz: 'Europe/Berlin' }, '2026-10-23T12:00:00Z')).toEqual([
      '2026-10-24T00:30:00.000Z', // 02:30 CEST
      '2026-10-25T00:30:00.000Z', // 02:30 CEST, not again at 02:30 CET (01:30Z)
      '2026-10-26T01:30:00.000Z', // 02:30 CET
      '2026-10-27T01:30:00.000Z',
    ]);
  });

  it('Europe/Berlin: an hourly cron fires every real hour through both changes', () => {
    expect(times({ cron: '0 * * * *', tz: 'Europe/Berlin' }, '2026-10-25T00:00:00Z', 3)).toEqual([
      '2026-10-25T00:00:00.000Z', // 02:00 CEST
      '2026-10-25T01:00:00.000Z', // 02:00 CET, the second 02:00
      '2026-10-25T02:00:00.000Z', // 03:00 CET
    ]);
    expect(times({ cron: '30 * * * *', tz: 'Europe/Berlin' }, '2026-03-29T00:00:00Z', 3)).toEqual([
      '2026-03-29T00:30:00.000Z', // 01:30 CET
      '2026-03-29T01:30:00.000Z', // 03:30 CEST: an hour apart in real time
      '2026-03-29T02:30:00.000Z',
    ]);
  });

  it('America/New_York: 07:00 stays 07:00 local, so it moves an hour in UTC', () => {
    expect(times({ cron: '0 7 * * *', tz: 'America/New_York' }, '2026-03-07T00:00:00Z', 3)).toEqual(
      [
        '2026-03-07T12:00:00.000Z', // 07:00 EST
        '2026-03-08T11:00:00.000Z', // 07:00 EDT
        '2026-03-09T11:00:00.000Z',
      ],
    );
    expect(times({ cron: '0 7 * * *', tz: 'America/New_York' }, '2026-10-31T00:00:00Z', 3)).toEqual(
      [
        '2026-10-31T11:00:00.000Z', // 07:00 EDT
        '2026-11-01T12:00:00.000Z', // 07:00 EST
        '2026-11-02T12:00:00.000Z',
      ],
    );
  });

  it('America/New_York: the missing 02:30 fires at 03:30 EDT, the doubled 01:30 once', () => {
    expect(
      times({ cron: '30 2 * * *', tz: 'America/New_York' }, '2026-03-08T00:00:00Z', 2),
    ).toEqual([
      '2026-03-08T07:30:00.000Z', // 03:30 EDT
      '2026-03-09T06:30:00.000Z', // 02:30 EDT
    ]);
    expect(
      times({ cron: '30 1 * * *', tz: 'America/New_York' }, '2026-11-01T00:00:00Z', 2),
    ).toEqual([
      '2026-11-01T05:30:00.000Z', // 01:30 EDT; not again at 01:30 EST (06:30Z)
      '2026-11-02T06:30:00.000Z', // 01:30 EST
    ]);
  });

  it('reads a cron without a zone as UTC, whatever the zone of the machine', () => {
    expect(times({ cron: '0 7 * * *' }, '2026-03-29T00:00:00Z', 1)).toEqual([
      '2026-03-29T07:00:00.000Z',
    ]);
  });
});

describe('fire times', () => {
  it('includes the first time when it is a fire, then steps by every', () => {
    expect(times({ every: 90_000 }, '2026-01-01T00:00:00Z', 3)).toEqual([
      '2026-01-01T00:00:00.000Z',
      '2026-01-01T00:01:30.000Z',
      '2026-01-01T00:03:00.000Z',
    ]);
  });

  it('stops at endAt and starts no earlier than startAt', () => {
    const rhythm = {
      cron: '0 0 * * *',
      startAt: '2026-05-03T12:00:00Z',
      endAt: '2026-05-05T00:00:00Z',
    };
    expect(times(rhythm, '2026-05-01T00:00:00Z', 5)).toEqual([
      '2026-05-04T00:00:00.000Z',
      '2026-05-05T00:00:00.000Z',
    ]);
  });

  it('knows the interval after a fire, for the missed-run rule', () => {
    expect(intervalAfter({ every: 5_000 }, 0)).toBe(5_000);
    expect(intervalAfter({ cron: '0 7 * * 1' }, at('2026-11-23T07:00:00Z'))).toBe(7 * 86_400_000);
    // the day Berlin falls back is 25 hours long
    expect(
      intervalAfter({ cron: '0 12 * * *', tz: 'Europe/Berlin' }, at('2026-10-24T10:00:00Z')),
    ).toBe(25 * 3_600_000);
  });
});
