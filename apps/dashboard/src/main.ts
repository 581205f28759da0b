import { closeServer, listen, opsRouter } from '@errand/http';
import { onShutdown, startupFailed } from '@errand/lifecycle';
import { createLogger, Metrics } from '@errand/observability';
import { closeQueues, makeSchedules, openQueues, scheduleMetrics } from '@errand/queues';
import { connectRedis } from '@errand/redis';
import express from 'express';
import { boardRouter } from './board.ts';
import { loadEnv } from './env.ts';

try {
  // 1. config
  const env = loadEnv(process.env);
  const logger = createLogger('dashboard', env.LOG_LEVEL);

  // 2. dependencies
  const redis = await connectRedis(env.REDIS_URL, 'producer', {
    requireDurable: env.REDIS_REQUIRE_DURABLE,
    logger,
  });
  const queues = openQueues(redis, env.QUEUE_PREFIX);
  const metrics = new Metrics('dashboard');
  // The one process that sees every queue exports the schedules' next and last runs.
  scheduleMetrics(metrics, makeSchedules(redis, queues, env.QUEUE_PREFIX));
  const app = express()
    .use(opsRouter({ redis, metrics }))
    .use('/', boardRouter(queues, { basePath: '/', readOnly: env.DASHBOARD_READ_ONLY }));

  // 3. start
  const server = await listen(app, env.DASHBOARD_PORT, env.DASHBOARD_HOST);
  logger.info({ url: `http://${env.DASHBOARD_HOST}:${env.DASHBOARD_PORT}` }, 'dashboard listening');

  // 4. shutdown
  onShutdown(logger, env.SHUTDOWN_TIMEOUT_MS, async () => {
    await closeServer(server);
    await closeQueues(queues);
    await redis.quit();
  });
} catch (error) {
  startupFailed('dashboard', error);
}
