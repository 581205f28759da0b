import type { RequestHandler } from 'express';
import type { Deps } from '../deps.ts';
import { jobNotFound, jobPathOf } from '../job-type.ts';
import { readJob } from '../job-view.ts';
import { withRedis } from '../redis-errors.ts';

/** GET /v1/jobs/{type}/{id}: state, attempts, progress, result or failure, timestamps. */
export const getJob =
  ({ queues, redis }: Deps): RequestHandler =>
  async (req, res) => {
    const { type, id } = jobPathOf(req);
    const view = await withRedis(redis, () => readJob(queues[type], type, id));
    if (!view) throw jobNotFound(type, id);
    res.json(view);
  };
