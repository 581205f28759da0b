import type { MinimalJob } from 'bullmq';
import { RetryAfterError } from './processor.ts';

/**
 * The retry delays BullMQ's built-in strategies cannot give, by the `backoff.type` a job type's
 * defaults name in the catalog:
 * - `http`: exponential from `backoff.delay` with jitter, as the built-in one, but never
 *   sooner than a Retry-After the target sent (`RetryAfterError`);
 * - `webhook`: Standard Webhooks' schedule (`WEBHOOK_RETRY_SCHEDULE_MS`), ±10% jitter, and
 *   likewise never sooner than a Retry-After.
 * A Retry-After is honoured up to `MAX_RETRY_AFTER_MS`: a target cannot park a job for ever.
 */
export const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

/** Standard Webhooks' suggestion: at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h. */
export const WEBHOOK_SCHEDULE_MS = [
  0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 50_400_000, 72_000_000,
  86_400_000,
];

const jitter = (ms: number, share: number) =>
  Math.round(ms * (1 - share + Math.random() * share * 2));

export function makeBackoffStrategy(settings: { webhookScheduleMs: readonly number[] }) {
  const schedule = settings.webhookScheduleMs;
  return (attemptsMade: number, type?: string, error?: Error, job?: MinimalJob): number => {
    const asked =
      error instanceof RetryAfterError && error.retryAfterMs !== undefined
        ? Math.min(error.retryAfterMs, MAX_RETRY_AFTER_MS)
        : 0;
    if (type === 'webhook') {
      // attemptsMade counts the failed one: after the first attempt, the schedule's second entry.
      const next = schedule[Math.min(attemptsMade, schedule.length - 1)] ?? 0;
      return Math.max(asked, jitter(next, 0.1));
    }
    const base = (job?.opts.backoff as { delay?: number } | undefined)?.delay ?? 1_000;
    const exponential = 2 ** (attemptsMade - 1) * base;
    return Math.max(asked, jitter(exponential, 0.25));
  };
}

/** `Retry-After` as seconds or an HTTP date, in ms from now; undefined when absent or bad. */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()) {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  if (/^\d{1,9}$/.test(value.trim())) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
