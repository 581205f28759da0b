import { envVar, parseEnv } from '@errand/config';
import type { JobType } from '@errand/contract';
import { z } from 'zod';
import { apiKeysVar } from './api-keys.ts';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Every setting of the producer; nothing else in the app reads process.env. */
export const ProducerEnv = z
  .object({
    NODE_ENV: z.string().default('development'),
    PRODUCER_PORT: envVar.port(3000),
    /** Loopback by default; any other address needs API_KEYS. */
    PRODUCER_HOST: z.string().min(1).default('127.0.0.1'),
    REDIS_URL: envVar.redisUrl(),
    REDIS_REQUIRE_DURABLE: envVar.bool(true),
    QUEUE_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9:{}_-]+$/)
      .default('errand'),
    BODY_LIMIT_BYTES: envVar.int(1024 * 1024, 1),
    API_KEYS: apiKeysVar,
    /** Requests per second per API key (all anonymous callers share one budget while no keys are set). */
    API_RATE_LIMIT: envVar.int(100, 1),
    /** Backpressure: 503 for new jobs while a queue has more than this many waiting (0 = no limit). */
    EMAIL_MAX_WAITING: envVar.int(0),
    IMAGE_MAX_WAITING: envVar.int(0),
    ANALYTICS_MAX_WAITING: envVar.int(0),
    SHUTDOWN_TIMEOUT_MS: envVar.int(10_000, 1),
    LOG_LEVEL: envVar.logLevel(),
  })
  .superRefine((env, ctx) => {
    if (env.API_KEYS.length > 0) return;
    if (env.NODE_ENV === 'production') {
      ctx.addIssue({
        code: 'custom',
        path: ['API_KEYS'],
        message: 'required when NODE_ENV=production: the API would be open to anyone',
      });
    } else if (!LOOPBACK.has(env.PRODUCER_HOST)) {
      ctx.addIssue({
        code: 'custom',
        path: ['PRODUCER_HOST'],
        message: `without API_KEYS the API serves only on loopback (127.0.0.1, ::1), not ${env.PRODUCER_HOST}`,
      });
    }
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
