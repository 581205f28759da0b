import { deliveriesQuery } from '@errand/contract';
import { readDeliveryLog, subscriptionStore } from '@errand/outbound';
import type { RequestHandler } from 'express';
import type { Deps } from '../deps.ts';
import { withRedis } from '../redis-errors.ts';
import { parseParams } from '../validation.ts';
import { noWebhook, webhookIdParam } from '../webhook-param.ts';

/** GET /v1/webhooks/{id}/deliveries: its last delivery attempts, newest first. */
export const listWebhookDeliveries =
  ({ redis, prefix }: Deps): RequestHandler =>
  async (req, res) => {
    const id = webhookIdParam(req);
    const { limit } = parseParams(deliveriesQuery, req.query);
    const [subscription, deliveries] = await withRedis(redis, () =>
      Promise.all([
        subscriptionStore(redis, prefix).get(id),
        readDeliveryLog(redis, prefix, id, limit),
      ]),
    );
    if (!subscription) throw noWebhook(id);
    res.json({ deliveries });
  };
