import { commonEnv, envVar, parseEnvParts } from '@errand/config';
import { envNameOf, type JobType, jobs, jobTypes } from '@errand/contract';
import { RedisLocationEnv } from '@errand/redis';
import { StorageEnv } from '@errand/storage';
import { z } from 'zod';
import { apiKeysVar } from './api-keys.ts';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Every setting of the producer; nothing else in the app reads process.env. */
export const ProducerEnv = z
  .object({
    ...commonEnv({ shutdownTimeoutMs: 10_000 }),
    NODE_ENV: z.string().default('development'),
    PRODUCER_PORT: envVar.port(3000),
    /** Loopback by default; any other address needs API_KEYS. */
    PRODUCER_HOST: z.string().min(1).default('127.0.0.1'),
    /** A Redis command with no answer after this long fails the request with 503 (a frozen Redis). */
    REDIS_COMMAND_TIMEOUT_MS: envVar.int(2_000, 50),
    BODY_LIMIT_BYTES: envVar.int(1024 * 1024, 1),
    API_KEYS: apiKeysVar,
    /** Requests per second per API key (all anonymous callers share one budget while no keys are set). */
    API_RATE_LIMIT: envVar.int(100, 1),
    /** Largest image a caller may upload (`PUT /v1/uploads/…`, or a presigned PUT). */
    UPLOAD_MAX_BYTES: envVar.int(20 * 1024 * 1024, 1),
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

/**
 * Backpressure per job type, `<TYPE>_MAX_WAITING`: 503 for new jobs while the queue has more
 * than this many waiting (0 = no limit); the catalog gives the default.
 */
const maxWaiting = z.looseObject({}).transform((env, ctx) => {
  const limits = {} as Record<JobType, number>;
  for (const type of jobTypes) {
    const name = `${envNameOf(type)}_MAX_WAITING`;
    const parsed = envVar.int(jobs[type].maxWaiting).safeParse(env[name]);
    if (parsed.success) limits[type] = parsed.data;
    else for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: [name] });
  }
  return limits;
});

/** The producer's settings, with the depth limit of each job type under `maxWaiting`. */
export function loadEnv(env: Record<string, string | undefined>) {
  const parts = parseEnvParts(
    { base: ProducerEnv, maxWaiting, redis: RedisLocationEnv, storage: StorageEnv },
    env,
    'producer',
  );
  return {
    ...parts.base,
    maxWaiting: parts.maxWaiting,
    redis: parts.redis,
    storage: parts.storage,
  };
}
