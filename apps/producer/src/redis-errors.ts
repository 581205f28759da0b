import { HttpProblem } from '@errand/http';
import { commandTimeoutOf, type RedisClient, withTimeout } from '@errand/redis';

/** How often a connection that stopped answering is probed until it answers again. */
const PROBE_EVERY_MS = 250;

/** Connections with a command timed out and no answer since: requests fail fast meanwhile. */
const silent = new WeakSet<RedisClient>();

/**
 * Run a Redis operation for a request; when Redis cannot serve it, answer 503 with
 * Retry-After instead of a 500 or a hang, so callers retry:
 * - not connected → at once;
 * - connected but silent (frozen, partitioned): the operation as a whole gets the
 *   connection's `commandTimeout`. ioredis times each command from when it is written, and
 *   an auto-pipeline waits for the one before it, so commands queued behind a silent Redis
 *   would each wait one more timeout. After a timeout the connection counts as silent and
 *   requests get their 503 at once, until a PING is answered again;
 * - out of memory → `redis-full`.
 */
export async function withRedis<T>(redis: RedisClient, operation: () => Promise<T>): Promise<T> {
  if (redis.status !== 'ready') throw redisUnavailable(redis.status);
  if (silent.has(redis)) throw redisSilent();
  try {
    const ms = commandTimeoutOf(redis);
    // "Command timed out": the message of ioredis' own commandTimeout, which redisProblem maps.
    return await (ms ? withTimeout(operation(), ms, 'Command') : operation());
  } catch (error) {
    throw redisProblem(redis, error);
  }
}

/** Probe a silent connection until it answers; requests get a fast 503 meanwhile. */
function markSilent(redis: RedisClient) {
  if (silent.has(redis)) return;
  silent.add(redis);
  const probe = () => {
    redis.ping().then(
      () => silent.delete(redis),
      () => setTimeout(probe, PROBE_EVERY_MS).unref(),
    );
  };
  probe();
}

/**
 * The 503 for an error of a Redis command, or the error itself when Redis did answer (a bug,
 * a refused command, a rate-limit verdict). A timed-out command may still run once Redis
 * wakes up: its 503 says so, and a retry with the same Idempotency-Key cannot make a second job.
 */
export function redisProblem(redis: RedisClient, error: unknown): unknown {
  if (error instanceof HttpProblem || !(error instanceof Error)) return error;
  const { message } = error;
  if (message.includes('OOM command not allowed') || refusedInMulti(error, 'OOM command')) {
    return new HttpProblem(
      'redis-full',
      'Redis is out of memory (maxmemory reached); nothing was changed. Try again later.',
      { headers: { 'Retry-After': '5' } },
    );
  }
  if (message === 'Command timed out') {
    markSilent(redis);
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

/**
 * Whether a MULTI failed because Redis refused one of its commands with `text`: EXEC then
 * answers only `EXECABORT` (nothing ran), and ioredis keeps the refusals in `previousErrors`.
 */
const refusedInMulti = (error: Error, text: string) =>
  ((error as { previousErrors?: unknown[] }).previousErrors ?? []).some((e) =>
    String((e as Error | undefined)?.message).includes(text),
  );

/** The 503 of a request Redis could not serve: nothing was changed, try again in a second. */
export const redisUnavailable = (status: string) =>
  new HttpProblem(
    'redis-unavailable',
    `Redis is not reachable (connection ${status}); nothing was changed.`,
    { headers: { 'Retry-After': '1' } },
  );

const redisSilent = () =>
  new HttpProblem(
    'redis-unavailable',
    'Redis stopped answering (a command timed out and none has been answered since); nothing was changed.',
    { headers: { 'Retry-After': '1' } },
  );
