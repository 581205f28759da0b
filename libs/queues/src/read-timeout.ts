/**
 * A scrape waits this long for Redis at most: while Redis is down or frozen, commands wait in
 * ioredis' queue, and a scrape that waits with them would hang Prometheus' scrape too.
 */
export const SCRAPE_READ_TIMEOUT_MS = 2_000;
