import type { RequestHandler } from 'express';
import type { Deps } from '../deps.ts';
import { withRedis } from '../redis-errors.ts';
import { noSchedule, scheduleIdParam, sourceChecked } from '../schedule-param.ts';

/** DELETE /v1/schedules/{id}: no more fires, history gone; a schedule of the file answers 409. */
export const deleteSchedule =
  ({ schedules, redis, logger }: Deps): RequestHandler =>
  async (req, res) => {
    const id = scheduleIdParam(req);
    const removed = await withRedis(redis, () => sourceChecked(() => schedules.remove(id, 'api')));
    if (!removed) throw noSchedule(id);
    logger.info({ schedule: id }, 'schedule deleted');
    res.json({ id, deleted: true });
  };
