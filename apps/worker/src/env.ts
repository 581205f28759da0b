import { envVar, parseEnv } from '@errand/config';
import { type JobType, jobTypes } from '@errand/contract';
import { z } from 'zod';

const queueList = z
  .string()
  .default('')
  .transform((text, ctx) => {
    const names = text
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean);
    const unknown = names.filter((name) => !(jobTypes as string[]).includes(name));
    if (unknown.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `unknown queue(s) ${unknown.join(', ')}; the queues are ${jobTypes.join(', ')}`,
      });
    }
    return (names.length > 0 ? [...new Set(names)] : jobTypes) as JobType[];
  });

/** Every setting of the worker; nothing else in the app reads process.env. */
export const WorkerEnv = z.object({
  WORKER_PORT: envVar.port(3002),
  WORKER_HOST: z.string().min(1).default('127.0.0.1'),
  REDIS_URL: envVar.redisUrl(),
  REDIS_REQUIRE_DURABLE: envVar.bool(true),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:{}_-]+$/)
    .default('errand'),
  /** Comma-separated job types this process serves; all when empty. */
  WORKER_QUEUES: queueList,
  EMAIL_CONCURRENCY: envVar.int(10, 1),
  IMAGE_CONCURRENCY: envVar.int(2, 1),
  ANALYTICS_CONCURRENCY: envVar.int(5, 1),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'expected an smtp:// or smtps:// URL')
    .default('smtp://127.0.0.1:1025'),
  MAIL_FROM: z.string().min(3).default('Errand <no-reply@errand.localhost>'),
  /** Local directory of image inputs (`{ key }` sources) and outputs. */
  STORAGE_DIR: z.string().min(1).default('data/storage'),
  IMAGE_MAX_BYTES: envVar.int(20 * 1024 * 1024, 1),
  IMAGE_MAX_PIXELS: envVar.int(100_000_000, 1),
  IMAGE_FETCH_TIMEOUT_MS: envVar.int(15_000, 1),
  /** Private addresses image URLs may reach anyway (comma-separated IPs); none by default. */
  IMAGE_FETCH_ALLOW_IPS: z
    .string()
    .default('')
    .transform((text) =>
      text
        .split(',')
        .map((ip) => ip.trim())
        .filter(Boolean),
    ),
  /** Sidekiq's 25 s: long enough for a send to finish, short of a 30 s orchestrator kill. */
  SHUTDOWN_TIMEOUT_MS: envVar.int(25_000, 1),
  LOG_LEVEL: envVar.logLevel(),
});

export type WorkerEnv = z.output<typeof WorkerEnv>;

export const loadEnv = (env: Record<string, string | undefined>) =>
  parseEnv(WorkerEnv, env, 'worker');

export const concurrencyOf = (env: WorkerEnv): Record<JobType, number> => ({
  email: env.EMAIL_CONCURRENCY,
  image: env.IMAGE_CONCURRENCY,
  analytics: env.ANALYTICS_CONCURRENCY,
});
