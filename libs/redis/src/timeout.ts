/** A wait that took too long; its message says for what, e.g. "schedule read timed out". */
export class TimeoutError extends Error {
  override name = 'TimeoutError';
}

/**
 * `work`, or a `TimeoutError` "<what> timed out" once `ms` have passed without it. Every wait
 * on Redis that must not hang goes through it: a request's commands (the producer), a scrape's
 * reads, the readiness probe. Past the deadline the outcome of `work` is no one's: the race
 * has handled it, so a late rejection is not an unhandled one.
 */
export function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} timed out`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
