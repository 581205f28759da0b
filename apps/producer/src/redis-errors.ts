import type { JobType } from '@errand/contract';
import { HttpProblem } from '@errand/http';
import type { Redis } from 'ioredis';
import type { Deps } from './deps.ts';

/**
 * Run a Redis operation for a request; while Redis is not connected, answer 503 with
 * Retry-After instead of a 500, so callers retry instead of giving up.
 */
export async function withRedis<T>(redis: Redis, operation: () => Promise<T>): Promise<T> {
  if (redis.status !== 'ready') throw unavailable(redis.status);
  try {
    return await operation();
  } catch (error) {
    if (
      redis.status !== 'ready' ||
      /Stream isn't writeable|Connection is closed|ECONN/.test(String(error))
    ) {
      throw unavailable(redis.status);
    }
    throw error;
  }
}

const unavailable = (status: string) =>
  new HttpProblem(
    'redis-unavailable',
    `Redis is not reachable (connection ${status}); nothing was changed.`,
    {
      headers: { 'Retry-After': '1' },
    },
  );

/** 503 while the queue holds more waiting jobs than its limit, so callers back off. */
export async function checkDepth(deps: Deps, type: JobType, adding = 1): Promise<void> {
  const limit = deps.maxWaiting[type];
  if (!limit) return;
  const waiting = await withRedis(deps.redis, () =>
    deps.queues[type].getJobCountByTypes('waiting', 'prioritized'),
  );
  if (waiting + adding > limit) {
    throw new HttpProblem(
      'queue-full',
      `The ${type} queue has ${waiting} jobs waiting (limit ${limit}); try later.`,
      {
        headers: { 'Retry-After': '5' },
      },
    );
  }
}
