import { z } from 'zod';
import { outboundUrl } from './job-meta.ts';

/*
 * Completion webhooks: what Errand tells a service when a job finishes, by a subscription
 * (`/v1/webhooks/{id}`) or by the job's own `callbackUrl`. Each event is delivered by a job of
 * the internal `webhook` type, signed as Standard Webhooks v1 says.
 */

/**
 * - `job.completed`: the job's processor returned a result;
 * - `job.failed`: the job failed for good on an error no retry can fix (a permanent failure);
 * - `job.dead`: the job failed on its last attempt (its attempts ran out).
 * Both failure events fire once, when the job fails for good, never per failed attempt.
 */
export const webhookEventTypes = ['job.completed', 'job.failed', 'job.dead'] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];

/** A key name, as `API_KEYS` allows them. */
export const producerName = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'an API key name');

/** The body of a delivery (the event's id travels in the `webhook-id` header). */
export const webhookEvent = z
  .strictObject({
    type: z.enum(webhookEventTypes),
    timestamp: z.iso.datetime(),
    data: z.strictObject({
      jobType: z.string(),
      jobId: z.string(),
      state: z.enum(['completed', 'failed']),
      producer: z.string().nullable(),
      attemptsMade: z.int(),
      result: z.unknown().optional(),
      failedReason: z.string().optional(),
      finishedAt: z.iso.datetime(),
    }),
  })
  .meta({ id: 'WebhookEvent' });
export type WebhookEvent = z.output<typeof webhookEvent>;

export const subscriptionId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, "_" and "-", at most 64');

/** Where a delivery goes: a subscription, or a job's callbackUrl (signed with its key's secret). */
export const deliveryTarget = z.union([
  z.strictObject({ subscription: subscriptionId }),
  z.strictObject({ callbackUrl: outboundUrl, producer: producerName }),
]);
export type DeliveryTarget = z.output<typeof deliveryTarget>;

/** The payload of a `webhook` job: one event to one target. */
export const deliveryPayload = z.strictObject({
  eventId: z.string().regex(/^msg_[A-Za-z0-9]{1,60}$/),
  event: webhookEvent,
  to: deliveryTarget,
});
export type DeliveryPayload = z.output<typeof deliveryPayload>;

export type DeliveryResult =
  | { status: number; durationMs: number }
  | { skipped: 'subscription-deleted' | 'subscription-disabled' | 'target-not-allowed' };

/** `PUT /v1/webhooks/{id}`. `types` and `producers` narrow it; without them, every job. */
export const subscriptionBody = z
  .strictObject({
    url: outboundUrl,
    events: z.array(z.enum(webhookEventTypes)).min(1).max(webhookEventTypes.length),
    types: z.array(z.string().max(64)).min(1).max(50).optional(),
    producers: z.array(producerName).min(1).max(100).optional(),
    description: z.string().max(500).optional(),
  })
  .meta({ id: 'WebhookSubscriptionBody' });
export type SubscriptionBody = z.output<typeof subscriptionBody>;

/** One attempt of one delivery, as the subscription's log keeps it (newest first). */
export const deliveryAttempt = z
  .object({
    at: z.iso.datetime(),
    eventId: z.string(),
    eventType: z.enum(webhookEventTypes),
    jobType: z.string(),
    jobId: z.string(),
    attempt: z.int(),
    status: z.int().nullable().meta({ description: 'HTTP status; null when none came' }),
    durationMs: z.int(),
    outcome: z.enum(['delivered', 'retrying', 'failed', 'disabled']),
    error: z.string().nullable(),
  })
  .meta({ id: 'WebhookDeliveryAttempt' });
export type DeliveryAttempt = z.output<typeof deliveryAttempt>;
