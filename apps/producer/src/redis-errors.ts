import { HttpProblem } from '@errand/http';
import type { Redis } from 'ioredis';

/**
 * Run a Redis operation for a request; when Redis cannot serve it (not connected, no answer
 * within the command timeout, out of memory), answer 503 with Retry-After instead of a 500,
 * so callers retry instead of giving up.
 */
export async function withRedis<T>(redis: Redis, operation: () => Promise<T>): Promise<T> {
  if (redis.status !== 'ready') throw redisUnavailable(redis.status);
  try {
    return await operation();
  } catch (error) {
    throw redisProblem(redis, error);
  }
}

/**
 * The 503 for an error of a Redis command, or the error itself when Redis did answer (a bug,
 * a refused command). A timed-out command may still run once Redis wakes up: its 503 says so,
 * and a retry with the same Idempotency-Key cannot make a second job.
 */
export function redisProblem(redis: Redis, error: unknown): unknown {
  if (error instanceof HttpProblem) return error;
  const message = String((error as Error | undefined)?.message ?? error);
  if (message.includes('OOM command not allowed')) {
    return new HttpProblem(
      'redis-full',
      'Redis is out of memory (maxmemory reached); nothing was changed. Try again later.',
      { headers: { 'Retry-After': '5' } },
    );
  }
  if (message === 'Command timed out') {
    return new HttpProblem(
      'redis-unavailable',
      'Redis did not answer in time. The request may or may not have been applied: ' +
        'retry it with the same Idempotency-Key.',
      { headers: { 'Retry-After': '1' } },
    );
  }
  if (
    redis.status !== 'ready' ||
    /Stream isn't writeable|Connection is closed|ECONN|LOADING/.test(message)
  ) {
    return redisUnavailable(redis.status);
  }
  return error;
}

/** The 503 of a request Redis could not serve: nothing was changed, try again in a second. */
export const redisUnavailable = (status: string) =>
  new HttpProblem(
    'redis-unavailable',
    `Redis is not reachable (connection ${status}); nothing was changed.`,
    { headers: { 'Retry-After': '1' } },
  );
