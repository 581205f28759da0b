import { readFile } from 'node:fs/promises';
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
export async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? Number.NaN);
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
