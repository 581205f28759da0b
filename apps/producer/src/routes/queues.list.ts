import { jobs, jobTypes } from '@errand/contract';
import type { RequestHandler } from 'express';
import type { Deps } from '../deps.ts';
import { withRedis } from '../redis-errors.ts';

/** GET /v1/queues: per queue, counts by state (queue depth), paused, age of the oldest waiting job. */
export const listQueues =
  ({ queues, redis }: Deps): RequestHandler =>
  async (_req, res) => {
    const now = Date.now();
    const rows = await withRedis(redis, () =>
      Promise.all(
        jobTypes.map(async (type) => {
          const queue = queues[type];
          const [counts, paused, [oldest]] = await Promise.all([
            queue.getJobCounts(
              'waiting',
              'prioritized',
              'delayed',
              'active',
              'completed',
              'failed',
            ),
            queue.isPaused(),
            queue.getJobs(['waiting'], 0, 0, true),
          ]);
          const oldestWaitingSeconds = oldest ? Math.max(0, (now - oldest.timestamp) / 1000) : 0;
          return { type, queue: jobs[type].queue, counts, paused, oldestWaitingSeconds };
        }),
      ),
    );
    res.json({ queues: rows });
  };
