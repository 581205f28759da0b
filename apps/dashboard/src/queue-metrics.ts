import { countedStates } from '@errand/contract';
import type { Metrics } from '@errand/observability';
import {
  type QueueState,
  type Queues,
  readQueueStates,
  SCRAPE_READ_TIMEOUT_MS,
} from '@errand/queues';
import { mastersOf, type RedisClient, withTimeout } from '@errand/redis';
import type { Gauge } from 'prom-client';

const DEFAULT_CACHE_MS = 2_000;

type Snapshot =
  | { up: true; queues: QueueState[]; memoryUsed: number; memoryMax: number }
  | { up: false };

/**
 * Queue depth for Prometheus, exported by the one process that sees every queue. Lifecycle
 * of a scrape:
 * 1. every gauge asks for the snapshot; the first ask starts one read and the others (and
 *    a concurrent scrape) share it;
 * 2. the read is every queue's state (`readQueueStates`, one CLIENT LIST) and INFO memory,
 *    bounded by `SCRAPE_READ_TIMEOUT_MS` (past it, Redis counts as down); while the connection is not ready it is not even tried;
 * 3. the snapshot serves every scrape for `cacheMs`, so two scrapers or a short interval
 *    cost Redis no more;
 * 4. Redis unreadable: `errand_redis_up` is 0 and the other gauges have no samples, rather
 *    than stale ones.
 * Labels are queue names from the contract and states: never a job id or a user's value.
 */
export function queueMetrics(
  metrics: Metrics,
  deps: { queues: Queues; redis: RedisClient },
  options: { cacheMs?: number } = {},
): void {
  const snapshot = cached(() => read(deps), options.cacheMs ?? DEFAULT_CACHE_MS);
  const perQueue = <L extends string>(
    spec: { name: string; help: string; labelNames: readonly L[] },
    fill: (gauge: Gauge<L>, state: QueueState) => void,
  ) =>
    metrics.gauge({
      ...spec,
      async collect() {
        const now = await snapshot();
        this.reset();
        if (now.up) for (const state of now.queues) fill(this, state);
      },
    });

  perQueue(
    { name: 'queue_jobs', help: 'Jobs in each queue by state', labelNames: ['queue', 'state'] },
    (gauge, { queue, counts }) => {
      for (const state of countedStates) gauge.set({ queue, state }, counts[state]);
    },
  );
  perQueue(
    {
      name: 'queue_oldest_waiting_age_seconds',
      help: 'How long the job first in line (waiting, or prioritized next to run) has been due; 0 when none waits',
      labelNames: ['queue'],
    },
    (gauge, { queue, oldestWaitingSeconds }) => gauge.set({ queue }, oldestWaitingSeconds),
  );
  perQueue(
    { name: 'queue_paused', help: '1 while a queue is paused', labelNames: ['queue'] },
    (gauge, { queue, paused }) => gauge.set({ queue }, paused ? 1 : 0),
  );
  perQueue(
    {
      name: 'queue_workers',
      help: 'Workers connected to each queue (absent where Redis refuses CLIENT LIST)',
      labelNames: ['queue'],
    },
    (gauge, { queue, workers }) => {
      if (workers !== undefined) gauge.set({ queue }, workers);
    },
  );
  metrics.gauge({
    name: 'redis_up',
    help: '1 when the dashboard could read Redis at the last scrape, else 0',
    async collect() {
      this.set((await snapshot()).up ? 1 : 0);
    },
  });
  const memory = (name: string, help: string, pick: (now: Snapshot & { up: true }) => number) =>
    metrics.gauge({
      name,
      help,
      async collect() {
        const now = await snapshot();
        if (now.up) this.set(pick(now));
        else this.remove(); // no sample rather than a 0 that reads as "empty"
      },
    });
  memory(
    'redis_memory_used_bytes',
    'Memory Redis uses (INFO used_memory)',
    (now) => now.memoryUsed,
  );
  memory(
    'redis_memory_max_bytes',
    'Memory limit of Redis (INFO maxmemory); 0 means no limit',
    (now) => now.memoryMax,
  );
}

async function read({ queues, redis }: { queues: Queues; redis: RedisClient }): Promise<Snapshot> {
  // Not connected: commands would wait in ioredis' offline queue and pile up scrape by scrape.
  if (redis.status !== 'ready') return { up: false };
  try {
    const [states, memory] = await withTimeout(
      Promise.all([readQueueStates(queues, redis), fullestMaster(redis)]),
      SCRAPE_READ_TIMEOUT_MS,
      'Redis read',
    );
    return { up: true, queues: states, ...memory };
  } catch {
    return { up: false };
  }
}

/**
 * Memory of the master nearest its limit (the only one on a single Redis): on a Cluster the
 * first to refuse writes is the fullest master, whatever the others hold, so that is the
 * one the alert on used/max must see.
 */
async function fullestMaster(redis: RedisClient) {
  const nodes = await Promise.all(
    mastersOf(redis).map(async (node) => {
      const info = await node.info('memory');
      return {
        memoryUsed: infoField(info, 'used_memory'),
        memoryMax: infoField(info, 'maxmemory'),
      };
    }),
  );
  const share = (node: { memoryUsed: number; memoryMax: number }) =>
    node.memoryMax > 0 ? node.memoryUsed / node.memoryMax : 0;
  return nodes.reduce((fullest, node) => (share(node) > share(fullest) ? node : fullest));
}

const infoField = (info: string, field: string) =>
  Number(new RegExp(`^${field}:(\\d+)`, 'm').exec(info)?.[1] ?? Number.NaN);

/** `load` at most once per `ttlMs` after it settles; callers meanwhile share its promise. */
function cached<T>(load: () => Promise<T>, ttlMs: number): () => Promise<T> {
  let current: Promise<T> | undefined;
  let settledAt = 0;
  return () => {
    if (current && (settledAt === 0 || Date.now() - settledAt < ttlMs)) return current;
    settledAt = 0;
    current = load().finally(() => {
      settledAt = Date.now();
    });
    return current;
  };
}
