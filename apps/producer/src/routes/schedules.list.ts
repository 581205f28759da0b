import type { RequestHandler } from 'express';
import type { Deps } from '../deps.ts';
import { withRedis } from '../redis-errors.ts';

/** GET /v1/schedules: every schedule with its next fires, last run, source and state. */
export const listSchedules =
  ({ schedules, redis }: Deps): RequestHandler =>
  async (_req, res) => {
    res.json({ schedules: await withRedis(redis, () => schedules.list()) });
  };
