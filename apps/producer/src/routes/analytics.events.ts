import { eventListQuery } from '@errand/contract';
import type { RequestHandler } from 'express';
import type { Deps } from '../deps.ts';
import { withRedis } from '../redis-errors.ts';
import { parseParams } from '../validation.ts';

/** GET /v1/analytics: the event names seen, most recently arrived first. */
export const listAnalyticsEvents =
  ({ analytics, redis }: Deps): RequestHandler =>
  async (req, res) => {
    const { limit } = parseParams(eventListQuery, req.query);
    res.json(await withRedis(redis, () => analytics.events(limit)));
  };
