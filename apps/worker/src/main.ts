import { fileURLToPath } from 'node:url';
import { makeAnalyticsReader } from '@errand/analytics';
import { closeServer, listen, opsRouter } from '@errand/http';
import { onShutdown, startupFailed } from '@errand/lifecycle';
import { createLogger, Metrics } from '@errand/observability';
import {
  closeQueues,
  loadScheduleFile,
  makeSchedules,
  openQueues,
  reconcileSchedules,
  refuseOldKeyLayout,
} from '@errand/queues';
import { connectRedis, createRedis } from '@errand/redis';
import { objectLinks, openStorage } from '@errand/storage';
import express from 'express';
import { createTransport } from 'nodemailer';
import { loadEnv } from './env.ts';
import { makeJobOutcomes } from './job-outcomes.ts';
import { makeLiveness } from './liveness.ts';
import { makeOutbound } from './outbound-deps.ts';
import { makeProcessors } from './processors/index.ts';
import { startWorkers } from './runtime.ts';
import { loadTemplates } from './templates.ts';

const DAY_S = 24 * 3600;
/** The shipped schedules file, wherever the worker is started from. */
const DEFAULT_SCHEDULES_FILE = fileURLToPath(
  new URL('../../../config/schedules.yaml', import.meta.url),
);

try {
  // 1. config
  const env = loadEnv(process.env);
  const logger = createLogger('worker', env.LOG_LEVEL);
  // A bad schedules file stops start-up here, before anything connects.
  const scheduleFile = env.SCHEDULES_FILE ?? DEFAULT_SCHEDULES_FILE;
  const entries = await loadScheduleFile(scheduleFile, { required: !!env.SCHEDULES_FILE });

  // 2. dependencies
  // Image sources and outputs: a folder, or an S3-compatible bucket that must answer now.
  const storage = openStorage(env.storage);
  await storage.check();
  // Processors' own commands (analytics script, send ledger): those of the jobs running at
  // once go out in one write per tick instead of one each.
  const redis = await connectRedis(env.redis, 'worker', {
    requireDurable: env.REDIS_REQUIRE_DURABLE,
    startupCheck: (client) => refuseOldKeyLayout(client, env.QUEUE_PREFIX),
    logger,
    autoPipelining: true,
  });
  // The queues (schedules, the digest's mails) on a connection of their own: BullMQ defines
  // its ~60 scripts on a queue's connection, and ioredis copies every defined script into
  // each auto-pipeline, which would tax every batch of the processors' commands.
  const queueRedis = createRedis(env.redis, 'worker');
  // Schedules: make the schedules file true in Redis before taking any job.
  const queues = openQueues(queueRedis, env.QUEUE_PREFIX, { logger });
  if (entries) {
    const reconciled = await reconcileSchedules(
      makeSchedules(queueRedis, queues, env.QUEUE_PREFIX),
      entries,
    ).catch(async (error) => {
      await closeQueues(queues);
      queueRedis.disconnect();
      redis.disconnect(); // so the failed start can exit
      throw error;
    });
    logger.info({ file: scheduleFile, ...reconciled }, 'schedules reconciled');
  } else {
    // Without its file a worker cannot tell a schedule taken out of it from one it never saw.
    logger.warn({ file: scheduleFile }, 'no schedules file: file schedules left as they are');
  }
  // Pooled SMTP; the URL carries auth and TLS (smtps://, or STARTTLS when the server offers it).
  const transport = createTransport({ url: env.SMTP_URL, pool: true, maxConnections: 5 });
  const metrics = new Metrics('worker');
  // http jobs and webhook deliveries: what they may call, how they sign, their limits
  const outbound = makeOutbound(redis, env.QUEUE_PREFIX, env.outbound, metrics);
  const processors = makeProcessors({
    email: {
      transport,
      defaultFrom: env.MAIL_FROM,
      render: loadTemplates(),
      ledger: {
        redis,
        // Beside the email queue's keys: one slot with its jobs on a Cluster.
        keyPrefix: queues.email.toKey('sent'),
        ttlSeconds: env.EMAIL_LEDGER_DAYS * DAY_S,
      },
      throttleMs: env.EMAIL_THROTTLE_MS,
    },
    image: {
      storage,
      links: objectLinks(storage, env.storage.urlExpirySeconds),
      maxInputPixels: env.IMAGE_MAX_PIXELS,
      fetch: {
        maxBytes: env.IMAGE_MAX_BYTES,
        timeoutMs: env.IMAGE_FETCH_TIMEOUT_MS,
        allowIPAddressList: env.IMAGE_FETCH_ALLOW_IPS,
      },
    },
    analytics: { redis, settings: env.analytics },
    http: outbound.http,
    webhook: outbound.webhook,
    digest: { analytics: makeAnalyticsReader(redis, env.QUEUE_PREFIX), emailQueue: queues.email },
    imageCleanup: { storage },
    analyticsMaintenance: { redis, settings: env.analytics },
  });
  // Whether the Workers still consume: /readyz fails at once, /healthz after the grace.
  const liveness = makeLiveness({ graceMs: env.WORKER_LIVENESS_GRACE_MS, logger });

  // 3. start: the queue workers, then health and metrics
  const runtime = startWorkers({
    ...env.runtime,
    types: env.WORKER_QUEUES,
    processors,
    logger,
    metrics,
    outcomes: makeJobOutcomes({
      redis,
      prefix: env.QUEUE_PREFIX,
      deliveries: queues.webhook,
      subscriptions: outbound.subscriptions,
      logger,
    }),
    liveness,
  });
  await runtime.ready();
  const ops = express().use(
    opsRouter({
      redis,
      prefix: env.QUEUE_PREFIX,
      metrics,
      readiness: liveness.readiness,
      liveness: liveness.liveness,
    }),
  );
  const server = await listen(ops, env.WORKER_PORT, env.WORKER_HOST);
  logger.info({ queues: env.WORKER_QUEUES, port: env.WORKER_PORT }, 'worker running');

  // 4. shutdown: stop taking jobs, let running ones finish until the deadline, hand back the
  // rest, then close connections. The process-level limit leaves time for the hand-back.
  onShutdown(logger, env.SHUTDOWN_TIMEOUT_MS + 5_000, async () => {
    liveness.close();
    await runtime.close(env.SHUTDOWN_TIMEOUT_MS);
    transport.close();
    await closeServer(server);
    await closeQueues(queues);
    await queueRedis.quit();
    await redis.quit();
    storage.close();
  });
} catch (error) {
  startupFailed('worker', error);
}
