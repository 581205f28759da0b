import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

const WINDOW_S = 15 * 60;

/**
 * Failed logins, counted per user name and per client address over 15 minutes. Past either
 * limit, logins are refused before the password is even checked, until the window ends. A
 * good login clears its user's count (not its address's: one address guessing many names
 * stays limited).
 */
export function makeLoginLimits(
  redis: Redis,
  prefix: string,
  limits: { perUser: number; perIp: number },
) {
  const limiter = (name: string, points: number) =>
    new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `${prefix}:dashboard:login-failures:${name}`,
      points,
      duration: WINDOW_S,
      blockDuration: WINDOW_S,
      rejectIfRedisNotReady: true,
    });
  const byUser = limiter('user', limits.perUser);
  const byIp = limiter('ip', limits.perIp);
  const userKey = (name: string) => name.toLowerCase().slice(0, 128);

  return {
    /** Milliseconds until a login may be tried again, or 0 when it may be now. */
    async waitMs(name: string, ip: string): Promise<number> {
      const [user, address] = await Promise.all([byUser.get(userKey(name)), byIp.get(ip)]);
      const over = (res: RateLimiterRes | null, points: number) =>
        res && res.consumedPoints >= points ? res.msBeforeNext : 0;
      return Math.max(over(user, limits.perUser), over(address, limits.perIp));
    },
    async failed(name: string, ip: string): Promise<void> {
      const consume = (limit: RateLimiterRedis, key: string) =>
        limit.consume(key).catch((reason: unknown) => {
          if (!(reason instanceof RateLimiterRes)) throw reason; // Redis, not the limit
        });
      await Promise.all([consume(byUser, userKey(name)), consume(byIp, ip)]);
    },
    async succeeded(name: string): Promise<void> {
      await byUser.delete(userKey(name));
    },
  };
}

export type LoginLimits = ReturnType<typeof makeLoginLimits>;
