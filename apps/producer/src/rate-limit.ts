import { HttpProblem } from '@errand/http';
import type { RedisClient } from '@errand/redis';
import type { RequestHandler } from 'express';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
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
 * Per-key rate limit, counted in Redis (so every producer process shares it), with the IETF
 * `RateLimit-Policy` / `RateLimit` headers on every answer and `Retry-After` on a 429.
 * While Redis is down or silent the limiter cannot count, and the request gets the same 503.
 */
export function rateLimit(options: RateLimitOptions): RequestHandler {
  const limiters = new Map<number, RateLimiterRedis>();
  const limiterFor = (points: number) => {
    let limiter = limiters.get(points);
    if (!limiter) {
      limiter = new RateLimiterRedis({
        storeClient: options.redis,
        keyPrefix: `${options.prefix}:ratelimit`,
        points,
        duration: 1,
        rejectIfRedisNotReady: true,
      });
      limiters.set(points, limiter);
    }
    return limiter;
  };

  return async (_req, res, next) => {
    const caller: ApiKey = callerOf(res);
    const points = caller.rateLimit ?? options.perSecond;
    res.set('RateLimit-Policy', `"per-key";q=${points};w=1`);
    let outcome: RateLimiterRes;
    let limited = false;
    try {
      outcome = await withRedis(options.redis, () => limiterFor(points).consume(caller.name));
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      outcome = error;
      limited = true;
    }
    const reset = Math.max(1, Math.ceil(outcome.msBeforeNext / 1000));
    res.set('RateLimit', `"per-key";r=${outcome.remainingPoints};t=${reset}`);
    if (!limited) return next();
    options.onLimited(caller.name);
    throw new HttpProblem(
      'rate-limited',
      `The key "${caller.name}" is over its limit of ${points} requests per second.`,
      { headers: { 'Retry-After': String(reset) } },
    );
  };
}
