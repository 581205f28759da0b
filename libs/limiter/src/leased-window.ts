import { readFileSync } from 'node:fs';
import type { RedisClient } from '@errand/redis';
import type { Result } from 'ioredis';

const LEASE_LUA = readFileSync(new URL('./lease-window.lua', import.meta.url), 'utf8');

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** `lease-window.lua`, on the clients `leasedWindow` was given. */
    errandLeaseWindow(
      key: string,
      wanted: number,
      budget: number,
      windowMs: number,
    ): Result<[number, number, number], Context>;
  }
}

/** One admission asked of a leased window. */
export interface WindowAnswer {
  admitted: boolean;
  /** Admissions left in the window, as far as this process knows (exact with one process). */
  remaining: number;
  /** Until the window ends. */
  msLeft: number;
}

/**
 * How many admissions one lease takes for a budget: 1 up to 100 per window (every admission
 * asks Redis, as a plain counter would), then a hundredth of the budget. So a busy key costs
 * each process at most ~100 Redis calls per window whatever its budget, and the admissions a
 * process leased but did not use before the window ended (at most a lease less one) are at
 * most 1% of the budget per process.
 */
export const leaseSize = (budget: number) => Math.max(1, Math.floor(budget / 100));

interface Held {
  /** Admissions leased and not yet given out. */
  tokens: number;
  /** The window's counter after this process's last lease (all processes' leases). */
  used: number;
  /** When the window ends, by this process's clock. */
  endsAt: number;
  /** The budget the tokens were leased under (a key's limit may change between calls). */
  budget: number;
  /** The lease under way, which other admissions of the key wait for. */
  leasing: Promise<void> | undefined;
}

/**
 * A fixed-window budget per key (N admissions per window), counted in Redis so every process
 * shares it, and leased to each process in blocks (`leaseSize`) so a busy key does not cost a
 * Redis call per admission. Never more than the budget is admitted in a window, across all
 * processes; a process's unused lease lapses with its window, so with P processes up to
 * P × (lease − 1) admissions of a window may go unused (under 1% of the budget per process;
 * none below 200 per window).
 */
export function leasedWindow(
  redis: RedisClient,
  options: {
    /** The counters' keys: `<prefix>:<key>`. */
    prefix: string;
    windowMs: number;
    /** Wraps each call to Redis (a deadline, errors mapped); the call itself by default. */
    guard?: <T>(call: () => Promise<T>) => Promise<T>;
  },
) {
  redis.defineCommand('errandLeaseWindow', { numberOfKeys: 1, lua: LEASE_LUA });
  const held = new Map<string, Held>();
  const guard = options.guard ?? ((call) => call());

  const lease = async (key: string, state: Held, budget: number) => {
    const [granted, used, msLeft] = await guard(() =>
      redis.errandLeaseWindow(
        `${options.prefix}:${key}`,
        leaseSize(budget),
        budget,
        options.windowMs,
      ),
    );
    state.tokens = granted;
    state.used = used;
    state.endsAt = Date.now() + msLeft;
    state.budget = budget;
  };

  return {
    /** Take one admission of `key`'s window, whose budget is `budget`. */
    async take(key: string, budget: number): Promise<WindowAnswer> {
      let state = held.get(key);
      if (!state) {
        state = { tokens: 0, used: 0, endsAt: 0, budget, leasing: undefined };
        held.set(key, state);
      }
      for (;;) {
        const now = Date.now();
        const current = now < state.endsAt && state.budget === budget;
        if (current && state.tokens > 0) {
          state.tokens -= 1;
          // What Redis has left, and what this process still holds of it.
          const remaining = budget - state.used + state.tokens;
          return { admitted: true, remaining, msLeft: state.endsAt - now };
        }
        // The window is spent, as far as Redis said: no other process can give any back.
        if (current && state.used >= budget) {
          return { admitted: false, remaining: 0, msLeft: state.endsAt - now };
        }
        if (!state.leasing) {
          const settle = () => {
            if (state) state.leasing = undefined;
          };
          state.leasing = lease(key, state, budget).then(settle, (error: unknown) => {
            settle();
            throw error;
          });
        }
        await state.leasing;
      }
    },
  };
}

export type LeasedWindow = ReturnType<typeof leasedWindow>;
