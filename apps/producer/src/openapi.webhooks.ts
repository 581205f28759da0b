import {
  createdSubscription,
  deliveriesQuery,
  deliveryAttempt,
  replayAnswer,
  replayRequest,
  rotatedSecret,
  subscriptionBody,
  subscriptionId,
  subscriptionView,
} from '@errand/contract';
import { DELIVERY_LOG_LENGTH } from '@errand/outbound';
import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import type { OpenApiParts } from './openapi.dead-letter.ts';

const path = z.object({ id: subscriptionId.meta({ description: 'Subscription id' }) });
const toTargets =
  "The URL must be one of the calling key's allowed targets (`allowedTargets` in `API_KEYS`).";

/** The webhook subscriptions and the key's own signing secret, in the OpenAPI document. */
export function webhookPaths({
  op,
  errors,
  json,
}: Pick<OpenApiParts, 'op' | 'errors' | 'json'>): ZodOpenApiPathsObject {
  const view = json(subscriptionView);
  const secret = json(rotatedSecret);
  return {
    '/v1/webhooks': {
      get: op(
        'listWebhooks',
        'Every webhook subscription, with what its deliveries found',
        'admin',
        {
          responses: {
            200: {
              description: 'The subscriptions',
              ...json(z.object({ webhooks: z.array(subscriptionView) })),
            },
            ...errors(),
          },
        },
      ),
    },
    '/v1/webhooks/{id}': {
      get: op('getWebhook', 'One webhook subscription (never its secret)', 'admin', {
        requestParams: { path },
        responses: { 200: { description: 'The subscription', ...view }, ...errors(400, 404) },
      }),
      put: op('putWebhook', 'Create or replace a webhook subscription', 'admin', {
        description: `${toTargets} Writing it again enables a disabled subscription. Its signing secret is answered on creation only.`,
        requestParams: { path },
        requestBody: { required: true, ...json(subscriptionBody) },
        responses: {
          200: { description: 'Replaced (the secret is kept)', ...view },
          201: {
            description: 'Created, with its signing secret (shown this once)',
            ...json(createdSubscription),
          },
          ...errors(400, 413, 415),
        },
      }),
      delete: op('deleteWebhook', 'Delete a webhook subscription and its delivery log', 'admin', {
        requestParams: { path },
        responses: { 204: { description: 'Deleted' }, ...errors(400, 404) },
      }),
    },
    '/v1/webhooks/{id}/rotate-secret': {
      post: op('rotateWebhookSecret', 'A new signing secret for a subscription', 'admin', {
        description:
          'The new secret is shown this once; deliveries are signed with the previous one too until `previousValidUntil` (24 h).',
        requestParams: { path },
        responses: { 201: { description: 'The new secret', ...secret }, ...errors(400, 404) },
      }),
    },
    '/v1/webhooks/{id}/deliveries': {
      get: op(
        'listWebhookDeliveries',
        'The last delivery attempts of a subscription, newest first',
        'admin',
        {
          description: `The log keeps the last ${DELIVERY_LOG_LENGTH} attempts.`,
          requestParams: { path, query: deliveriesQuery },
          responses: {
            200: {
              description: 'The attempts',
              ...json(z.object({ deliveries: z.array(deliveryAttempt) })),
            },
            ...errors(400, 404),
          },
        },
      ),
    },
    '/v1/webhooks/{id}/replay': {
      post: op('replayWebhook', 'Deliver again the events of a time range', 'admin', {
        description:
          'Reads one page (`limit`) of the logged events of finished jobs in the range, oldest first, and delivers again those the subscription wants; pass the answered `cursor` to go on. A disabled subscription answers 409: PUT it again first.',
        requestParams: { path },
        requestBody: { required: true, ...json(replayRequest) },
        responses: {
          202: { description: 'The deliveries are queued', ...json(replayAnswer) },
          ...errors(400, 404, 409, 413, 415),
        },
      }),
    },
    '/v1/signing-secret': {
      post: op('rotateSigningSecret', 'A new signing secret for the calling key', 'enqueue', {
        description:
          "It signs the key's http jobs and its jobs' callbacks (Standard Webhooks). Shown this once; the previous one keeps signing until `previousValidUntil` (24 h).",
        responses: { 201: { description: 'The new secret', ...secret }, ...errors() },
      }),
    },
  };
}
