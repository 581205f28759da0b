import { percentile } from './measure.ts';

/** One `/metrics` request: how long it took, and the body. */
export interface Scrape {
  ms: number;
  body: string;
}

/**
 * Scrape `url` every `intervalMs` the way Prometheus does: one request at a time, on a
 * kept-alive connection, the next one `intervalMs` after the previous one began (at once
 * when it took longer). `stop()` waits for the request in flight and gives every scrape.
 */
export function scrapeEvery(url: string, intervalMs: number) {
  const scrapes: Scrape[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const started = performance.now();
      const response = await fetch(url);
      const body = await response.text();
      if (!response.ok) throw new Error(`${url}: ${response.status} ${body.slice(0, 200)}`);
      const ms = performance.now() - started;
      scrapes.push({ ms, body });
      if (ms < intervalMs && !stopped) {
        await new Promise((resolve) => setTimeout(resolve, intervalMs - ms));
      }
    }
  })();
  return {
    async stop(): Promise<Scrape[]> {
      stopped = true;
      await loop;
      return scrapes;
    },
  };
}

/** "p50 3.1 ms, p99 12.0 ms, max 14.2 ms of 83" */
export function latencies(values: number[]): string {
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  return `p50 ${ms(percentile(values, 50))}, p99 ${ms(percentile(values, 99))}, max ${ms(Math.max(...values))} of ${values.length}`;
}
