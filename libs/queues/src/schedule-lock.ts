import { randomUUID } from 'node:crypto';
import type { RedisClient } from '@errand/redis';

const LOCK_MS = 15_000;
const WAIT_MS = 60_000;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** Delete a lock key only while `holder` still holds it (one atomic script). */
export const releaseLock = (redis: RedisClient, key: string, holder: string) =>
  redis.eval(RELEASE, 1, key, holder);

/**
 * A mutual-exclusion lock in Redis (SET NX PX, released only by its holder): `lock(fn)` runs
 * `fn` while holding it. A holder that dies frees it after 15 s; a waiter gives up after 60 s.
 */
export function makeLock(redis: RedisClient, key: string) {
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    const token = randomUUID();
    const deadline = Date.now() + WAIT_MS;
    while ((await redis.set(key, token, 'PX', LOCK_MS, 'NX')) !== 'OK') {
      if (Date.now() > deadline) {
        throw new Error(`another process has held ${key} for over ${WAIT_MS / 1000} s`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25 + Math.random() * 75));
    }
    try {
      return await fn();
    } finally {
      await releaseLock(redis, key, token);
    }
  };
}
