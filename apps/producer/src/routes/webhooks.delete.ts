import { deleteDeliveryLog, subscriptionStore } from '@errand/outbound';
import type { RequestHandler } from 'express';
import type { Deps } from '../deps.ts';
import { withRedis } from '../redis-errors.ts';
import { noWebhook, webhookIdParam } from '../webhook-param.ts';

/**
 * DELETE /v1/webhooks/{id}: no more deliveries (those already queued find it gone and skip),
 * and its delivery log goes too.
 */
export const deleteWebhook =
  ({ redis, prefix, logger }: Deps): RequestHandler =>
  async (req, res) => {
    const id = webhookIdParam(req);
    const removed = await withRedis(redis, async () => {
      const existed = await subscriptionStore(redis, prefix).delete(id);
      await deleteDeliveryLog(redis, prefix, id);
      return existed;
    });
    if (!removed) throw noWebhook(id);
    logger.info({ webhook: id }, 'webhook deleted');
    res.status(204).end();
  };
