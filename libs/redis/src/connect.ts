import type { Logger } from 'pino';
import { type ConnectionRole, createRedis, redactRedisUrl } from './connection.ts';
import { checkDurability } from './durability.ts';

export class RedisUnreachableError extends Error {
  override name = 'RedisUnreachableError';
}

/**
 * Connect for an app's start-up: fail with a message that says what to do when Redis does not
 * answer, then refuse (or warn about) a Redis that would lose jobs. Connection errors after
 * start are logged once per distinct message, since ioredis retries every second or two.
 */
export async function connectRedis(
  url: string,
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
  const redis = createRedis(url, role, {
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
      `Cannot reach Redis at ${redactRedisUrl(url)} (${(error as Error).message}). ` +
        'Start one (npm start starts a local redis-server for you), or set REDIS_URL to a running Redis.',
    );
  }
  try {
    const report = await checkDurability(redis, {
      require: options.requireDurable,
      warn: (message) => options.logger.warn(message),
    });
    options.logger.info({ redis: redactRedisUrl(url), aof: report.appendonly }, 'redis connected');
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  return redis;
}
