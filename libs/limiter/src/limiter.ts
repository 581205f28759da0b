import { readFileSync } from 'node:fs';
import type { RedisClient } from '@errand/redis';
import type { Result } from 'ioredis';
import { assertNoBraces, limiterKeys } from './keys.ts';

const lua = (file: string) => readFileSync(new URL(file, import.meta.url), 'utf8');
const ACQUIRE_LUA = lua('./acquire.lua');
const EXTEND_LUA = lua('./extend.lua');
const IN_USE_LUA = lua('./in-use.lua');

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** `acquire.lua`, on the clients `keyedLimiter` was given. */
    errandLimitAcquire(
      holders: string,
      rate: string,
      ...args: (string | number)[]
    ): Result<[number, number, string], Context>;
    /** `extend.lua`. */
    errandLimitExtend(holders: string, holder: string, leaseMs: number): Result<number, Context>;
    /** `in-use.lua`. */
    errandLimitInUse(holders: string): Result<number, Context>;
  }
}

/** Either limit or both; one left out is no limit of that kind. */
export interface LimitSpec {
  /** Holders at once: a whole number, at least 1. */
  concurrency?: number;
  /**
   * Admissions per second, over a sliding window: never more than `max(1, floor(rate))`
   * (the burst) within `1000 × burst / rate` ms. 5 → 5 in any second; 2.5 → 2 in any
   * 800 ms; 0.5 → 1 in any 2 s.
   */
  ratePerSecond?: number;
}

export interface Lease {
  release(): Promise<void>;
  /** Another lease length from now; false when the lease had run out (acquire again). */
  extend(): Promise<boolean>;
}

export type Admission =
  | { admitted: true; lease: Lease }
  | { admitted: false; retryInMs: number; reason: 'concurrency' | 'rate' };

export interface KeyedLimiterOptions {
  /** The queue prefix: every key starts `<prefix>:limit:`. */
  prefix: string;
  /** Which limiter, e.g. `http-target`: limiters of different names never share a key. */
  name: string;
  /** A holder that dies without releasing frees its slot after this long. */
  leaseMs: number;
}

export interface KeyedLimiter {
  /**
   * Admit `holder` (e.g. job id and attempt) under `key`'s limits, in one round trip. The
   * same holder again while its lease runs is admitted without counting twice and renews it.
   * A refusal says which limit refused (`concurrency` when both did) and when to try again:
   * for `rate` the moment a slot opens; for `concurrency` the moment the earliest lease runs
   * out, at the latest: a release frees a slot sooner.
   */
  acquire(key: string, spec: LimitSpec, holder: string): Promise<Admission>;
  /** Free the holder's slot; nothing when it holds none. One command (ZREM). */
  release(key: string, holder: string): Promise<void>;
  /** Renew a running lease for another `leaseMs`; false when it had run out. */
  extend(key: string, holder: string): Promise<boolean>;
  /** Leases of `key` running now. */
  inUse(key: string): Promise<number>;
}

/**
 * A limiter of any string key (a target origin, a tenant) held in Redis, so it holds across
 * every worker process; one script call per acquire, extend and inUse, one ZREM per release.
 *
 * Concurrency is a sorted set of leases scored by expiry on Redis's clock: a holder that dies
 * frees its slot after `leaseMs`; a holder that runs longer calls `extend` (or acquires again,
 * which renews too) before its lease runs out.
 *
 * The rate is a sliding-window log (a sorted set of the last window's admissions), not GCRA:
 * GCRA is one number per key but lets a full burst through and then one every 1/rate, up to
 * almost twice the rate within one second; the log holds "never more than N in any window",
 * which is what a target's "N requests per second" means, for at most N members per key.
 */
export function keyedLimiter(redis: RedisClient, options: KeyedLimiterOptions): KeyedLimiter {
  const { prefix, name, leaseMs } = options;
  assertNoBraces('prefix', prefix);
  assertNoBraces('name', name);
  if (!Number.isSafeInteger(leaseMs) || leaseMs < 1) {
    throw new RangeError(`leaseMs must be a whole number of ms, at least 1: ${leaseMs}`);
  }
  redis.defineCommand('errandLimitAcquire', { numberOfKeys: 2, lua: ACQUIRE_LUA });
  redis.defineCommand('errandLimitExtend', { numberOfKeys: 1, lua: EXTEND_LUA });
  redis.defineCommand('errandLimitInUse', { numberOfKeys: 1, lua: IN_USE_LUA });
  const keys = (key: string) => limiterKeys(prefix, name, key);

  const limiter: KeyedLimiter = {
    async acquire(key, spec, holder) {
      const { concurrency, count, windowMs } = checked(spec);
      const { holders, rate } = keys(key);
      const [admitted, retryInMs, reason] = await redis.errandLimitAcquire(
        holders,
        rate,
        holder,
        leaseMs,
        concurrency,
        count,
        windowMs,
      );
      if (admitted !== 1) {
        return { admitted: false, retryInMs, reason: reason as 'concurrency' | 'rate' };
      }
      return {
        admitted: true,
        lease: {
          release: () => limiter.release(key, holder),
          extend: () => limiter.extend(key, holder),
        },
      };
    },
    async release(key, holder) {
      await redis.zrem(keys(key).holders, holder);
    },
    async extend(key, holder) {
      return (await redis.errandLimitExtend(keys(key).holders, holder, leaseMs)) === 1;
    },
    inUse: (key) => redis.errandLimitInUse(keys(key).holders),
  };
  return limiter;
}

/** A spec as the script reads it: 0 for no limit; the rate as a count per window. */
function checked({ concurrency, ratePerSecond: rate }: LimitSpec) {
  if (concurrency !== undefined && !(Number.isSafeInteger(concurrency) && concurrency >= 1)) {
    throw new RangeError(`concurrency must be a whole number, at least 1: ${concurrency}`);
  }
  if (rate !== undefined && !(Number.isFinite(rate) && rate > 0)) {
    throw new RangeError(`ratePerSecond must be a number above 0: ${rate}`);
  }
  const count = rate === undefined ? 0 : Math.max(1, Math.floor(rate));
  return { concurrency: concurrency ?? 0, count, windowMs: rate ? (1000 * count) / rate : 0 };
}
