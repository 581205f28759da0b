/**
 * A scrape waits this long for Redis at most: while Redis is down or frozen, commands wait in
 * ioredis' queue, and a scrape that waits with them would hang Prometheus' scrape too.
 */
export const SCRAPE_READ_TIMEOUT_MS = 2_000;

/** `work`, or a rejection once `ms` have passed without it. */
export function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
