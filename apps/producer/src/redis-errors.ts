import { HttpProblem } from '@errand/http';
import type { Redis } from 'ioredis';

/**
 * Run a Redis operation for a request; while Redis is not connected, answer 503 with
 * Retry-After instead of a 500, so callers retry instead of giving up.
 */
export async function withRedis<T>(redis: Redis, operation: () => Promise<T>): Promise<T> {
  if (redis.status !== 'ready') throw redisUnavailable(redis.status);
  try {
    return await operation();
  } catch (error) {
    if (
      redis.status !== 'ready' ||
      /Stream isn't writeable|Connection is closed|ECONN/.test(String(error))
    ) {
      throw redisUnavailable(redis.status);
    }
    throw error;
  }
}

/** The 503 of a request Redis could not serve: nothing was changed, try again in a second. */
export const redisUnavailable = (status: string) =>
  new HttpProblem(
    'redis-unavailable',
    `Redis is not reachable (connection ${status}); nothing was changed.`,
    { headers: { 'Retry-After': '1' } },
  );
