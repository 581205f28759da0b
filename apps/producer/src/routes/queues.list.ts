import { readQueueStates } from '@errand/queues';
import type { RequestHandler } from 'express';
import type { Deps } from '../deps.ts';
import { withRedis } from '../redis-errors.ts';

/** GET /v1/queues: per queue, counts by state (queue depth), paused, age of the oldest waiting job. */
export const listQueues =
  ({ queues, redis }: Deps): RequestHandler =>
  async (_req, res) => {
    // The API shows no workers: no CLIENT LIST for it.
    const states = await withRedis(redis, () => readQueueStates(queues, redis, { workers: false }));
    res.json({
      queues: states.map(({ type, queue, counts, paused, oldestWaitingSeconds }) => ({
        type,
        queue,
        counts,
        paused,
        oldestWaitingSeconds,
      })),
    });
  };
