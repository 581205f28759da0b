import type { Server } from 'node:http';
import { closeQueues, type JobType, openQueues, type Queues } from '@errand/contract';
import { closeServer, listen } from '@errand/http';
import { createLogger, Metrics } from '@errand/observability';
import { createRedis } from '@errand/redis';
import { baseUrl, startTestRedis, type TestRedis } from '@errand/testing';
import type { Redis } from 'ioredis';
import { buildApp } from './app.ts';
import { producerMetrics } from './deps.ts';

/** The producer's app in-process, on its own real Redis, listening on a free port. */
export async function startProducer(
  prefix: string,
  options: { bodyLimitBytes?: number; maxWaiting?: Partial<Record<JobType, number>> } = {},
) {
  const server: TestRedis = await startTestRedis();
  const redis: Redis = createRedis(server.url, 'producer', { lazyConnect: true });
  await redis.connect();
  const queues: Queues = openQueues(redis, prefix);
  const deps = {
    redis,
    queues,
    logger: createLogger('test', 'silent'),
    metrics: producerMetrics(new Metrics('test')),
    prefix,
    maxWaiting: { email: 0, image: 0, analytics: 0, ...options.maxWaiting },
  };
  const http: Server = await listen(
    buildApp(deps, { bodyLimitBytes: options.bodyLimitBytes ?? 1024 * 1024 }),
    0,
    '127.0.0.1',
  );
  return {
    api: baseUrl(http),
    redisServer: server,
    redis,
    queues,
    async stop() {
      await closeServer(http);
      await closeQueues(queues);
      redis.disconnect();
      await server.stop();
    },
  };
}
