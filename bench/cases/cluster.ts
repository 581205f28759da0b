import { join } from 'node:path';
import { jobs } from '@errand/contract';
import { freePort, RedisCluster, type RedisServer } from '@errand/devservers';
import { queueKey, queuePrefix } from '@errand/queues';
import { Queue } from 'bullmq';
import { Cluster, Redis } from 'ioredis';
import {
  alternate,
  type BenchCase,
  type BenchContext,
  type BenchRedis,
  type Row,
  runRedis,
} from '../case.ts';
import { timeDrain } from '../drain.ts';
import { liveEvents } from '../events.ts';
import { type LoadResult, postLoad } from '../http-load.ts';
import { cpuMeter, type ServerGroups } from '../measure.ts';
import { startProducer, startWorker } from '../processes.ts';

type Side = 'single' | 'cluster';
const SIDES: readonly Side[] = ['single', 'cluster'];

/** The job types the enqueue rows post; each is a queue, so a hash tag, so one slot. */
type Posted = 'analytics' | 'email';

/** How the enqueue load is spread: over which queues, through how many producer processes. */
interface Spread {
  label: string;
  types: readonly Posted[];
  processes: number;
}

const IN_FLIGHT = 64;
const SPREADS: Spread[] = [
  { label: '1 analytics job per request', types: ['analytics'], processes: 1 },
  {
    label: '1 job per request over analytics and email, 2 producer processes',
    types: ['analytics', 'email'],
    processes: 2,
  },
];

const DRAIN_PROCESSES = 2;
const DRAIN_CONCURRENCY = 100;

/** One request's body of each posted type: a one-event analytics job, a mail never sent. */
const bodyOf = (type: Posted, tag: string) =>
  JSON.stringify(
    type === 'analytics'
      ? { data: { events: liveEvents(1, tag) } }
      : { data: { to: 'bench@example.com', subject: 'Bench', text: 'Never sent.' } },
  );

/**
 * The spread's producer processes on `on` for `seconds` (after a 1 s warm-up), autocannon
 * keeping IN_FLIGHT requests in flight, split evenly over processes and queues. Every answer
 * must be a 2xx, and each queue must hold a job for each of its 2xx (and at most those of
 * the requests cut off at the end of the two loads).
 */
