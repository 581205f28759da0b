import { envVar } from '@errand/config';
import { envNameOf, type JobType, jobs, jobTypes } from '@errand/contract';
import { z } from 'zod';

/**
 * How one queue runs in this process: the catalog's defaults, overridden by
 * `<QUEUE>_<FIELD>` in the environment.
 */
export interface QueueSettings {
  /** Jobs run at once by this process. */
  concurrency: number;
  /** At most `rateMax` jobs per `rateDurationMs`, over all workers together (kept in Redis). */
  rateMax: number | undefined;
  rateDurationMs: number;
  /** An attempt running longer is aborted and fails (and is retried). */
  timeoutMs: number;
  /** Whether the processor may throw `ThrottleError` (from the catalog: the processor's nature). */
  throttles: boolean;
}

const schemaFor = (type: JobType) => {
  const T = envNameOf(type);
  const { concurrency, timeoutMs, throttles } = jobs[type];
  return z
    .object({
      [`${T}_CONCURRENCY`]: envVar.int(concurrency, 1),
      [`${T}_RATE_MAX`]: z.coerce.number().int().min(1).optional(),
      [`${T}_RATE_DURATION_MS`]: envVar.int(1_000, 1),
      [`${T}_TIMEOUT_MS`]: envVar.int(timeoutMs, 1),
    })
    .transform(
      (v): QueueSettings => ({
        concurrency: v[`${T}_CONCURRENCY`] as number,
        rateMax: v[`${T}_RATE_MAX`] as number | undefined,
        rateDurationMs: v[`${T}_RATE_DURATION_MS`] as number,
        timeoutMs: v[`${T}_TIMEOUT_MS`] as number,
        throttles,
      }),
    );
};

/** Settings of every queue, from `EMAIL_CONCURRENCY`, `IMAGE_RATE_MAX`, `ANALYTICS_TIMEOUT_MS`… */
export const queueSettings = z.looseObject({}).transform((env, ctx) => {
  const settings = {} as Record<JobType, QueueSettings>;
  for (const type of jobTypes) {
    const parsed = schemaFor(type).safeParse(env);
    if (parsed.success) settings[type] = parsed.data;
    else for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, code: 'custom' });
  }
  return settings;
});
