import { z } from 'zod';
import { envVar } from './parse.ts';

/**
 * The settings every app reads, declared once and spread into each app's schema (where Redis
 * is, `RedisLocationEnv` of `@errand/redis`, is a part of its own beside them):
 * `z.object({ ...commonEnv({ shutdownTimeoutMs: 10_000 }), PRODUCER_PORT: … })`.
 */
export const commonEnv = ({ shutdownTimeoutMs }: { shutdownTimeoutMs: number }) => ({
  /** Refuse to start on a Redis with AOF off or that may evict keys; `false` only warns. */
  REDIS_REQUIRE_DURABLE: envVar.bool(true),
  /** BullMQ's key prefix, under which every key of Errand lives; `{errand}` on a cluster. */
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:{}_-]+$/)
    .default('errand'),
  /** How long a shutdown may drain before it is forced. */
  SHUTDOWN_TIMEOUT_MS: envVar.int(shutdownTimeoutMs, 1),
  LOG_LEVEL: envVar.logLevel(),
});
