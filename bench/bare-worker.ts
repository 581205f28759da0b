/**
 * The baseline: a bare BullMQ Worker with a no-op processor, in a process of its own, with
 * the completed/failed retention Errand's worker uses by default (so both trim alike). The
 * job's result is the moment the processor started (ms since the epoch, µs precision), for
 * the latency case. Env: REDIS_URL, QUEUE, PREFIX, CONCURRENCY.
 */
import { queuePrefix } from '@errand/queues';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';

const env = process.env;
const connection = new Redis(env.REDIS_URL ?? '', { maxRetriesPerRequest: null });
const worker = new Worker(
  env.QUEUE ?? '',
  async () => ({ startedAt: performance.timeOrigin + performance.now() }),
  {
    connection,
    prefix: queuePrefix(env.PREFIX ?? 'bare', env.QUEUE ?? ''),
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
});
