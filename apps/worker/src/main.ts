import { closeServer, listen, opsRouter } from '@errand/http';
import { onShutdown, startupFailed } from '@errand/lifecycle';
import { createLogger, Metrics } from '@errand/observability';
import { connectRedis } from '@errand/redis';
import { LocalStorage } from '@errand/storage';
import express from 'express';
import { createTransport } from 'nodemailer';
import { concurrencyOf, loadEnv } from './env.ts';
import { makeProcessors } from './processors/index.ts';
import { startWorkers } from './runtime.ts';
import { loadTemplates } from './templates.ts';

try {
  // 1. config
  const env = loadEnv(process.env);
  const logger = createLogger('worker', env.LOG_LEVEL);

  // 2. dependencies
  const redis = await connectRedis(env.REDIS_URL, 'worker', {
    requireDurable: env.REDIS_REQUIRE_DURABLE,
    logger,
  });
  const transport = createTransport({ url: env.SMTP_URL, pool: true, maxConnections: 5 } as never);
  const processors = makeProcessors({
    email: { transport, defaultFrom: env.MAIL_FROM, render: loadTemplates() },
    image: {
      storage: new LocalStorage(env.STORAGE_DIR),
      maxInputPixels: env.IMAGE_MAX_PIXELS,
      fetch: {
        maxBytes: env.IMAGE_MAX_BYTES,
        timeoutMs: env.IMAGE_FETCH_TIMEOUT_MS,
        allowIPAddressList: env.IMAGE_FETCH_ALLOW_IPS,
      },
    },
    analytics: { redis, keyPrefix: `${env.QUEUE_PREFIX}:analytics`, dedupeSeconds: 30 * 24 * 3600 },
  });
  const metrics = new Metrics('worker');

  // 3. start: the queue workers, then health and metrics
  const runtime = startWorkers({
    types: env.WORKER_QUEUES,
    processors,
    redisUrl: env.REDIS_URL,
    prefix: env.QUEUE_PREFIX,
    concurrency: concurrencyOf(env),
    logger,
    metrics,
  });
  await runtime.ready();
  const server = await listen(
    express().use(opsRouter({ redis, metrics })),
    env.WORKER_PORT,
    env.WORKER_HOST,
  );
  logger.info({ queues: env.WORKER_QUEUES, port: env.WORKER_PORT }, 'worker running');

  // 4. shutdown: stop taking jobs, let running ones finish, then close connections
  onShutdown(logger, env.SHUTDOWN_TIMEOUT_MS, async () => {
    await runtime.close();
    transport.close();
    await closeServer(server);
    await redis.quit();
  });
} catch (error) {
  startupFailed('worker', error);
}
