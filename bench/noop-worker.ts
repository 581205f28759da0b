/**
 * Errand's worker runtime with nothing to run: apps/worker's `startWorkers` (contract check,
 * timeout, hand-back, metrics, the job lines at LOG_LEVEL, to stdout) over the analytics
 * queue, whose processor returns at once; `/metrics` and the health routes on WORKER_PORT as
 * main.ts serves them. What it costs is the runtime's, not a processor's: the figure to set
 * beside a bare BullMQ Worker. Settings come from the worker's own env.ts (REDIS_URL,
 * QUEUE_PREFIX, ANALYTICS_CONCURRENCY, WORKER_PORT, LOG_LEVEL…); says `worker running
 * on <port>` once it takes jobs and listens.
 */
import type { AddressInfo } from 'node:net';
import { closeServer, listen, opsRouter } from '@errand/http';
import { onShutdown, startupFailed } from '@errand/lifecycle';
import { createLogger, Metrics } from '@errand/observability';
import { createRedis } from '@errand/redis';
import express from 'express';
import { loadEnv } from '../apps/worker/src/env.ts';
import type { Processors } from '../apps/worker/src/processor.ts';
import { startWorkers } from '../apps/worker/src/runtime.ts';

/** Returns the moment it started, for the latency case (bench/cases/enqueue-latency.ts). */
const noop = async () => ({ startedAt: performance.timeOrigin + performance.now() });

try {
  const env = loadEnv(process.env);
  const logger = createLogger('worker', env.LOG_LEVEL);
  const redis = createRedis(env.redis, 'worker');
  const metrics = new Metrics('worker');
  const runtime = startWorkers({
    ...env.runtime,
    types: ['analytics'],
    // Only the analytics processor is ever called: the others are never served here.
    processors: { analytics: noop } as unknown as Processors,
    logger,
    metrics,
  });
  await runtime.ready();
  const ops = express().use(opsRouter({ redis, prefix: env.QUEUE_PREFIX, metrics }));
  const server = await listen(ops, env.WORKER_PORT, env.WORKER_HOST);
  const { port } = server.address() as AddressInfo;
  logger.info({ queues: ['analytics'], port }, `worker running on ${port}`);

  onShutdown(logger, env.SHUTDOWN_TIMEOUT_MS + 5_000, async () => {
    await runtime.close(env.SHUTDOWN_TIMEOUT_MS);
    await closeServer(server);
    redis.disconnect();
  });
} catch (error) {
  startupFailed('noop-worker', error);
}
