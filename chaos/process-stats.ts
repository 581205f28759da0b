import { readFile } from 'node:fs/promises';
import { mastersOf, type RedisClient } from '@errand/redis';
import type { Redis } from 'ioredis';

/**
 * Resident memory of a live process in bytes, from `VmRSS` of /proc/<pid>/status (Linux):
 * what the kernel holds for it, the figure an orchestrator's memory limit is checked against.
 */
export async function rssBytes(pid: number | undefined): Promise<number> {
  if (pid === undefined) throw new Error('rss: the process has no pid (not started?)');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`rss: no VmRSS in /proc/${pid}/status`);
  return Number(kb) * 1024;
}

/** Redis's `used_memory` (bytes): what `maxmemory` is checked against. */
export async function usedMemory(redis: RedisClient): Promise<number> {
  // Every master's, summed: a Cluster's memory is its masters'.
  const infos = await Promise.all(mastersOf(redis).map((node) => node.info('memory')));
  return infos.reduce(
    (sum, info) => sum + Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? Number.NaN),
    0,
  );
}

/**
 * How many keys match `pattern`, by SCAN (never KEYS: it blocks the server it counts). SCAN
 * may return a key twice while the table rehashes, hence the set.
 */
export async function countKeys(redis: Redis, pattern: string): Promise<number> {
  const seen = new Set<string>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) seen.add(key);
  } while (cursor !== '0');
  return seen.size;
}

export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
/** Growth from `before` to `after` as a signed percentage, e.g. `+3.2%`. */
export const growth = (before: number, after: number) => (after / before - 1) * 100;
export const pct = (value: number) => `${value >= 0 ? '+' : ''}${value.toFixed(1)}%`;

/**
 * RSS of `pids` every `everyMs` until `stop()`. One reading is a poor figure: V8 grows and
 * gives back its heap in steps, so `median(from, to)` takes each process's median over a
 * stretch (times as `performance.now()`).
 */
export function sampleRss(pids: (number | undefined)[], everyMs = 500) {
  const samples: { at: number; rss: number[] }[] = [];
  let stopped = false;
  const sampling = (async () => {
    while (!stopped) {
      samples.push({ at: performance.now(), rss: await Promise.all(pids.map(rssBytes)) });
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    median(from: number, to: number): number[] {
      const within = samples.filter((s) => s.at >= from && s.at <= to);
      return pids.map((_, i) => {
        const sorted = within.map((s) => s.rss[i] as number).sort((a, b) => a - b);
        return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
      });
    },
    async stop() {
      stopped = true;
      await sampling;
    },
  };
}

/** V8's old-space bytes in use, from an app's `/metrics` (prom-client's default metrics). */
async function oldSpaceUsed(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = /^errand_nodejs_heap_space_size_used_bytes\{[^}]*space="old"[^}]*\} (\d+)/m.exec(
    text,
  );
  if (!line?.[1]) throw new Error(`heap: no old-space figure in ${url}/metrics`);
  return Number(line[1]);
}

/**
 * Each app's live heap: the old space in use, read from its `/metrics` every `everyMs`.
 * `lowest(from, to)` is each app's smallest reading in a stretch: the old space right after a
 * major GC, what the app really holds. A leak raises it; V8 sizing its heap lazily (RSS grows
 * in steps on a machine with memory to spare) does not.
 */
export function sampleHeap(urls: string[], everyMs = 500) {
  const samples: { at: number; used: number[] }[] = [];
  let stopped = false;
  const sampling = (async () => {
    while (!stopped) {
      const used = await Promise.all(urls.map((url) => oldSpaceUsed(url).catch(() => Number.NaN)));
      samples.push({ at: performance.now(), used });
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    lowest(from: number, to: number): number[] {
      const within = samples.filter((s) => s.at >= from && s.at <= to);
      return urls.map((_, i) =>
        Math.min(...within.map((s) => s.used[i] as number).filter((n) => !Number.isNaN(n))),
      );
    },
    async stop() {
      stopped = true;
      await sampling;
    },
  };
}
