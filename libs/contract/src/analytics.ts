import { z } from 'zod';

const name = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits, "_", ".", ":" and "-" only');

const event = z
  .strictObject({
    id: z.string().min(1).max(128),
    name,
    userId: z.string().min(1).max(256).optional(),
    anonymousId: z.string().min(1).max(256).optional(),
    timestamp: z.iso.datetime({ offset: true }),
    properties: z
      .record(name, z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]))
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
