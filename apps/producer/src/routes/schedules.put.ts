import { scheduleBody } from '@errand/contract';
import type { RequestHandler } from 'express';
import type { Deps } from '../deps.ts';
import { requireJson } from '../job-type.ts';
import { withRedis } from '../redis-errors.ts';
import { scheduleIdParam, sourceChecked } from '../schedule-param.ts';
import { parseOr400 } from '../validation.ts';

/**
 * PUT /v1/schedules/{id}: create (201) or replace (200) a schedule; the same body again is a
 * 200 that changes nothing. The job's payload is checked against its type now, so the
 * schedule can never make an invalid job. A schedule of the file answers 409.
 */
export const putSchedule =
  ({ schedules, redis, logger }: Deps): RequestHandler =>
  async (req, res) => {
    const id = scheduleIdParam(req);
    requireJson(req);
    const definition = parseOr400(scheduleBody, req.body);
    const { created, changed } = await withRedis(redis, () =>
      sourceChecked(() => schedules.put(id, definition, 'api')),
    );
    if (changed) logger.info({ schedule: id, created }, 'schedule written');
    const schedule = await withRedis(redis, () => schedules.get(id));
    res
      .status(created ? 201 : 200)
      .location(`/v1/schedules/${id}`)
      .json(schedule);
  };
