import { z } from 'zod';

/** Event and property names: they become part of Redis keys, so no spaces, braces or `*`. */
export const analyticsName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits, "_", ".", ":" and "-" only');

/** Properties per event; each string property adds a top-value entry per granularity. */
export const MAX_PROPERTIES = 64;

const event = z
  .strictObject({
    id: z.string().min(1).max(128),
    name: analyticsName,
    userId: z.string().min(1).max(256).optional(),
    anonymousId: z.string().min(1).max(256).optional(),
    timestamp: z.iso.datetime({ offset: true }),
    properties: z
      .record(analyticsName, z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]))
      .refine((props) => Object.keys(props).length <= MAX_PROPERTIES, {
        message: `at most ${MAX_PROPERTIES} properties`,
      })
      .optional(),
  })
  .refine((e) => !(e.userId && e.anonymousId), {
    message: 'give userId or anonymousId, not both',
    path: ['anonymousId'],
  });

/** The payload of an analytics job: a batch of events to aggregate. */
export const analyticsPayload = z.strictObject({
  events: z.array(event).min(1).max(1000),
});

export type AnalyticsPayload = z.infer<typeof analyticsPayload>;

export interface AnalyticsResult {
  counted: number;
  duplicates: number;
}
