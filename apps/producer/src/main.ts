import { closeQueues, openQueues } from '@errand/contract';
import { closeServer, listen } from '@errand/http';
import { onShutdown, startupFailed } from '@errand/lifecycle';
import { createLogger, Metrics } from '@errand/observability';
import { connectRedis } from '@errand/redis';
import { buildApp } from './app.ts';
import { producerMetrics } from './deps.ts';
import { loadEnv, maxWaitingOf } from './env.ts';

try {
  // 1. config
  const env = loadEnv(process.env);
  const logger = createLogger('producer', env.LOG_LEVEL);

  // 2. dependencies
  const redis = await connectRedis(env.REDIS_URL, 'producer', {
    requireDurable: env.REDIS_REQUIRE_DURABLE,
    logger,
  });
  const queues = openQueues(redis, env.QUEUE_PREFIX);
  const metrics = producerMetrics(new Metrics('producer'));
  const app = buildApp(
    { redis, queues, logger, metrics, prefix: env.QUEUE_PREFIX, maxWaiting: maxWaitingOf(env) },
    { bodyLimitBytes: env.BODY_LIMIT_BYTES },
  );

  // 3. start
  const server = await listen(app, env.PRODUCER_PORT, env.PRODUCER_HOST);
  logger.info({ url: `http://${env.PRODUCER_HOST}:${env.PRODUCER_PORT}` }, 'producer listening');

  // 4. shutdown: stop accepting, finish requests in flight, close Redis
  onShutdown(logger, env.SHUTDOWN_TIMEOUT_MS, async () => {
    await closeServer(server);
    await closeQueues(queues);
    await redis.quit();
  });
} catch (error) {
  startupFailed('producer', error);
}
