import { z } from 'zod';
import { positiveInt } from './analytics-report.ts';
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

/** A subscription as the API shows it: what the admin set, and what deliveries found; never its secrets. */
export const subscriptionView = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.enum(webhookEventTypes)),
    types: z.array(z.string()).nullable().meta({ description: 'null: every job type' }),
    producers: z.array(z.string()).nullable().meta({ description: 'null: every producer' }),
    description: z.string().nullable(),
    owner: z.string().meta({
      description:
        "The API key that last put it: deliveries go only where that key's allowed targets allow",
    }),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    status: z.enum(['enabled', 'disabled']),
    disabled: z
      .object({ at: z.iso.datetime(), reason: z.string() })
      .nullable()
      .meta({ description: 'Why deliveries stopped; a PUT of the subscription re-enables it' }),
    failingSince: z.iso
      .datetime()
      .nullable()
      .meta({ description: 'The first failed delivery since the last one that succeeded' }),
  })
  .meta({ id: 'WebhookSubscription' });
export type SubscriptionView = z.output<typeof subscriptionView>;

/** A new signing secret, shown this once; the one before keeps signing until `previousValidUntil`. */
export const rotatedSecret = z
  .object({
    secret: z.string().meta({ description: 'whsec_…: shown this once' }),
    previousValidUntil: z.iso.datetime().nullable().meta({
      description: 'Until when the previous secret still signs; null when there was none',
    }),
  })
  .meta({ id: 'RotatedSecret' });
export type RotatedSecret = z.output<typeof rotatedSecret>;

/** What `PUT /v1/webhooks/{id}` answers when it creates: the view and the secret, shown this once. */
export const createdSubscription = subscriptionView
  .extend({ secret: z.string().meta({ description: 'whsec_…: shown this once' }) })
  .meta({ id: 'WebhookSubscriptionCreated' });
export type CreatedSubscription = z.output<typeof createdSubscription>;

export const MAX_REPLAY = 1_000;

/** `POST /v1/webhooks/{id}/replay`: deliver again the logged events of a time range. */
export const replayRequest = z
  .strictObject({
    since: z.iso.datetime({ offset: true }).meta({ description: 'Events that finished from then' }),
    until: z.iso
      .datetime({ offset: true })
      .optional()
      .meta({ description: 'Up to then (inclusive); now by default' }),
    limit: z
      .int()
      .min(1)
      .max(MAX_REPLAY)
      .default(100)
      .meta({ description: 'Logged events to read (not all may be wanted by the subscription)' }),
    cursor: z
      .string()
      .regex(/^[0-9]{1,15}-[0-9]{1,15}$/, 'a cursor of an earlier replay')
      .optional()
      .meta({ description: 'The `cursor` of the previous page: go on after it' }),
  })
  .refine((r) => r.until === undefined || Date.parse(r.until) >= Date.parse(r.since), {
    message: 'until must not be before since',
    path: ['until'],
  })
  .meta({ id: 'WebhookReplayRequest' });
export type ReplayRequest = z.input<typeof replayRequest>;

export const replayAnswer = z
  .object({
    enqueued: z.int().meta({ description: 'Deliveries added' }),
    cursor: z
      .string()
      .nullable()
      .meta({ description: 'Where the next page starts; null when the range is done' }),
  })
  .meta({ id: 'WebhookReplay' });
export type ReplayAnswer = z.output<typeof replayAnswer>;

/** `GET /v1/webhooks/{id}/deliveries`: how many attempts to list, newest first. */
export const deliveriesQuery = z.strictObject({
  limit: positiveInt(100, 20, 'Most attempts to list'),
});
