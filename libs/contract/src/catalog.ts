import type { z } from 'zod';
import { type AnalyticsResult, analyticsPayload } from './analytics.ts';
import { type EmailResult, emailPayload } from './email.ts';
import { type HttpResult, httpPayload, MAX_HTTP_TIMEOUT_MS } from './http.ts';
import { type ImageResult, imagePayload } from './image.ts';
import {
  type AnalyticsMaintenanceResult,
  analyticsMaintenancePayload,
  type DigestResult,
  digestPayload,
  type ImageCleanupResult,
  imageCleanupPayload,
} from './maintenance.ts';
import { type DeliveryResult, deliveryPayload } from './webhooks.ts';

/**
 * A job type's retry defaults, as BullMQ's job options spell them (a subset of `JobsOptions`,
 * written here so the contract, and the client built from it, need nothing of BullMQ).
 * `backoff.type` names a built-in strategy or one of the worker's own (`http`, `webhook`).
 */
export interface JobDefaults {
  attempts: number;
  backoff: { type: string; delay: number; jitter?: number };
}

/**
 * Everything there is to know of one job type, in one place: the producer, the worker, the
 * dashboard, the OpenAPI document and the client all derive what they need from it.
 */
export interface JobDefinition<Schema extends z.ZodType = z.ZodType, Result = unknown> {
  /** BullMQ queue name (the Redis key prefix is set by the connection, not here). */
  queue: string;
  /** Payload schema: the producer checks it before `add`, the worker again when it takes the job. */
  schema: Schema;
  /** Defaults for every job of this type; a request may override attempts, delay and priority. */
  defaults: JobDefaults;
  /** Jobs one worker process runs at once (`<TYPE>_CONCURRENCY` overrides it). */
  concurrency: number;
  /** An attempt running longer is aborted and retried (`<TYPE>_TIMEOUT_MS` overrides it). */
  timeoutMs: number;
  /**
   * Whether the processor may throw `ThrottleError`. BullMQ honours a throttle only on a
   * queue with a limiter, and a limiter costs Redis work on every job, so only such queues
   * (and those with a configured rate) get one.
   */
  throttles: boolean;
  /** Backpressure: the producer answers 503 past this many waiting jobs; 0 = no limit (`<TYPE>_MAX_WAITING`). */
  maxWaiting: number;
  /**
   * The API-key scope that may enqueue it: `enqueue` for public types, `admin` for the built-in
   * schedules' types; `none` for types only Errand itself makes (webhook deliveries).
   */
  enqueueScope: 'enqueue' | 'admin' | 'none';
  /** Phantom field that carries the result type; never set at run time. */
  result?: Result;
}

/** A job type's entry, with its result type pinned: `job<EmailResult>()({ ... })`. */
const job =
  <Result>() =>
  <Schema extends z.ZodType>(definition: JobDefinition<Schema, Result>) =>
    definition;

/**
 * Retry with exponential backoff and jitter. How long finished jobs are kept is the
 * worker's setting (FAILED_RETENTION_HOURS and COMPLETED_RETENTION_*), not the job's.
 */
const retrying = (attempts: number, delayMs: number): JobDefaults => ({
  attempts,
  backoff: { type: 'exponential', delay: delayMs, jitter: 0.5 },
});

/** The job types. Adding one: see CONTRIBUTING.md, "Adding a new job type". */
export const jobs = {
  email: job<EmailResult>()({
    queue: 'email',
    schema: emailPayload,
    defaults: retrying(5, 2_000),
    concurrency: 10,
    timeoutMs: 60_000,
    throttles: true,
    maxWaiting: 0,
    enqueueScope: 'enqueue',
  }),
  image: job<ImageResult>()({
    queue: 'image',
    schema: imagePayload,
    defaults: retrying(3, 5_000),
    concurrency: 2,
    timeoutMs: 120_000,
    throttles: false,
    maxWaiting: 0,
    enqueueScope: 'enqueue',
  }),
  analytics: job<AnalyticsResult>()({
    queue: 'analytics',
    schema: analyticsPayload,
    defaults: retrying(8, 1_000),
    concurrency: 50,
    timeoutMs: 60_000,
    throttles: false,
    maxWaiting: 0,
    enqueueScope: 'enqueue',
  }),
  http: job<HttpResult>()({
    queue: 'http',
    schema: httpPayload,
    // 408/409/429/5xx, timeouts and connection errors are retried; a Retry-After is honoured.
    defaults: { attempts: 8, backoff: { type: 'http', delay: 2_000 } },
    concurrency: 20,
    // The request's own timeout (at most 120 s) ends it first; this is the backstop.
    timeoutMs: MAX_HTTP_TIMEOUT_MS + 10_000,
    throttles: false,
    maxWaiting: 0,
    enqueueScope: 'enqueue',
  }),
  webhook: job<DeliveryResult>()({
    queue: 'webhook',
    schema: deliveryPayload,
    // Standard Webhooks' schedule: at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h.
    defaults: { attempts: 10, backoff: { type: 'webhook', delay: 0 } },
    concurrency: 20,
    timeoutMs: 60_000,
    throttles: false,
    maxWaiting: 0,
    enqueueScope: 'none',
  }),
  digest: job<DigestResult>()({
    queue: 'digest',
    schema: digestPayload,
    defaults: retrying(5, 10_000),
    concurrency: 1,
    timeoutMs: 60_000,
    throttles: false,
    maxWaiting: 100,
    enqueueScope: 'admin',
  }),
  'image-cleanup': job<ImageCleanupResult>()({
    queue: 'image-cleanup',
    schema: imageCleanupPayload,
    defaults: retrying(3, 60_000),
    concurrency: 1,
    timeoutMs: 15 * 60_000,
    throttles: false,
    maxWaiting: 100,
    enqueueScope: 'admin',
  }),
  'analytics-maintenance': job<AnalyticsMaintenanceResult>()({
    queue: 'analytics-maintenance',
    schema: analyticsMaintenancePayload,
    defaults: retrying(3, 60_000),
    concurrency: 1,
    timeoutMs: 5 * 60_000,
    throttles: false,
    maxWaiting: 100,
    enqueueScope: 'admin',
  }),
};

export type JobType = keyof typeof jobs;
export const jobTypes = Object.keys(jobs) as JobType[];

/** The payload of a job type as the worker sees it (after zod defaults are applied). */
export type PayloadOf<T extends JobType> = z.output<(typeof jobs)[T]['schema']>;
/** The payload of a job type as a caller writes it. */
export type PayloadInput<T extends JobType> = z.input<(typeof jobs)[T]['schema']>;
/** The result a job type's processor returns. */
export type ResultOf<T extends JobType> = NonNullable<(typeof jobs)[T]['result']>;

export const isJobType = (value: string): value is JobType => Object.hasOwn(jobs, value);

/** `image-cleanup` → `IMAGE_CLEANUP`: the prefix of a type's environment settings. */
export const envNameOf = (type: JobType) => type.toUpperCase().replaceAll('-', '_');
