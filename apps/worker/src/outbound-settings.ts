import { envVar } from '@errand/config';
import type { LimitSpec } from '@errand/limiter';
import { z } from 'zod';
import { WEBHOOK_SCHEDULE_MS } from './backoff.ts';

/*
 * How the worker calls out (http jobs, webhook deliveries): the settings of `OutboundDeps`,
 * the delivery processor and the retry schedule. Read from the same environment as env.ts,
 * so no name here may be a queue's setting (`WEBHOOK_TIMEOUT_MS`…): both would read it.
 */

const list = (text: string) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

const limitSpec = z.strictObject({
  concurrency: z.int().min(1).optional(),
  ratePerSecond: z.number().positive().optional(),
});

/** `TARGET_LIMITS`: `{ "<origin>": { concurrency?, ratePerSecond? } }`, over the defaults. */
const targetLimits = envVar
  .json('{}', 'JSON: { "<origin>": { concurrency?, ratePerSecond? } }')
  .pipe(
    z.record(
      z
        .string()
        .regex(/^https?:\/\/[^/]+$/, 'an origin: scheme://host[:port]')
        .refine(
          (origin) => URL.canParse(origin) && new URL(origin).origin === origin,
          'an origin as URLs give it: lower case, no default port (https://api.example.com)',
        ),
      limitSpec,
    ),
  );

const schedule = z
  .string()
  .default(WEBHOOK_SCHEDULE_MS.join(','))
  .transform(list)
  .pipe(
    z
      .array(
        z
          .string()
          .regex(/^\d{1,9}$/, 'whole milliseconds')
          .transform(Number),
      )
      .min(1)
      .max(50),
  );

export const outboundSettings = z
  .object({
    /** Private addresses (IPs or CIDRs) http jobs and deliveries may reach; none by default. */
    OUTBOUND_ALLOW_IPS: z.string().default('').transform(list),
    /** An http job's request timeout when the job names none. */
    HTTP_REQUEST_TIMEOUT_MS: envVar.int(30_000, 100),
    /** Requests in flight to one origin, over every worker, unless TARGET_LIMITS says otherwise. */
    TARGET_CONCURRENCY: envVar.int(10, 1),
    /** Requests per second to one origin, over every worker; no limit when unset. */
    TARGET_RATE_PER_SECOND: z.coerce.number().positive().optional(),
    TARGET_LIMITS: targetLimits,
    /** One delivery request; the attempt as a whole is bounded by WEBHOOK_TIMEOUT_MS (the queue's). */
    WEBHOOK_REQUEST_TIMEOUT_MS: envVar.int(15_000, 100),
    /** The wait before each attempt of a delivery, in ms; Standard Webhooks' schedule by default. */
    WEBHOOK_RETRY_SCHEDULE_MS: schedule,
    WEBHOOK_DISABLE_AFTER_DAYS: envVar.int(5, 1),
    WEBHOOK_SLOWDOWN_MS: envVar.int(30_000, 0),
  })
  .transform((env) => ({
    allowIPAddressList: env.OUTBOUND_ALLOW_IPS,
    httpTimeoutMs: env.HTTP_REQUEST_TIMEOUT_MS,
    limits: (origin: string): LimitSpec => ({
      concurrency: env.TARGET_CONCURRENCY,
      ...(env.TARGET_RATE_PER_SECOND ? { ratePerSecond: env.TARGET_RATE_PER_SECOND } : {}),
      ...env.TARGET_LIMITS[origin],
    }),
    webhookTimeoutMs: env.WEBHOOK_REQUEST_TIMEOUT_MS,
    webhookScheduleMs: env.WEBHOOK_RETRY_SCHEDULE_MS,
    disableAfterMs: env.WEBHOOK_DISABLE_AFTER_DAYS * 86_400_000,
    slowDownMs: env.WEBHOOK_SLOWDOWN_MS,
  }));
export type OutboundSettings = z.output<typeof outboundSettings>;
