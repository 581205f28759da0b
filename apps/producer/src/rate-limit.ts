import { HttpProblem } from '@errand/http';
import { leasedWindow } from '@errand/limiter';
import type { RedisClient } from '@errand/redis';
import type { RequestHandler } from 'express';
import type { ApiKey } from './api-keys.ts';
import { callerOf } from './auth.ts';
import { withRedis } from './redis-errors.ts';

export interface RateLimitOptions {
  redis: RedisClient;
  /** Key prefix in Redis, under the queue prefix: several deployments can share a Redis. */
  prefix: string;
  /** Requests per second for a key that names no limit of its own. */
  perSecond: number;
  /** Called on every 429, with the key's name. */
  onLimited: (keyName: string) => void;
}

/**
 * Per-key rate limit, counted in Redis (`<prefix>:ratelimit:<key name>`, a window of one
 * second) so every producer process shares it, with the IETF `RateLimit-Policy` /
 * `RateLimit` headers on every answer and `Retry-After` on a 429. Each process leases the
 * window's requests in blocks (`leasedWindow`): a key of up to 100 per second asks Redis on
 * every request, as a plain counter would; a busier one about 100 times a second, whatever
 * its limit. No more than the limit is ever admitted; with several producers, up to 1% of it
 * per producer may go unused in a second. While Redis is down or silent the limiter cannot
 * count, and the request gets the same 503.
 */
export function keyRateLimit(options: RateLimitOptions) {
  const { redis } = options;
  const windows = leasedWindow(redis, {
    prefix: `${options.prefix}:ratelimit`,
    windowMs: 1_000,
    guard: (call) => withRedis(redis, call),
  });

  return {
    /** Count one request of `caller`: its headers set, or a 429 (or 503) thrown. */
    async check(caller: ApiKey, setHeader: (name: string, value: string) => void): Promise<void> {
      const points = caller.rateLimit ?? options.perSecond;
      setHeader('RateLimit-Policy', `"per-key";q=${points};w=1`);
      // As before leases: no answer but a 503 while Redis is down, whatever this process holds.
      if (redis.status !== 'ready') await withRedis(redis, async () => {});
      const answer = await windows.take(caller.name, points);
      const reset = Math.max(1, Math.ceil(answer.msLeft / 1000));
      setHeader('RateLimit', `"per-key";r=${answer.remaining};t=${reset}`);
      if (answer.admitted) return;
      options.onLimited(caller.name);
      throw new HttpProblem(
        'rate-limited',
        `The key "${caller.name}" is over its limit of ${points} requests per second.`,
        { headers: { 'Retry-After': String(reset) } },
      );
    },
  };
}

export type KeyRateLimit = ReturnType<typeof keyRateLimit>;

/** The rate limit as a route's middleware, after `authenticate`. */
export const rateLimit =
  (limit: KeyRateLimit): RequestHandler =>
  async (_req, res, next) => {
    await limit.check(callerOf(res), (name, value) => res.set(name, value));
    next();
  };
