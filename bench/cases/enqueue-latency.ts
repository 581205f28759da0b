import { join } from 'node:path';
import { createClient } from '@errand/client';
import { jobs } from '@errand/contract';
import { queuePrefix } from '@errand/queues';
import { Queue } from 'bullmq';
import type { BenchCase, BenchContext, Row } from '../case.ts';
import { liveEvents } from '../events.ts';
import { percentile } from '../measure.ts';
import { PEER_TOKEN, peerAvailable, startPeer } from '../peer.ts';
import { BENCH_API_KEY, startEndToEnd } from '../processes.ts';

type Path = 'raw' | 'floor' | 'peer' | 'http' | 'sdk';

const now = () => performance.timeOrigin + performance.now();
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `count` jobs one at a time on an idle queue, each 5 ms after the last; for each, the time
 * from the call (Queue.add, a POST, the typed client) to the processor's start, which the
 * worker returns as the job's result. Both clocks are this machine's. The floor is the same
 * POST to bench/floor-producer.ts (node:http + Queue.add) with a bare Worker behind it; the
 * peer, bullmq-proxy (bench/peer.ts) with a bare Worker behind it, where it runs here.
 */
async function latencies(ctx: BenchContext, path: Path, run: number, count: number) {
  const prefix = `latency-${path}-${run}`;
  const queue = new Queue(jobs.analytics.queue, {
    connection: ctx.redis,
    prefix: queuePrefix(prefix, jobs.analytics.queue),
  });
  const bare = path === 'raw' || path === 'floor' || path === 'peer';
  const started = await startEndToEnd(ctx, prefix, {
    worker: bare ? 'bare' : 'noop',
    producer: bare ? (path === 'floor' ? 'floor' : undefined) : 'errand',
  });
  const { port } = started;
  // The peer keeps a queue's keys under `<its prefix>:<queue>`: given Errand's per-queue
  // prefix, they are the ones the bare Worker reads.
  const peer =
    path === 'peer'
      ? await startPeer({
          redisUrl: ctx.redisUrl,
          prefix: queuePrefix(prefix, jobs.analytics.queue),
          port,
          logFile: join(ctx.dir, `${prefix}-peer.log`),
        })
      : undefined;
  const stop = async () => {
    await peer?.stop();
    await started.stop();
  };
  const baseUrl = `http://127.0.0.1:${port}`;
  const client = createClient({ baseUrl, apiKey: BENCH_API_KEY });
  const enqueue = async (data: { events: unknown[] }): Promise<string> => {
    if (path === 'raw') return String((await queue.add('bench', data, jobs.analytics.defaults)).id);
    if (path === 'sdk') return (await client.enqueue('analytics', data as never)).id;
    if (path === 'peer') {
      const { attempts, backoff } = jobs.analytics.defaults;
      const opts = { attempts, backoff: { type: backoff.type, delay: backoff.delay } };
      const response = await fetch(`${baseUrl}/queues/${jobs.analytics.queue}/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${PEER_TOKEN}` },
        body: JSON.stringify([{ name: 'bench', data, opts }]),
      });
      return String(((await response.json()) as { id: string }[])[0]?.id);
    }
    const response = await fetch(`${baseUrl}/v1/jobs/analytics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_API_KEY}` },
      body: JSON.stringify({ data }),
    });
    const answer = (await response.json()) as { id?: string; ids?: string[] };
    return String(answer.id ?? answer.ids?.[0]);
  };
  try {
    const sent = new Map<string, number>();
    const events = liveEvents(count + 20, prefix);
    for (const [i, event] of events.entries()) {
      const at = now();
      const id = await enqueue({ events: [event] });
      if (i >= 20) sent.set(id, at); // the first 20 warm both sides up
      await pause(5);
    }
    await pause(200);
    const took: number[] = [];
    for (const [id, at] of sent) {
      const job = await queue.getJob(id);
      const startedAt = (job?.returnvalue as { startedAt?: number } | undefined)?.startedAt;
      if (startedAt === undefined) throw new Error(`${prefix}: job ${id} did not run`);
      took.push(startedAt - at);
    }
    return took;
  } finally {
    await stop();
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

const WHAT: Record<Path, string> = {
  raw: 'Queue.add → bare Worker',
  floor: 'floor: POST to node:http + Queue.add → bare Worker',
  peer: 'POST to bullmq-proxy (Bun) → bare Worker',
  http: 'POST /v1/jobs/analytics → Errand runtime',
  sdk: 'typed client enqueue (Idempotency-Key) → Errand runtime',
};

/**
 * Enqueue → processor start on an idle queue, p50 and p99: raw BullMQ, the floor of an HTTP
 * service, Errand's API over plain HTTP, and through the typed client (which sends an
 * Idempotency-Key, so one more Redis command). Target: p50 ≤ 1.5 ms and p99 ≤ 5 ms for
 * Errand's paths; each is shown against raw BullMQ, against the floor (same client, same
 * HTTP, nothing else), whose distance is Errand's own, and against the peer where it runs.
 */
export const enqueueLatency: BenchCase = {
  name: 'enqueue-latency',
  async run(ctx) {
    const count = Math.max(20, Math.round(300 * ctx.scale));
    const all: Record<Path, number[]> = { raw: [], floor: [], peer: [], http: [], sdk: [] };
    const withPeer = peerAvailable();
    const notes: string[] = [];
    for (let run = 1; run <= ctx.runs; run++) {
      const paths = [
        'raw',
        'floor',
        ...(withPeer ? ['peer' as const] : []),
        'http',
        'sdk',
      ] as const;
      for (const path of paths) {
        const took = await latencies(ctx, path, run, count);
        all[path].push(...took);
        notes.push(
          `run ${run} ${path}: p50 ${percentile(took, 50).toFixed(2)} ms, p99 ${percentile(took, 99).toFixed(2)} ms, max ${percentile(took, 100).toFixed(2)} ms`,
        );
        ctx.say(`  ${notes.at(-1)}`);
      }
    }
    const figure = (path: Path, p: number) => ({
      value: Number(percentile(all[path], p).toFixed(2)),
      unit: `ms p${p}`,
      what: WHAT[path],
    });
    const rows: Row[] = [];
    for (const path of ['http', 'sdk'] as const) {
      for (const [p, limit] of [
        [50, 1.5],
        [99, 5],
      ] as const) {
        const errand = figure(path, p);
        const name = `enqueue → processor start, idle queue, ${path.toUpperCase()}, p${p}`;
        rows.push({
          case: name,
          baseline: figure('raw', p),
          errand,
          target: `≤ ${limit} ms`,
          pass: errand.value <= limit,
          notes: rows.length === 0 ? notes : [],
        });
        rows.push({
          case: `${name}, against the floor`,
          baseline: figure('floor', p),
          errand,
          notes: [],
        });
        if (withPeer) {
          const baseline = figure('peer', p);
          rows.push({ case: `${name}, against the peer`, baseline, errand, notes: [] });
        }
      }
    }
    return rows;
  },
};
