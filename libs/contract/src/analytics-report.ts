import { z } from 'zod';
import { analyticsName } from './analytics.ts';

/**
 * The read side of analytics (`GET /v1/analytics[/{event}]`): the query string and the
 * answers. The producer checks queries with these schemas and documents them in OpenAPI;
 * the client takes its types from them.
 */

/** Bucket sizes, in seconds. Buckets start at multiples of their size since the epoch (UTC). */
export const granularities = { minute: 60, hour: 3_600, day: 86_400 } as const;
export type Granularity = keyof typeof granularities;
export const granularityNames = Object.keys(granularities) as Granularity[];

/** Most buckets one query may ask for: 25 hours of minutes, 62 days of hours, 4 years of days. */
export const MAX_BUCKETS = 1_500;
/** Most properties one query may ask the top values of, and most values per property. */
export const MAX_TOP_PROPERTIES = 10;
export const MAX_TOP_LIMIT = 100;

const time = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()])
  .meta({ description: 'ISO 8601 time with an offset (`2026-11-24T10:00:00Z`) or a UTC date' });

/** A whole number in a query string; documented as the integer it stands for (job listings too). */
export const positiveInt = (max: number, fallback: number, description: string) =>
  z
    .string()
    .regex(/^[0-9]{1,6}$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.int().min(1).max(max))
    .default(fallback)
    .meta({
      description,
      override: ({ jsonSchema }: { jsonSchema: Record<string, unknown> }) => {
        delete jsonSchema.pattern;
        Object.assign(jsonSchema, { type: 'integer', minimum: 1, maximum: max, default: fallback });
      },
    });

/** `GET /v1/analytics/{event}`: which range, how fine, which properties' top values. */
export const analyticsQuery = z.strictObject({
  from: time
    .optional()
    .meta({ description: 'Start (inclusive), rounded down to the granularity; default: 24 h ago' }),
  to: time.optional().meta({
    description:
      'End (exclusive), rounded up to the granularity; default: the end of the current bucket',
  }),
  granularity: z.enum(granularityNames).default('hour').meta({ description: 'Bucket size' }),
  top: z
    .string()
    .max(1_100)
    .transform((text) => [...new Set(text.split(',').map((name) => name.trim()))])
    .pipe(z.array(analyticsName).max(MAX_TOP_PROPERTIES))
    .optional()
    .meta({
      type: 'string',
      description: `Comma-separated string properties (at most ${MAX_TOP_PROPERTIES}) whose most frequent values to list`,
    }),
  limit: positiveInt(MAX_TOP_LIMIT, 10, 'Values per `top` property'),
});
export type AnalyticsQuery = z.input<typeof analyticsQuery>;

/** `GET /v1/analytics`: how many event names to list. */
export const eventListQuery = z.strictObject({
  limit: positiveInt(1_000, 100, 'Most names to list'),
});

const count = z.int().min(0);
const uniqueUsers = count.meta({
  description: 'Distinct userId/anonymousId, from HyperLogLog: approximate (standard error 0.81%)',
});

export const analyticsReport = z
  .object({
    event: z.string(),
    granularity: z.enum(granularityNames),
    from: z.string().meta({ description: 'Start of the first bucket' }),
    to: z.string().meta({ description: 'End of the last bucket (exclusive)' }),
    buckets: z
      .array(z.object({ start: z.string(), count, uniqueUsers }))
      .meta({ description: 'Every bucket of the range, in order; zero where nothing happened' }),
    total: z.object({ count, uniqueUsers }),
    top: z
      .record(z.string(), z.array(z.object({ value: z.string(), count })))
      .meta({ description: 'Per property asked for: its most frequent values, most first' }),
  })
  .meta({ id: 'AnalyticsReport' });
export type AnalyticsReport = z.output<typeof analyticsReport>;

export const eventList = z
  .object({
    events: z.array(z.object({ name: z.string(), lastSeen: z.string() })).meta({
      description: 'Most recently seen first; lastSeen is when an event of it last arrived',
    }),
    total: count.meta({ description: 'Event names known, listed or not' }),
  })
  .meta({ id: 'EventList' });
export type EventList = z.output<typeof eventList>;
