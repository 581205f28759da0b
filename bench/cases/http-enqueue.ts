import { join } from 'node:path';
import { jobs } from '@errand/contract';
import { freePort } from '@errand/devservers';
import { queuePrefix } from '@errand/queues';
import { Queue } from 'bullmq';
import { alternate, type BenchCase, type BenchContext, compared, type Row } from '../case.ts';
import { liveEvents } from '../events.ts';
import { postLoad } from '../http-load.ts';
import { cpuMeter, percentile } from '../measure.ts';
import { PEER_TOKEN, peerAvailable, startPeer } from '../peer.ts';
import { startFloorProducer, startProducer } from '../processes.ts';

/** One way of enqueueing: jobs per call, calls in flight, the target ratio to raw BullMQ. */
interface Shape {
  label: string;
  jobsPerCall: number;
  inFlight: number;
  minRatio: number;
  /** Processes of the HTTP side (Errand's producer, the floor), each on its own port. */
  processes: number;
  /** Whether bullmq-proxy runs beside them (one process: it is one Bun server). */
  peer: boolean;
}

const SHAPES: Shape[] = [
  {
    label: '1 job per request',
    jobsPerCall: 1,
    inFlight: 64,
    minRatio: 0.6,
    processes: 1,
    peer: true,
  },
  {
    label: '1 job per request',
    jobsPerCall: 1,
    inFlight: 64,
    minRatio: 0.6,
    processes: 2,
    peer: false,
  },
  {
    label: '100 jobs per request',
    jobsPerCall: 100,
    inFlight: 4,
    minRatio: 0.9,
    processes: 1,
    peer: true,
  },
];

const jobsOf = (count: number, tag: string) =>
  liveEvents(count, tag).map((event) => ({ events: [event] }));

/** Raw BullMQ for `seconds`: `Queue.add` (or `addBulk` of the shape's size), lanes in flight. */
async function raw(ctx: BenchContext, shape: Shape, prefix: string, seconds: number) {
  const queue = new Queue(jobs.analytics.queue, {
    connection: ctx.redis,
    prefix: queuePrefix(prefix, jobs.analytics.queue),
  });
  const datas = jobsOf(shape.jobsPerCall, prefix);
  const call =
    shape.jobsPerCall === 1
      ? () => queue.add('bench', datas[0], jobs.analytics.defaults)
      : () =>
          queue.addBulk(
            datas.map((data) => ({ name: 'bench', data, opts: jobs.analytics.defaults })),
          );
  const latencies: number[] = [];
  const lanes = async (untilMs: number, record: boolean) => {
    const lane = async () => {
      while (performance.now() < untilMs) {
        const sent = performance.now();
        await call();
        if (record) latencies.push(performance.now() - sent);
      }
    };
    await Promise.all(Array.from({ length: shape.inFlight }, lane));
  };
  await lanes(performance.now() + 1_000, false); // warm-up: JIT, connection, scripts loaded
  const meter = await cpuMeter(ctx.redis, { client: process.pid });
  const from = performance.now();
  await lanes(from + seconds * 1000, true);
  const took = (performance.now() - from) / 1000;
  const calls = latencies.length;
  const cpu = await meter.shares(took, calls * shape.jobsPerCall);
  await queue.obliterate({ force: true });
  await queue.close();
  return {
    rate: Math.round((calls * shape.jobsPerCall) / took),
    note: `p50 ${percentile(latencies, 50).toFixed(2)} ms, p99 ${percentile(latencies, 99).toFixed(2)} ms; ${cpu}`,
  };
}

type Server = 'errand' | 'floor' | 'peer';

/** What each server is sent: its route, its body for the shape's jobs, its token. */
function requestOf(server: Server, shape: Shape, prefix: string) {
  const datas = jobsOf(shape.jobsPerCall, prefix);
  if (server === 'peer') {
    // The peer's job schema knows no backoff jitter: the same retries, without it.
    const { attempts, backoff } = jobs.analytics.defaults;
    const opts = { attempts, backoff: { type: backoff.type, delay: backoff.delay } };
    return {
      path: `/queues/${jobs.analytics.queue}/jobs`,
      body: JSON.stringify(datas.map((data) => ({ name: 'bench', data, opts }))),
      token: PEER_TOKEN,
    };
  }
  const batch = shape.jobsPerCall > 1;
  return {
    path: `/v1/jobs/analytics${batch ? '/batch' : ''}`,
    body: JSON.stringify(batch ? { jobs: datas.map((data) => ({ data })) } : { data: datas[0] }),
    token: undefined,
  };
}

/**
 * An HTTP service for `seconds`, Errand's producer, the floor (bench/floor-producer.ts) or the
 * peer (bench/peer.ts):
 * autocannon (in this process) POSTing the same jobs with an API key to the shape's processes (each on its own port, as replicas behind a load balancer;
 * the connections split evenly), logging at info; every answer must be a 202, and Redis must
 * hold a job for every 202 (and at most those of the requests cut off at the end).
 */
