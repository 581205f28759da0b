import type { RequestHandler } from 'express';
import type { Deps } from '../deps.ts';
import { jobNotFound, jobPathOf } from '../job-type.ts';
import { readJob } from '../job-view.ts';
import { withFreshLinks } from '../output-links.ts';
import { withRedis } from '../redis-errors.ts';

/**
 * GET /v1/jobs/{type}/{id}: state, attempts, progress, result or failure, timestamps. An
 * image job's outputs carry download URLs signed now, not when the job ended.
 */
export const getJob =
  ({ queues, redis, links, logger }: Deps): RequestHandler =>
  async (req, res) => {
    const { type, id } = jobPathOf(req);
    const view = await withRedis(redis, () => readJob(queues[type], type, id));
    if (!view) throw jobNotFound(type, id);
    if (type === 'image') view.result = await withFreshLinks(view.result, links, logger);
    res.json(view);
  };
