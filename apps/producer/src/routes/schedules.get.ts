import type { RequestHandler } from 'express';
import type { Deps } from '../deps.ts';
import { withRedis } from '../redis-errors.ts';
import { noSchedule, scheduleIdParam } from '../schedule-param.ts';

/** GET /v1/schedules/{id}: one schedule, with its last 20 runs. */
export const getSchedule =
  ({ schedules, redis }: Deps): RequestHandler =>
  async (req, res) => {
    const id = scheduleIdParam(req);
    const schedule = await withRedis(redis, () => schedules.get(id));
    if (!schedule) throw noSchedule(id);
    res.json(schedule);
  };
