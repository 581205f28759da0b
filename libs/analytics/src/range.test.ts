import { describe, expect, it } from 'vitest';
import { AnalyticsRangeError, bucketStarts, isoOf, resolveRange } from './range.ts';

const now = Date.parse('2026-11-25T10:17:42Z');
const iso = (range: { from: number; to: number }) => [isoOf(range.from), isoOf(range.to)];

describe('analytics query ranges', () => {
  it('defaults to the last 24 hours, up to the end of the current bucket', () => {
    expect(iso(resolveRange({ granularity: 'hour' }, now))).toEqual([
      '2026-11-24T10:00:00Z',
      '2026-11-25T11:00:00Z',
    ]);
    const minutes = resolveRange({ granularity: 'minute' }, now);
    expect(iso(minutes)).toEqual(['2026-11-24T10:17:00Z', '2026-11-25T10:18:00Z']);
    expect(bucketStarts(minutes)).toHaveLength(1441);
    expect(iso(resolveRange({ granularity: 'day' }, now))).toEqual([
      '2026-11-24T00:00:00Z',
      '2026-11-26T00:00:00Z',
    ]);
  });

  it('rounds from down and to up to the granularity; aligned bounds stay', () => {
    const range = resolveRange(
      { granularity: 'hour', from: '2026-11-24T10:30:00+02:00', to: '2026-11-24T12:00:01Z' },
      now,
    );
    expect(iso(range)).toEqual(['2026-11-24T08:00:00Z', '2026-11-24T13:00:00Z']);
    expect(bucketStarts(range).map(isoOf)).toEqual([
      '2026-11-24T08:00:00Z',
      '2026-11-24T09:00:00Z',
      '2026-11-24T10:00:00Z',
      '2026-11-24T11:00:00Z',
      '2026-11-24T12:00:00Z',
    ]);
    const days = resolveRange({ granularity: 'day', from: '2026-11-01', to: '2026-11-08' }, now);
    expect(bucketStarts(days)).toHaveLength(7);
  });

  it('takes 24 hours before a given to, and from a given from up to now', () => {
    expect(iso(resolveRange({ granularity: 'hour', to: '2026-11-20T00:00:00Z' }, now))).toEqual([
      '2026-11-19T00:00:00Z',
      '2026-11-20T00:00:00Z',
    ]);
    expect(iso(resolveRange({ granularity: 'day', from: '2026-11-20' }, now))).toEqual([
      '2026-11-20T00:00:00Z',
      '2026-11-26T00:00:00Z',
    ]);
  });

  it('refuses an empty or inverted range, naming "to"', () => {
    for (const to of ['2026-11-24T10:00:00Z', '2026-11-24T09:00:00Z']) {
      const attempt = () =>
        resolveRange({ granularity: 'hour', from: '2026-11-24T10:00:00Z', to }, now);
      expect(attempt).toThrow(AnalyticsRangeError);
      expect(attempt).toThrow(/must be after "from"/);
    }
  });

  it('refuses more than 1,500 buckets, and says what to do', () => {
    const query = { from: '2026-11-01', to: '2026-11-03T01:00:00Z' };
    expect(
      bucketStarts(
        resolveRange({ ...query, to: '2026-11-02T01:00:00Z', granularity: 'minute' }, now),
      ),
    ).toHaveLength(1500);
    let error: unknown;
    try {
      resolveRange({ ...query, granularity: 'minute' }, now);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(AnalyticsRangeError);
    expect((error as AnalyticsRangeError).field).toBe('to');
    expect((error as Error).message).toMatch(
      /2940 minute buckets; at most 1500.*coarser granularity/,
    );
  });
});
