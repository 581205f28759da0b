import { jobs } from '@errand/contract';
import { queuePrefix } from '@errand/queues';
import { Queue } from 'bullmq';
import { alternate, type BenchCase, type BenchContext, type Row } from '../case.ts';
import { liveEvents } from '../events.ts';
import { cpuMeter, drained, perSecond, pooled } from '../measure.ts';
import { BENCH_API_KEY, startEndToEnd } from '../processes.ts';

const JOBS_PER_REQUEST = 100;
const EVENTS_PER_JOB = 10;
const IN_FLIGHT = 4;
const TARGET = 50_000;

/** `requests` batches of 100 jobs × 10 events of live traffic, ids unique to `tag`. */
function batches(requests: number, tag: string) {
  const events = liveEvents(requests * JOBS_PER_REQUEST * EVENTS_PER_JOB, tag);
  return Array.from({ length: requests }, (_, r) =>
    Array.from({ length: JOBS_PER_REQUEST }, (_, j) => {
      const first = (r * JOBS_PER_REQUEST + j) * EVENTS_PER_JOB;
      return { data: { events: events.slice(first, first + EVENTS_PER_JOB) } };
    }),
  );
}

/**
 * Events end to end: Errand's batch API (a producer process) and one worker process
 * aggregating them, against raw BullMQ `addBulk` of the same jobs drained by a bare no-op
 * Worker process; both on the same Redis, from first request to last job done.
 */
async function ingestOnce(
  ctx: BenchContext,
  side: 'raw' | 'errand',
  run: number,
  requests: number,
) {
  const prefix = `ingest-${side}-${run}`;
  const queue = new Queue(jobs.analytics.queue, {
    connection: ctx.redis,
    prefix: queuePrefix(prefix, jobs.analytics.queue),
  });
  const bodies = batches(requests, prefix);
  const { worker, producer, port, stop } = await startEndToEnd(ctx, prefix, {
    worker: side === 'raw' ? 'bare' : 'errand',
    producer: side === 'errand' ? 'errand' : undefined,
  });
  const payloads = bodies.map((jobsOf) => JSON.stringify({ jobs: jobsOf }));
  const meter = await cpuMeter(ctx.redis, {
    worker: worker.child.pid,
    ...(producer ? { producer: producer.child.pid } : {}),
  });
  const from = performance.now();
  await pooled([...bodies.keys()], IN_FLIGHT, async (i) => {
    if (side === 'raw') {
      const items = (bodies[i] ?? []).map(({ data }) => ({
        name: 'bench',
        data,
        opts: jobs.analytics.defaults,
      }));
      await queue.addBulk(items);
      return;
    }
    const response = await fetch(`http://127.0.0.1:${port}/v1/jobs/analytics/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_API_KEY}` },
      body: payloads[i],
    });
    if (response.status !== 202) {
      throw new Error(`batch answered ${response.status}: ${await response.text()}`);
    }
    await response.arrayBuffer();
  });
  const sent = performance.now();
  const to = await drained(queue);
  const note = `sent in ${((sent - from) / 1000).toFixed(1)} s, done ${((to - sent) / 1000).toFixed(1)} s later; ${await meter.shares((to - from) / 1000, requests * JOBS_PER_REQUEST * EVENTS_PER_JOB)}`;
  await stop();
  await queue.obliterate({ force: true });
  await queue.close();
  return { rate: perSecond(requests * JOBS_PER_REQUEST * EVENTS_PER_JOB, from, to), note };
}

export const analyticsIngest: BenchCase = {
  name: 'analytics-ingest',
  async run(ctx): Promise<Row[]> {
    const requests = Math.round(300 * ctx.scale);
    const { best, notes } = await alternate(
      ctx,
      ['raw', 'errand'],
      (side, run) => ingestOnce(ctx, side, run, requests),
      'events/s',
    );
    const { errand, raw } = best;
    return [
      {
        case: `${requests * JOBS_PER_REQUEST * EVENTS_PER_JOB} events end to end, ${JOBS_PER_REQUEST} jobs × ${EVENTS_PER_JOB} events per request, ${IN_FLIGHT} in flight, 1 worker`,
        baseline: { value: raw, unit: 'events/s', what: 'raw addBulk + bare no-op Worker' },
        errand: { value: errand, unit: 'events/s', what: 'batch API + Errand worker, aggregated' },
        ratio: errand / raw,
        target: `≥ ${TARGET.toLocaleString('en-US')} events/s`,
        pass: errand >= TARGET,
        notes,
      },
    ];
  },
};
