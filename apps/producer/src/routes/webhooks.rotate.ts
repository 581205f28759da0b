import type { RotatedSecret } from '@errand/contract';
import { subscriptionStore } from '@errand/outbound';
import type { RequestHandler } from 'express';
import type { Deps } from '../deps.ts';
import { withRedis } from '../redis-errors.ts';
import { noWebhook, webhookIdParam } from '../webhook-param.ts';

/**
 * POST /v1/webhooks/{id}/rotate-secret: a new signing secret, shown this once; deliveries are
 * signed with the previous one too for another 24 h, so the receiver can change over.
 */
export const rotateWebhookSecret =
  ({ redis, prefix, logger }: Deps): RequestHandler =>
  async (req, res) => {
    const id = webhookIdParam(req);
    const rotated = await withRedis(redis, () => subscriptionStore(redis, prefix).rotateSecret(id));
    if (!rotated) throw noWebhook(id);
    logger.info({ webhook: id }, 'webhook secret rotated');
    const { previousValidUntil: until } = rotated;
    const answer: RotatedSecret = {
      secret: rotated.secret,
      previousValidUntil: until === undefined ? null : new Date(until).toISOString(),
    };
    res.status(201).json(answer);
  };