async function overHttp(
  ctx: BenchContext,
  shape: Shape,
  prefix: string,
  seconds: number,
  server: Server,
) {
  const ports = await Promise.all(Array.from({ length: shape.processes }, () => freePort()));
  const producers = await Promise.all(
    ports.map((port, i) => {
      const logFile = join(ctx.dir, `${prefix}-${i}.log`);
      if (server === 'errand') return startProducer({ redis: ctx.redisUrl, prefix, port, logFile });
      if (server === 'peer') return startPeer({ redisUrl: ctx.redisUrl, prefix, port, logFile });
      return startFloorProducer({ redis: ctx.redisUrl, prefix, port, logFile });
    }),
  );
  const { path, body, token } = requestOf(server, shape, prefix);
  const connections = shape.inFlight / ports.length;
  const load = (duration: number) =>
    postLoad(
      ports.map((port) => ({ url: `http://127.0.0.1:${port}${path}`, connections, body, token })),
      duration,
    );
  // The peer keeps a queue's keys under `<prefix>:<queue>`, Errand under its per-queue layout.
  const queue = new Queue(jobs.analytics.queue, {
    connection: ctx.redis,
    prefix: server === 'peer' ? prefix : queuePrefix(prefix, jobs.analytics.queue),
  });
  try {
    const warm = await load(1);
    const pids = Object.fromEntries(producers.map((p, i) => [`producer ${i + 1}`, p.child.pid]));
    const meter = await cpuMeter(ctx.redis, { ...pids, client: process.pid });
    const result = await load(seconds);
    // autocannon stops counting at the end of each load, with requests still in flight
    const cutOff = 2 * shape.inFlight * shape.jobsPerCall;
    const expected = (warm.ok + result.ok) * shape.jobsPerCall;
    const failed = warm.failed + result.failed;
    const stored = await queue.getJobCountByTypes('wait', 'active', 'prioritized', 'delayed');
    if (failed > 0 || stored < expected || stored > expected + cutOff) {
      throw new Error(
        `${prefix}: ${failed} requests failed or timed out; ${expected} jobs answered 2xx, ${stored} in Redis`,
      );
    }
    const cpu = await meter.shares(result.took, result.ok * shape.jobsPerCall);
    return {
      rate: Math.round((result.ok * shape.jobsPerCall) / result.took),
      note: `p50 ${result.latency?.p50} ms, p99 ${result.latency?.p99} ms; ${cpu}`,
    };
  } finally {
    await Promise.all(producers.map((producer) => producer.stop()));
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

/**
 * Enqueue throughput: Errand's API (HTTP, API key, contract check, rate limit, depth check,
 * a log line per request) against raw BullMQ `Queue.add` / `addBulk` from this process, the
 * same jobs, the same number in flight, on the same Redis; sides alternated, best of runs.
 * Beside them the floor, the least any HTTP service in front of `Queue.add` costs here: the
 * target is against raw BullMQ, the second row says how much of the gap is Errand's own.
 * A batch is one MULTI in Errand (all or none) and a pipeline in `addBulk` and the floor.
 */
export const httpEnqueue: BenchCase = {
  name: 'http-enqueue',
  async run(ctx) {
    const seconds = ctx.seconds(8);
    const rows: Row[] = [];
    const withPeer = peerAvailable();
    for (const shape of SHAPES) {
      const peer = withPeer && shape.peer;
      const { best, notes } = await alternate(
        ctx,
        peer ? ['raw', 'floor', 'errand', 'peer'] : ['raw', 'floor', 'errand'],
        (side, run) => {
          const prefix = `enqueue-${shape.jobsPerCall}x${shape.processes}-${side}-${run}`;
          return side === 'raw'
            ? raw(ctx, shape, prefix, seconds)
            : overHttp(ctx, shape, prefix, seconds, side);
        },
        'jobs/s',
      );
      const rawWhat = shape.jobsPerCall === 1 ? 'Queue.add' : `addBulk(${shape.jobsPerCall})`;
      const label = `enqueue, ${shape.label}, ${shape.inFlight} in flight${shape.processes > 1 ? `, ${shape.processes} producer processes` : ''}`;
      const errand = { value: best.errand, unit: 'jobs/s', what: 'POST /v1/jobs/analytics' };
      const floor = { value: best.floor, unit: 'jobs/s', what: 'floor: node:http + Queue.add' };
      rows.push(
        compared(
          {
            case: label,
            baseline: { value: best.raw, unit: 'jobs/s', what: `raw ${rawWhat}` },
            errand,
            notes,
          },
          shape.minRatio,
        ),
        {
          case: `${label}, against the floor`,
          baseline: floor,
          errand,
          ratio: best.errand / best.floor,
          notes: [],
        },
      );
      if (peer) {
        const against = {
          case: `${label}, against the peer`,
          baseline: { value: best.peer, unit: 'jobs/s', what: 'bullmq-proxy (Bun) addBulk' },
          errand,
          notes: [],
        };
        // Single jobs: at least the peer's rate; batches are held to raw addBulk above.
        rows.push(
          shape.jobsPerCall === 1
            ? compared(against, 1)
            : { ...against, ratio: best.errand / best.peer },
        );
      }
    }
    return rows;
  },
};
