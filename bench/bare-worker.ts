/**
 * The baseline: a bare BullMQ Worker with a no-op processor, in a process of its own, with
 * the completed/failed retention Errand's worker uses by default (so both trim alike). The
 * job's result is the moment the processor started (ms since the epoch, µs precision), for
 * the latency case. With AGGREGATE=1 the processor is instead Errand's analytics aggregation
 * alone (`makeIngest` with the default settings, its own auto-pipelined connection, as
 * Errand's worker has): the floor of an analytics worker, without Errand's runtime around it.
 * Env: REDIS_URL, QUEUE, PREFIX, CONCURRENCY, AGGREGATE.
 */
import {
  type AnalyticsSettings,
  DEFAULT_DEDUPE_WINDOW_S,
  DEFAULT_RETENTION_S,
  makeIngest,
} from '@errand/analytics';
import type { AnalyticsPayload } from '@errand/contract';
import { queuePrefix } from '@errand/queues';
import { type Job, Worker } from 'bullmq';
import { Redis } from 'ioredis';

const env = process.env;
const prefix = env.PREFIX ?? 'bare';
const connection = new Redis(env.REDIS_URL ?? '', { maxRetriesPerRequest: null });
const aggregating = env.AGGREGATE === '1';
const commands = aggregating
  ? new Redis(env.REDIS_URL ?? '', { enableAutoPipelining: true })
  : undefined;
const settings: AnalyticsSettings = {
  prefix,
  retentionS: DEFAULT_RETENTION_S,
  dedupeWindowS: DEFAULT_DEDUPE_WINDOW_S,
  topProperties: undefined,
};
const ingest = commands ? makeIngest(commands, settings) : undefined;
const worker = new Worker(
  env.QUEUE ?? '',
  ingest
    ? (job: Job<AnalyticsPayload>) => ingest(job.data.events)
    : async () => ({ startedAt: performance.timeOrigin + performance.now() }),
  {
    connection,
    prefix: queuePrefix(prefix, env.QUEUE ?? ''),
    concurrency: Number(env.CONCURRENCY ?? 1),
    removeOnComplete: { age: 24 * 3600, count: 10_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  },
);
await worker.waitUntilReady();
console.log('worker running');
process.once('SIGTERM', async () => {
  await worker.close();
  connection.disconnect();
  commands?.disconnect();
});