async function enqueueOnce(
  ctx: BenchContext,
  on: BenchRedis,
  spread: Spread,
  prefix: string,
  seconds: number,
) {
  const ports = await Promise.all(Array.from({ length: spread.processes }, () => freePort()));
  const producers = await Promise.all(
    ports.map((port, i) =>
      startProducer({
        redis: on.where,
        prefix,
        port,
        logFile: join(ctx.dir, `${prefix}-${i}.log`),
      }),
    ),
  );
  const connections = IN_FLIGHT / (ports.length * spread.types.length);
  const streams = spread.types.flatMap((type) =>
    ports.map((port) => ({
      type,
      url: `http://127.0.0.1:${port}/v1/jobs/${type}`,
      connections,
      body: bodyOf(type, prefix),
    })),
  );
  const queues = spread.types.map((type) => ({
    type,
    queue: new Queue(jobs[type].queue, {
      connection: on.client,
      prefix: queuePrefix(prefix, jobs[type].queue),
    }),
  }));
  try {
    const warm = await postLoad(streams, 1);
    const pids = Object.fromEntries(producers.map((p, i) => [`producer ${i + 1}`, p.child.pid]));
    const meter = await cpuMeter(on.servers, { ...pids, client: process.pid });
    const result = await postLoad(streams, seconds);
    const cpu = await meter.shares(result.took, result.ok);
    const failed = warm.failed + result.failed;
    if (failed > 0) throw new Error(`${prefix}: ${failed} requests failed or timed out`);
    for (const { type, queue } of queues) {
      const answered = (load: LoadResult) =>
        streams.reduce((sum, s, n) => sum + (s.type === type ? (load.okOf[n] ?? 0) : 0), 0);
      const expected = answered(warm) + answered(result);
      // autocannon stops counting at the end of each load, with requests still in flight
      const cutOff = (2 * IN_FLIGHT) / spread.types.length;
      const stored = await queue.getJobCountByTypes('wait', 'active', 'prioritized', 'delayed');
      if (stored < expected || stored > expected + cutOff) {
        throw new Error(`${prefix}: ${expected} ${type} jobs answered 2xx, ${stored} in Redis`);
      }
    }
    return {
      rate: Math.round(result.ok / result.took),
      note: `p50 ${result.latency?.p50} ms, p99 ${result.latency?.p99} ms; ${cpu}`,
    };
  } finally {
    await Promise.all(producers.map((producer) => producer.stop()));
    for (const { queue } of queues) {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  }
}

/** `count` one-event analytics jobs drained by DRAIN_PROCESSES of Errand's worker on `on`. */
async function drainOnce(ctx: BenchContext, on: BenchRedis, prefix: string, count: number) {
  const start = () =>
    Promise.all(
      Array.from({ length: DRAIN_PROCESSES }, (_, i) =>
        startWorker('errand', {
          redis: on.where,
          prefix,
          concurrency: DRAIN_CONCURRENCY,
          logFile: join(ctx.dir, `${prefix}-${i + 1}.log`),
        }),
      ),
    );
  const { rate, note } = await timeDrain(ctx, { prefix, count, start, on });
  return { rate, note };
}

/**
 * The Cluster as a side of the case: a Cluster client for the bench's own reads and writes,
 * and each master's CPU apart (which shard does the work), the replicas' together; `shards`
 * says which master holds each posted queue (its hash tag's slot). `close` ends the clients.
 */
async function clusterSide(topology: RedisCluster) {
  const masters = await topology.masters();
  const where = await Promise.all(
    (['analytics', 'email'] as const).map(async (type) => {
      // The slot is the hash tag's alone, whatever the prefix.
      const key = queueKey('bench', jobs[type].queue, 'wait');
      const slot = Number(await masters[0]?.node.command('CLUSTER', 'KEYSLOT', key));
      const master = masters.findIndex((m) => m.slots.some(([a, b]) => a <= slot && slot <= b));
      return `${type} in slot ${slot}, master ${master + 1} of ${masters.length}`;
    }),
  );
  const connect = (node: RedisServer) => new Redis(node.url);
  const isMaster = (node: RedisServer) => masters.some((m) => m.node === node);
  const servers: ServerGroups = {
    ...Object.fromEntries(masters.map((m, i) => [`master ${i + 1}`, [connect(m.node)]])),
    replicas: topology.processes.filter((node) => !isMaster(node)).map(connect),
  };
  const client = new Cluster([...topology.nodes]);
  return {
    redis: { where: topology.nodes, client, servers } satisfies BenchRedis,
    shards: `on the Cluster: ${where.join('; ')}`,
    close() {
      client.disconnect();
      for (const server of Object.values(servers).flat()) server.disconnect();
    },
  };
}

const figures = (best: Record<Side, number>, unit: string) => ({
  baseline: { value: best.single, unit, what: 'one Redis' },
  errand: { value: best.cluster, unit, what: 'Redis Cluster, 3 masters + 3 replicas' },
  ratio: best.cluster / best.single,
});

/** The case's rows: each side alternating, `shards` added to every row's notes. */
async function measure(ctx: BenchContext, on: Record<Side, BenchRedis>, shards: string) {
  const rows: Row[] = [];
  for (const [n, spread] of SPREADS.entries()) {
    const { best, notes } = await alternate(
      ctx,
      SIDES,
      (side, run) =>
        enqueueOnce(ctx, on[side], spread, `cluster-enqueue${n}-${side}-${run}`, ctx.seconds(8)),
      'jobs/s',
    );
    rows.push({
      case: `enqueue over HTTP, ${spread.label}, ${IN_FLIGHT} in flight`,
      ...figures(best, 'jobs/s'),
      notes: [...notes, shards],
    });
  }
  const count = Math.round(30_000 * ctx.scale);
  const { best, notes } = await alternate(
    ctx,
    SIDES,
    (side, run) => drainOnce(ctx, on[side], `cluster-drain-${side}-${run}`, count),
    'jobs/s',
  );
  rows.push({
    case: `drain ${count} one-event analytics jobs, ${DRAIN_PROCESSES} worker processes, concurrency ${DRAIN_CONCURRENCY}`,
    ...figures(best, 'jobs/s'),
    notes: [...notes, shards],
  });
  return rows;
}

/**
 * Errand on a loopback Redis Cluster beside Errand on the run's own Redis, in one run, as a
 * ratio cluster / single: what the Cluster client and topology cost (or bring) under the same
 * load. 1. start the Cluster (3 masters, 3 replicas, AOF everysec as the run's server);
 * 2. each row, the two sides alternating: HTTP enqueue into one queue, into two queues on
 * two masters, and a drain by Errand's worker processes; 3. stop the Cluster, also on failure.
 * No target: it measures (on 2 cores the six servers share the cores the load runs on).
 */
export const cluster: BenchCase = {
  name: 'cluster',
  async run(ctx) {
    // Redis' own node timeout: a busy 2-core machine must not look like a failed master.
    const topology = await RedisCluster.start({ nodeTimeoutMs: 15_000 });
    let clustered: Awaited<ReturnType<typeof clusterSide>> | undefined;
    try {
      clustered = await clusterSide(topology);
      const on = { single: runRedis(ctx), cluster: clustered.redis };
      return await measure(ctx, on, clustered.shards);
    } finally {
      clustered?.close();
      await topology.stop();
    }
  },
};
