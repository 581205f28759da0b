import { subscriptionStore } from '@errand/outbound';
import type { RequestHandler } from 'express';
import type { Deps } from '../deps.ts';
import { withRedis } from '../redis-errors.ts';
import { noWebhook, viewOf, webhookIdParam } from '../webhook-param.ts';

/** GET /v1/webhooks/{id}: one subscription (its secret is never shown again). */
export const getWebhook =
  ({ redis, prefix }: Deps): RequestHandler =>
  async (req, res) => {
    const id = webhookIdParam(req);
    const store = subscriptionStore(redis, prefix);
    const [subscription, state] = await withRedis(redis, () =>
      Promise.all([store.get(id), store.state(id)]),
    );
    if (!subscription) throw noWebhook(id);
    res.json(viewOf(subscription, state));
  };
