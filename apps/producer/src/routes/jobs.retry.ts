import { HttpProblem } from '@errand/http';
import { retryByHand } from '@errand/queues';
import type { RequestHandler } from 'express';
import type { Deps } from '../deps.ts';
import { jobNotFound, jobPathOf } from '../job-type.ts';
import { withRedis } from '../redis-errors.ts';

/** POST /v1/jobs/{type}/{id}/retry: run a failed job again, with a fresh set of attempts. */
export const retryJob =
  ({ queues, redis }: Deps): RequestHandler =>
  async (req, res) => {
    const { type, id } = jobPathOf(req);
    const job = await withRedis(redis, () => queues[type].getJob(id));
    if (!job) throw jobNotFound(type, id);
    const state = await withRedis(redis, () => job.getState());
    if (state !== 'failed') {
      throw new HttpProblem('conflict', `Job ${id} is ${state}; only failed jobs can be retried.`);
    }
    await withRedis(redis, () => retryByHand(redis, job));
    res.status(202).location(`/v1/jobs/${type}/${id}`).json({ id, type, state: 'waiting' });
  };
