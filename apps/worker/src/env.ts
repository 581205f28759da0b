import {
  type AnalyticsSettings,
  DEFAULT_DEDUPE_WINDOW_S,
  DEFAULT_RETENTION_S,
} from '@errand/analytics';
import { commonEnv, envVar, parseEnvParts } from '@errand/config';
import { analyticsName, type JobType, jobTypes } from '@errand/contract';
import { type RedisLocation, RedisLocationEnv } from '@errand/redis';
import { StorageEnv } from '@errand/storage';
import { z } from 'zod';
import { outboundSettings } from './outbound-settings.ts';
import { queueSettings } from './queue-settings.ts';
import type { RuntimeOptions } from './runtime.ts';

const HOUR_S = 3_600;
const DAY_S = 24 * HOUR_S;

const commaList = z
  .string()
  .default('')
  .transform((text) =>
    text
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean),
  );

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
  /** Sidekiq's 25 s shutdown: long enough for a send to finish, short of a 30 s orchestrator kill. */
  ...commonEnv({ shutdownTimeoutMs: 25_000 }),
  WORKER_PORT: envVar.port(3002),
  WORKER_HOST: z.string().min(1).default('127.0.0.1'),
  /** Comma-separated job types this process serves; all when empty. */
  WORKER_QUEUES: queueList,
  /** Redis lock of a running job; a worker that dies loses its jobs to others after this. */
  WORKER_LOCK_DURATION_MS: envVar.int(15_000, 1_000),
  /** How often workers look for jobs whose worker died. */
  WORKER_STALLED_INTERVAL_MS: envVar.int(5_000, 500),
  /**
   * `/healthz` fails (so an orchestrator restarts the process) once its Workers have not been
   * consuming for this long without a break: long enough that a Redis restart or failover
   * restarts no worker, short enough that a stuck one is not left idle for minutes.
   */
  WORKER_LIVENESS_GRACE_MS: envVar.int(60_000, 1_000),
  /** Failed jobs are kept this long for inspection and retry, and at most this many per queue. */
  FAILED_RETENTION_HOURS: envVar.int(7 * 24, 1),
  /** Sidekiq's dead set keeps 10,000 too: a flood of failures cannot fill Redis's memory. */
  FAILED_RETENTION_COUNT: envVar.int(10_000, 1),
  /** Completed jobs are kept this long, and at most this many per queue. */
  COMPLETED_RETENTION_HOURS: envVar.int(24, 0),
  COMPLETED_RETENTION_COUNT: envVar.int(10_000, 0),
  /** How long the email send ledger remembers a sent job. */
  EMAIL_LEDGER_DAYS: envVar.int(30, 1),
  /** Pause of the email queue on SMTP 421/451 when the server names no time. */
  EMAIL_THROTTLE_MS: envVar.int(60_000, 1),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'expected an smtp:// or smtps:// URL')
    .default('smtp://127.0.0.1:1025'),
  MAIL_FROM: z.string().min(3).default('Errand <no-reply@errand.localhost>'),
  /** Largest image source, fetched (`{ url }`) or stored (`{ key }`). */
  IMAGE_MAX_BYTES: envVar.int(20 * 1024 * 1024, 1),
  IMAGE_MAX_PIXELS: envVar.int(100_000_000, 1),
  IMAGE_FETCH_TIMEOUT_MS: envVar.int(15_000, 1),
  /** Private addresses image URLs may reach anyway (comma-separated IPs); none by default. */
  IMAGE_FETCH_ALLOW_IPS: commaList,
  /** Analytics buckets are kept this long after they end, then expire by themselves. */
  ANALYTICS_MINUTE_RETENTION_HOURS: envVar.int(DEFAULT_RETENTION_S.minute / HOUR_S, 1),
  ANALYTICS_HOUR_RETENTION_DAYS: envVar.int(DEFAULT_RETENTION_S.hour / DAY_S, 1),
  ANALYTICS_DAY_RETENTION_DAYS: envVar.int(DEFAULT_RETENTION_S.day / DAY_S, 1),
  /** An analytics event id counts once within this window (remembered up to 1.5 times it). */
  ANALYTICS_DEDUPE_WINDOW_HOURS: envVar.int(DEFAULT_DEDUPE_WINDOW_S / HOUR_S, 1),
  /** String properties whose top values are kept (comma-separated); every one when empty. */
  ANALYTICS_TOP_PROPERTIES: commaList.pipe(z.array(analyticsName)),
  /**
   * The schedules file, reconciled at start. A missing file at the default path means no
   * file schedules; a path given here must exist.
   */
  SCHEDULES_FILE: z.string().min(1).optional(),
});

export type WorkerEnv = z.output<typeof WorkerEnv>;

/** The worker's settings, with per-queue settings (`EMAIL_CONCURRENCY`…) under `queues`. */
export function loadEnv(env: Record<string, string | undefined>) {
  const { base, queues, redis, outbound, storage } = parseEnvParts(
    {
      base: WorkerEnv,
      queues: queueSettings,
      redis: RedisLocationEnv,
      outbound: outboundSettings,
      storage: StorageEnv,
    },
    env,
    'worker',
  );
  return {
    ...base,
    queues,
    redis,
    outbound,
    storage,
    analytics: analyticsSettings(base),
    runtime: {
      ...runtimeSettings(base, queues, redis),
      webhookScheduleMs: outbound.webhookScheduleMs,
    },
  };
}

/** What `startWorkers` takes from the settings; the caller adds queues, processors, logs. */
const runtimeSettings = (
  env: WorkerEnv,
  queues: RuntimeOptions['settings'],
  redis: RedisLocation,
): Omit<
  RuntimeOptions,
  'types' | 'processors' | 'logger' | 'metrics' | 'webhookScheduleMs' | 'outcomes'
> => ({
  settings: queues,
  redisLocation: redis,
  prefix: env.QUEUE_PREFIX,
  lockDurationMs: env.WORKER_LOCK_DURATION_MS,
  stalledIntervalMs: env.WORKER_STALLED_INTERVAL_MS,
  retention: {
    failedHours: env.FAILED_RETENTION_HOURS,
    failedCount: env.FAILED_RETENTION_COUNT,
    completedHours: env.COMPLETED_RETENTION_HOURS,
    completedCount: env.COMPLETED_RETENTION_COUNT,
  },
});

const analyticsSettings = (env: WorkerEnv): AnalyticsSettings => ({
  prefix: env.QUEUE_PREFIX,
  retentionS: {
    minute: env.ANALYTICS_MINUTE_RETENTION_HOURS * HOUR_S,
    hour: env.ANALYTICS_HOUR_RETENTION_DAYS * DAY_S,
    day: env.ANALYTICS_DAY_RETENTION_DAYS * DAY_S,
  },
  dedupeWindowS: env.ANALYTICS_DEDUPE_WINDOW_HOURS * HOUR_S,
  topProperties:
    env.ANALYTICS_TOP_PROPERTIES.length > 0 ? new Set(env.ANALYTICS_TOP_PROPERTIES) : undefined,
});
