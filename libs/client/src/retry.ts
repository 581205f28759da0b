export interface RetryPolicy {
  /** Retries after the first try (so `retries + 1` tries at most). */
  retries: number;
  /** First backoff; doubles each retry, with full jitter. */
  baseDelayMs: number;
  /** No wait is longer than this, whatever Retry-After says. */
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  retries: 5, // with Retry-After: 1 from a Redis outage, about 5 s of patience
  baseDelayMs: 200, // 200, 400, 800 ms … before jitter
  maxDelayMs: 10_000, // a long Retry-After (a full queue) is honoured up to 10 s
};

/** The statuses that mean "nothing happened, try again later". */
export const RETRYABLE_STATUS = new Set([429, 503]);

/**
 * How long to wait before retry number `attempt` (0-based): the server's Retry-After when it
 * gave one, else exponential backoff with full jitter, so many clients do not retry in step.
 */
export function backoffMs(policy: RetryPolicy, attempt: number, retryAfter?: string | null) {
  const seconds = retryAfter ? Number(retryAfter) : Number.NaN;
  if (Number.isFinite(seconds) && seconds >= 0) {
    // A little jitter on top, so the clients a 503 turned away do not all come back at once.
    return Math.min(policy.maxDelayMs, seconds * 1000 + Math.random() * policy.baseDelayMs);
  }
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.random() * ceiling;
}

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
