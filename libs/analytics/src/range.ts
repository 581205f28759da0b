import { type Granularity, granularities, MAX_BUCKETS } from '@errand/contract';

/** A query's buckets: from `from` (inclusive) to `to` (exclusive), epoch seconds, aligned. */
export interface BucketRange {
  granularity: Granularity;
  from: number;
  to: number;
}

/** A range that cannot be answered, naming the query field to change. */
export class AnalyticsRangeError extends Error {
  override name = 'AnalyticsRangeError';
  readonly field: 'from' | 'to';

  constructor(field: 'from' | 'to', message: string) {
    super(message);
    this.field = field;
  }
}

const DAY_S = 86_400;
const seconds = (time: string) => Math.floor(Date.parse(time) / 1000);
export const isoOf = (epochS: number) =>
  new Date(epochS * 1000).toISOString().replace('.000Z', 'Z');

/**
 * The buckets a query covers: `from` rounded down and `to` rounded up to the granularity.
 * Without `to`, up to the end of the current bucket; without `from`, 24 hours before `to`.
 */
export function resolveRange(
  query: { from?: string | undefined; to?: string | undefined; granularity: Granularity },
  nowMs: number,
): BucketRange {
  const { granularity } = query;
  const size = granularities[granularity];
  const down = (s: number) => s - (((s % size) + size) % size);
  const end = query.to === undefined ? Math.floor(nowMs / 1000) : seconds(query.to);
  const start = query.from === undefined ? end - DAY_S : seconds(query.from);
  if (end <= start) {
    throw new AnalyticsRangeError(
      'to',
      `"to" (${isoOf(end)}) must be after "from" (${isoOf(start)}).`,
    );
  }
  const from = down(start);
  const to = query.to === undefined ? down(end) + size : down(end - 1) + size;
  const buckets = (to - from) / size;
  if (buckets > MAX_BUCKETS) {
    throw new AnalyticsRangeError(
      'to',
      `From ${isoOf(from)} to ${isoOf(to)} is ${buckets} ${granularity} buckets; at most ${MAX_BUCKETS}: narrow the range or use a coarser granularity.`,
    );
  }
  return { granularity, from, to };
}

/** The start of every bucket in the range, in order. */
export function bucketStarts({ granularity, from, to }: BucketRange): number[] {
  const size = granularities[granularity];
  return Array.from({ length: (to - from) / size }, (_, i) => from + i * size);
}
