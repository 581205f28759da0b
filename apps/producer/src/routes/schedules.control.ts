import type { RequestHandler } from 'express';
import type { Deps } from '../deps.ts';
import { withRedis } from '../redis-errors.ts';
import { noSchedule, scheduleIdParam } from '../schedule-param.ts';

/**
 * POST /v1/schedules/{id}/pause and /resume: stop and restart the fires, file schedules
 * included (a pause survives restarts and reconciles).
 */
const setPaused =
  (paused: boolean) =>
  ({ schedules, redis, logger }: Deps): RequestHandler =>
  async (req, res) => {
    const id = scheduleIdParam(req);
    const record = await withRedis(redis, () => schedules.setPaused(id, paused));
    if (!record) throw noSchedule(id);
    logger.info({ schedule: id, paused }, paused ? 'schedule paused' : 'schedule resumed');
    res.json(await withRedis(redis, () => schedules.get(id)));
  };

export const pauseSchedule = setPaused(true);
export const resumeSchedule = setPaused(false);

/** POST /v1/schedules/{id}/run: fire once now, outside its rhythm; 202 with the job. */
export const runSchedule =
  ({ schedules, redis, logger }: Deps): RequestHandler =>
  async (req, res) => {
    const id = scheduleIdParam(req);
    const run = await withRedis(redis, () => schedules.runNow(id));
    if (!run) throw noSchedule(id);
    logger.info({ schedule: id, jobId: run.jobId }, 'schedule run now');
    res.status(202).json({ schedule: id, type: run.type, jobId: run.jobId });
  };
