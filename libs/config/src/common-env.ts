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
  /**
   * The prefix of every key of Errand's. Each queue adds a hash tag of its own after it
   * (`errand:{email}`, see libs/queues key-layout), so the prefix itself holds no braces.
   */
  QUEUE_PREFIX: z
    .string()
    .regex(
      /^[A-Za-z0-9:_-]+$/,
      'may hold only letters, digits and : _ - (each queue adds its own {hash tag})',
    )
    .default('errand'),
  /** How long a shutdown may drain before it is forced. */
  SHUTDOWN_TIMEOUT_MS: envVar.int(shutdownTimeoutMs, 1),
  LOG_LEVEL: envVar.logLevel(),
});
