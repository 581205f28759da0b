import { HttpProblem } from '@errand/http';
import type { RequestHandler } from 'express';
import type { Deps } from '../deps.ts';
import { jobNotFound, jobPathOf } from '../job-type.ts';
import { withRedis } from '../redis-errors.ts';

/** The states a job can be cancelled in: it has not started. */
export const CANCELLABLE: ReadonlySet<string> = new Set(['waiting', 'delayed', 'prioritized']);

/** DELETE /v1/jobs/{type}/{id}: cancel a job that has not started; 409 once it has. */
export const cancelJob =
  ({ queues, redis }: Deps): RequestHandler =>
  async (req, res) => {
    const { type, id } = jobPathOf(req);
    const state = await withRedis(redis, () => queues[type].getJobState(id));
    if (state === 'unknown') throw jobNotFound(type, id);
    if (!CANCELLABLE.has(state)) {
      throw new HttpProblem(
        'conflict',
        `Job ${id} is ${state}; only ${[...CANCELLABLE].join(', ')} jobs can be cancelled.`,
      );
    }
    // remove() refuses a job a worker locked in the meantime: that is the same conflict.
    const removed = await withRedis(redis, () => queues[type].remove(id)).catch(() => 0);
    if (removed !== 1)
      throw new HttpProblem('conflict', `Job ${id} started before it could be cancelled.`);
    res.json({ id, type, state: 'cancelled' });
  };
