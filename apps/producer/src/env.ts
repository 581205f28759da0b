import { envVar, parseEnv } from '@errand/config';
import type { JobType } from '@errand/contract';
import { z } from 'zod';

/** Every setting of the producer; nothing else in the app reads process.env. */
export const ProducerEnv = z.object({
  PRODUCER_PORT: envVar.port(3000),
  /** Loopback by default: the API has no authentication of its own yet. */
  PRODUCER_HOST: z.string().min(1).default('127.0.0.1'),
  REDIS_URL: envVar.redisUrl(),
  REDIS_REQUIRE_DURABLE: envVar.bool(true),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:{}_-]+$/)
    .default('errand'),
  BODY_LIMIT_BYTES: envVar.int(1024 * 1024, 1),
  /** Backpressure: 503 for new jobs while a queue has more than this many waiting (0 = no limit). */
  EMAIL_MAX_WAITING: envVar.int(0),
  IMAGE_MAX_WAITING: envVar.int(0),
  ANALYTICS_MAX_WAITING: envVar.int(0),
  SHUTDOWN_TIMEOUT_MS: envVar.int(10_000, 1),
  LOG_LEVEL: envVar.logLevel(),
});

export type ProducerEnv = z.output<typeof ProducerEnv>;

/** Depth limit per job type; 0 means none. */
export const maxWaitingOf = (env: ProducerEnv): Record<JobType, number> => ({
  email: env.EMAIL_MAX_WAITING,
  image: env.IMAGE_MAX_WAITING,
  analytics: env.ANALYTICS_MAX_WAITING,
});

export const loadEnv = (env: Record<string, string | undefined>) =>
  parseEnv(ProducerEnv, env, 'producer');
