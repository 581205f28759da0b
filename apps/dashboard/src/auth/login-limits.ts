import { createHash } from 'node:crypto';
import type { RedisClient } from '@errand/redis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

const WINDOW_S = 15 * 60;

/**
 * Login attempts, counted per user name and per client address over 15 minutes. An attempt
 * is counted before its password is checked, so parallel guesses cannot slip past the limit
 * while the slow check runs; a good login gives its attempts back (its user's count is
 * cleared, its address's attempt refunded). Past either limit, logins are refused until the
 * window ends.
 */
export function makeLoginLimits(
  redis: RedisClient,
  prefix: string,
  limits: { perUser: number; perIp: number },
) {
  const limiter = (name: string, points: number) =>
    new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `${prefix}:dashboard:login-attempts:${name}`,
      points,
      duration: WINDOW_S,
      blockDuration: WINDOW_S,
      rejectIfRedisNotReady: true,
    });
  const byUser = limiter('user', limits.perUser);
  const byIp = limiter('ip', limits.perIp);
  // A hash, not the name: people type passwords into the name field, and Redis keeps keys.
  const userKey = (name: string) =>
    createHash('sha256').update(name.normalize('NFKC').toLowerCase()).digest('base64url');

  return {
    /** Count an attempt; the milliseconds to wait when over a limit, else 0. */
    async attempt(name: string, ip: string): Promise<number> {
      const consume = (limit: RateLimiterRedis, key: string) =>
        limit.consume(key).then(
          () => 0,
          (reason: unknown) => {
            if (reason instanceof RateLimiterRes) return Math.max(1, reason.msBeforeNext);
            throw reason; // Redis, not the limit
          },
        );
      const waits = await Promise.all([consume(byUser, userKey(name)), consume(byIp, ip)]);
      return Math.max(...waits);
    },
    async succeeded(name: string, ip: string): Promise<void> {
      await Promise.all([byUser.delete(userKey(name)), byIp.reward(ip, 1)]);
    },
  };
}

export type LoginLimits = ReturnType<typeof makeLoginLimits>;
