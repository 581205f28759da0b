import { subscriptionStore } from '@errand/outbound';
import type { RequestHandler } from 'express';
import type { Deps } from '../deps.ts';
import { withRedis } from '../redis-errors.ts';
import { viewOf } from '../webhook-param.ts';

/** GET /v1/webhooks: every subscription, by id, with what its deliveries found. */
export const listWebhooks =
  ({ redis, prefix }: Deps): RequestHandler =>
  async (_req, res) => {
    const all = await withRedis(redis, () => subscriptionStore(redis, prefix).list());
    res.json({ webhooks: all.map(({ subscription, state }) => viewOf(subscription, state)) });
  };
