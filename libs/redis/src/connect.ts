import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { type ConnectionRole, createRedis, redisOptions } from './connection.ts';
import { checkDurability, inspectDurability, replicasOf } from './durability.ts';
import { describeLocation, type RedisLocation } from './location.ts';

export class RedisUnreachableError extends Error {
  override name = 'RedisUnreachableError';
}

/**
 * Connect for an app's start-up: fail with a message that says what to do when Redis does not
 * answer, then refuse (or warn about) a Redis that would lose jobs. Connection errors after
 * start are logged once per distinct message, since ioredis retries every second or two.
 */
export async function connectRedis(
  where: RedisLocation | string,
  role: ConnectionRole,
  options: {
    requireDurable: boolean;
    logger: Logger;
    /** Send the commands issued in one tick in one write (many concurrent jobs, one socket). */
    autoPipelining?: boolean;
    /**
     * Fail a command that has no answer after this long (never for blocking commands): a
     * frozen or partitioned Redis keeps the socket open, and without it a request waits for
     * as long as the freeze lasts.
     */
    commandTimeoutMs?: number;
  },
) {
  const location: RedisLocation =
    typeof where === 'string' ? { mode: 'single', url: where } : where;
  const redis = createRedis(location, role, {
    lazyConnect: true,
    enableAutoPipelining: options.autoPipelining ?? false,
    ...(options.commandTimeoutMs ? { commandTimeout: options.commandTimeoutMs } : {}),
  });
  let lastError = '';
  redis.on('error', (error: Error) => {
    if (error.message === lastError) return;
    lastError = error.message;
    options.logger.warn({ err: error }, 'redis connection error');
  });
  redis.on('ready', () => {
    if (lastError) options.logger.info('redis connection back');
    lastError = '';
  });
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw new RedisUnreachableError(
      `Cannot reach Redis at ${describeLocation(location)} (${(error as Error).message}). ` +
        (location.mode === 'single'
          ? 'Start one (npm start starts a local redis-server for you), or set REDIS_URL to a running Redis.'
          : 'Check REDIS_SENTINELS and REDIS_SENTINEL_NAME, and that a sentinel names a primary that answers.'),
    );
  }
  try {
    const report = await checkDurability(redis, {
      require: options.requireDurable,
      warn: (message) => options.logger.warn(message),
      others: location.mode === 'sentinel' ? await promotable(redis, location) : [],
    });
    options.logger.info(
      { redis: describeLocation(location), aof: report.appendonly },
      'redis connected',
    );
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  return redis;
}

/** A Sentinel group's replicas, each checked over a short-lived connection of its own. */
async function promotable(redis: Redis, location: RedisLocation) {
  const { sentinels, name, role, sentinelUsername, sentinelPassword, ...node } = redisOptions(
    location,
    'producer',
  );
  return (await replicasOf(redis)).map(({ host, port }) => ({
    name: `Replica ${host}:${port}`,
    inspect: async () => {
      const replica = new Redis({
        ...node,
        host,
        port,
        lazyConnect: true,
        retryStrategy: () => null,
      });
      try {
        await replica.connect();
        return await inspectDurability(replica);
      } finally {
        replica.disconnect();
      }
    },
  }));
}
