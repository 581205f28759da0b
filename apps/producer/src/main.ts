import { makeAnalyticsReader } from '@errand/analytics';
import { closeServer, listen } from '@errand/http';
import { onShutdown, startupFailed } from '@errand/lifecycle';
import { createLogger, Metrics } from '@errand/observability';
import { publishCallerPolicies } from '@errand/outbound';
import { closeQueues, makeSchedules, openQueues, refuseOldKeyLayout } from '@errand/queues';
import { connectRedis } from '@errand/redis';
import { objectLinks, openStorage } from '@errand/storage';
import { buildApp } from './app.ts';
import { ANONYMOUS } from './auth.ts';
import { producerMetrics } from './deps.ts';
import { loadEnv } from './env.ts';
import { makeJobEvents } from './job-events.ts';
import { policiesOf } from './outbound-check.ts';

try {
  // 1. config
  const env = loadEnv(process.env);
  const logger = createLogger('producer', env.LOG_LEVEL);
  if (env.API_KEYS.length === 0) {
    logger.warn(
      'NO API KEYS CONFIGURED: anyone who reaches this port can enqueue, cancel and retry jobs. ' +
        'Serving on loopback only; set API_KEYS before exposing the API.',
    );
  } else {
    const keys = env.API_KEYS.map((key) => ({
      name: key.name,
      scopes: [...key.scopes],
      allowedTargets: key.allowedTargets.length,
    }));
    logger.info({ keys }, 'api keys loaded');
  }

  // 2. dependencies
  // Image uploads and outputs: a folder, or an S3-compatible bucket that must answer now.
  const storage = openStorage(env.storage);
  await storage.check();
  // The commands of the requests in flight (rate limit, depth check, add) go out in one
  // write per tick instead of one each: a loaded producer's CPU went mostly to socket writes.
  const redis = await connectRedis(env.redis, 'producer', {
    requireDurable: env.REDIS_REQUIRE_DURABLE,
    startupCheck: (client) => refuseOldKeyLayout(client, env.QUEUE_PREFIX),
    logger,
    autoPipelining: true,
    commandTimeoutMs: env.REDIS_COMMAND_TIMEOUT_MS,
  });
  // The workers check every http job and callback against its key's targets as they are now.
  await publishCallerPolicies(
    redis,
    env.QUEUE_PREFIX,
    policiesOf(env.API_KEYS.length > 0 ? env.API_KEYS : [ANONYMOUS]),
  );
  const queues = openQueues(redis, env.QUEUE_PREFIX, { logger });
  const events = makeJobEvents({ redis, redisLocation: env.redis, queues, logger });
  const metrics = producerMetrics(new Metrics('producer'));
  const app = buildApp(
    {
      redis,
      queues,
      events,
      schedules: makeSchedules(redis, queues, env.QUEUE_PREFIX),
      analytics: makeAnalyticsReader(redis, env.QUEUE_PREFIX),
      logger,
      metrics,
      prefix: env.QUEUE_PREFIX,
      maxWaiting: env.maxWaiting,
      storage,
      links: objectLinks(storage, env.storage.urlExpirySeconds),
      uploadMaxBytes: env.UPLOAD_MAX_BYTES,
    },
    { bodyLimitBytes: env.BODY_LIMIT_BYTES, apiKeys: env.API_KEYS, rateLimit: env.API_RATE_LIMIT },
  );

  // 3. start
  const server = await listen(app, env.PRODUCER_PORT, env.PRODUCER_HOST);
  logger.info({ url: `http://${env.PRODUCER_HOST}:${env.PRODUCER_PORT}` }, 'producer listening');

  // 4. shutdown: stop accepting, end event streams, finish requests in flight, close Redis
  onShutdown(logger, env.SHUTDOWN_TIMEOUT_MS, async () => {
    const closing = closeServer(server);
    await events.close();
    await closing;
    await closeQueues(queues);
    await redis.quit();
    storage.close();
  });
} catch (error) {
  startupFailed('producer', error);
}
