import { envVar, parseEnv } from '@errand/config';
import { z } from 'zod';

/** Every setting of the dashboard; nothing else in the app reads process.env. */
export const DashboardEnv = z.object({
  DASHBOARD_PORT: envVar.port(3001),
  /** Loopback by default: the dashboard has no authentication of its own yet. */
  DASHBOARD_HOST: z.string().min(1).default('127.0.0.1'),
  /** Hide retry, clean, promote and remove buttons. */
  DASHBOARD_READ_ONLY: envVar.bool(false),
  REDIS_URL: envVar.redisUrl(),
  REDIS_REQUIRE_DURABLE: envVar.bool(true),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:{}_-]+$/)
    .default('errand'),
  SHUTDOWN_TIMEOUT_MS: envVar.int(10_000, 1),
  LOG_LEVEL: envVar.logLevel(),
});

export const loadEnv = (env: Record<string, string | undefined>) =>
  parseEnv(DashboardEnv, env, 'dashboard');
