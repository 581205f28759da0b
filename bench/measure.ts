import { readFileSync } from 'node:fs';
import { jobs } from '@errand/contract';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';

/** Poll until no job of the queue waits or runs; resolves with the time it happened. */
export async function drained(queue: Queue, timeoutMs = 300_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const left = await queue.getJobCountByTypes('wait', 'active', 'prioritized', 'delayed');
    if (left === 0) return performance.now();
    if (performance.now() > deadline)
      throw new Error(`${queue.name}: ${left} jobs left after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Poll until at most `left` jobs of the queue are waiting: the time, and how many still waited then. */
export async function waitingAtMost(
  queue: Queue,
  left: number,
): Promise<{ at: number; waiting: number }> {
  for (;;) {
    const waiting = await queue.getJobCountByTypes('wait');
    if (waiting <= left) return { at: performance.now(), waiting };
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Add jobs with the analytics defaults, `chunk` per addBulk. */
export async function fill(queue: Queue, datas: unknown[], chunk = 1_000): Promise<void> {
  for (let i = 0; i < datas.length; i += chunk) {
    await queue.addBulk(
      datas
        .slice(i, i + chunk)
        .map((data) => ({ name: 'bench', data, opts: jobs.analytics.defaults })),
    );
  }
}

/** Run `task` over `items` with at most `inFlight` at once. */
export async function pooled<T>(items: T[], inFlight: number, task: (item: T) => Promise<void>) {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await task(items[next++] as T);
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
}

export const perSecond = (count: number, fromMs: number, toMs: number) =>
  Math.round((count * 1000) / (toMs - fromMs));

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
export function processCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks
  } catch {
    return 0;
  }
}

/** CPU seconds the Redis server has used so far. */
export async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const read = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return read('used_cpu_user') + read('used_cpu_sys');
}

/** CPU seconds some Redis servers have used so far, together. */
async function serversCpuSeconds(servers: readonly Redis[]): Promise<number> {
  const each = await Promise.all(servers.map(redisCpuSeconds));
  return each.reduce((sum, cpu) => sum + cpu, 0);
}

/** Redis servers by the name their CPU is reported under: `{ Redis: [server] }`, or a Cluster's. */
export type ServerGroups = Readonly<Record<string, readonly Redis[]>>;

/**
 * CPU use of some processes and of Redis from now on: one server, or groups of servers (a
 * Cluster's masters one by one, its replicas together). `shares(seconds, count)` says what
 * part of one core each used and its µs of CPU per item, and how many µs all of them
 * together spent per item: on a shared machine whose speed drifts, the steadier figure.
 */
export async function cpuMeter(
  redis: Redis | ServerGroups,
  pids: Record<string, number | undefined>,
) {
  const groups = Object.entries(redis instanceof Redis ? { Redis: [redis] } : redis);
  const read = async () => [
    ...Object.entries(pids).map(([name, pid]) => [name, processCpuSeconds(pid)] as const),
    ...(await Promise.all(
      groups.map(async ([name, servers]) => [name, await serversCpuSeconds(servers)] as const),
    )),
  ];
  const start = new Map(await read());
  return {
    async shares(seconds: number, count: number): Promise<string> {
      const used = (await read()).map(
        ([name, cpu]) => [name, cpu - (start.get(name) ?? 0)] as const,
      );
      const pct = (cpu: number) => `${Math.round((cpu / seconds) * 100)}%`;
      const total = used.reduce((sum, [, cpu]) => sum + cpu, 0);
      const each = (cpu: number) => `${((cpu / count) * 1e6).toFixed(1)} µs`;
      const parts = used.map(([name, cpu]) => `${name} ${pct(cpu)} (${each(cpu)})`);
      return `${parts.join(', ')} of a core; ${each(total)} CPU each`;
    },
  };
}

/** The `p`th percentile (0–100) of some figures, by nearest rank; 0 when there are none. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}
