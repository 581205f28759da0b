import type { RequestHandler } from 'express';
import type { Deps } from '../deps.ts';
import { jobNotFound, jobPathOf } from '../job-type.ts';
import { readJobWithLinks } from '../output-links.ts';
import { withRedis } from '../redis-errors.ts';

/**
 * GET /v1/jobs/{type}/{id}: state, attempts, progress, result or failure, timestamps. An
 * image job's outputs carry download URLs signed now, not when the job ended.
 */
export const getJob =
  ({ queues, redis, links, logger }: Deps): RequestHandler =>
  async (req, res) => {
    const { type, id } = jobPathOf(req);
    const view = await withRedis(redis, () =>
      readJobWithLinks(queues[type], type, id, { links, logger }),
    );
    if (!view) throw jobNotFound(type, id);
    res.json(view);
  };
