import type { JobsOptions } from 'bullmq';
import type { z } from 'zod';
import { type AnalyticsResult, analyticsPayload } from './analytics.ts';
import { type EmailResult, emailPayload } from './email.ts';
import { type ImageResult, imagePayload } from './image.ts';

/** Everything the producer, the worker, the dashboard and the client know of one job type. */
export interface JobDefinition<Schema extends z.ZodType, Result> {
  /** BullMQ queue name (the Redis key prefix is set by the connection, not here). */
  queue: string;
  /** Payload schema: the producer checks it before `add`, the worker again when it takes the job. */
  schema: Schema;
  /** Defaults for every job of this type; a request may override attempts, delay and priority. */
  defaults: JobsOptions;
  /** Phantom field that carries the result type; never set at run time. */
  result?: Result;
}

/**
 * Retry with exponential backoff and jitter. How long finished jobs are kept is the
 * worker's setting (FAILED_RETENTION_HOURS and COMPLETED_RETENTION_*), not the job's.
 */
const retrying = (attempts: number, delayMs: number): JobsOptions => ({
  attempts,
  backoff: { type: 'exponential', delay: delayMs, jitter: 0.5 },
});

export const jobs = {
  email: {
    queue: 'email',
    schema: emailPayload,
    defaults: retrying(5, 2_000),
  } satisfies JobDefinition<typeof emailPayload, EmailResult>,
  image: {
    queue: 'image',
    schema: imagePayload,
    defaults: retrying(3, 5_000),
  } satisfies JobDefinition<typeof imagePayload, ImageResult>,
  analytics: {
    queue: 'analytics',
    schema: analyticsPayload,
    defaults: retrying(8, 1_000),
  } satisfies JobDefinition<typeof analyticsPayload, AnalyticsResult>,
};

export type JobType = keyof typeof jobs;
export const jobTypes = Object.keys(jobs) as JobType[];

export interface JobResults {
  email: EmailResult;
  image: ImageResult;
  analytics: AnalyticsResult;
}

/** The payload of a job type as the worker sees it (after zod defaults are applied). */
export type PayloadOf<T extends JobType> = z.output<(typeof jobs)[T]['schema']>;
/** The payload of a job type as a caller writes it. */
export type PayloadInput<T extends JobType> = z.input<(typeof jobs)[T]['schema']>;
export type ResultOf<T extends JobType> = JobResults[T];

export const isJobType = (value: string): value is JobType => Object.hasOwn(jobs, value);
