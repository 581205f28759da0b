import { HttpProblem } from '@errand/http';
import type { RequestHandler } from 'express';
import type { Deps } from '../deps.ts';
import { jobIdOf, jobTypeOf } from '../job-type.ts';
import { readJob } from '../job-view.ts';
import { withRedis } from '../redis-errors.ts';

/** GET /v1/jobs/{type}/{id}: state, attempts, progress, result or failure, timestamps. */
export const getJob =
  ({ queues, redis }: Deps): RequestHandler =>
  async (req, res) => {
    const type = jobTypeOf(req.params.type);
    const id = jobIdOf(req.params.id);
    const view = await withRedis(redis, () => readJob(queues[type], type, id));
    if (!view) throw new HttpProblem('job-not-found', `No ${type} job has id "${id}".`);
    res.json(view);
  };
