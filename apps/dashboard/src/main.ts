import { closeServer, listen } from '@errand/http';
import { onShutdown, startupFailed } from '@errand/lifecycle';
import { createLogger, Metrics } from '@errand/observability';
import {
  closeQueues,
  makeSchedules,
  openQueues,
  refuseOldKeyLayout,
  scheduleMetrics,
} from '@errand/queues';
import { connectRedis } from '@errand/redis';
import { dashboardApp } from './app.ts';
import { makeAudit } from './audit.ts';
import { makeLoginLimits } from './auth/login-limits.ts';
import { makeSessions } from './auth/sessions.ts';
import { openDirectory } from './auth/users.ts';
import { loadEnv } from './env.ts';
import { queueMetrics } from './queue-metrics.ts';

try {
  // 1. config (the users file included: no users, no dashboard)
  const env = loadEnv(process.env);
  const logger = createLogger('dashboard', env.LOG_LEVEL);
  const directory = await openDirectory(env.DASHBOARD_USERS_FILE, (error) =>
    logger.error(
      { err: error },
      'users file: could not re-read it (gone: no users now; invalid: the last good list stays)',
    ),
  );

  // 2. dependencies
  // the producer's connection options: a request path fails fast rather than queueing commands
  const redis = await connectRedis(env.redis, 'producer', {
    requireDurable: env.REDIS_REQUIRE_DURABLE,
    startupCheck: (client) => refuseOldKeyLayout(client, env.QUEUE_PREFIX),
    logger,
  });
  const prefix = env.QUEUE_PREFIX;
  const queues = openQueues(redis, prefix, { logger });
  const metrics = new Metrics('dashboard');
  // The one process that sees every queue exports their depth and the schedules' runs.
  queueMetrics(metrics, { queues, redis });
  scheduleMetrics(metrics, makeSchedules(redis, queues, prefix));
  const app = dashboardApp({
    env,
    redis,
    queues,
    metrics,
    logger,
    directory,
    sessions: makeSessions(redis, prefix, {
      idleMs: env.DASHBOARD_SESSION_IDLE_MINUTES * 60_000,
      maxMs: env.DASHBOARD_SESSION_MAX_HOURS * 3_600_000,
    }),
    limits: makeLoginLimits(redis, prefix, {
      perUser: env.DASHBOARD_LOGIN_FAILURES_PER_USER,
      perIp: env.DASHBOARD_LOGIN_FAILURES_PER_IP,
    }),
    audit: makeAudit(redis, prefix, logger),
  });

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
