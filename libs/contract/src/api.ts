import { z } from 'zod';
import { type JobType, jobTypes, type ResultOf } from './catalog.ts';
import { jobMeta, jobMetaFields } from './job-meta.ts';

/**
 * The wire shapes of the enqueue API (`/v1`): the producer validates requests with them and
 * generates its OpenAPI document from them; the client SDK takes its types from them.
 */

/**
 * The API's version (semver), the OpenAPI document's `info.version`. `@errand/client` is
 * released with the same number (its package.json and CHANGELOG, checked by its tests): a
 * minor version when the API gains something, a patch for fixes, a major only with `/v2`.
 */
export const API_VERSION = '1.0.0';

const YEAR_MS = 365 * 24 * 60 * 60 * 1000;

/** When and how a job runs; every field optional. */
export const enqueueOptions = {
  delay: z.int().min(0).max(YEAR_MS).optional().meta({ description: 'Run after this many ms' }),
  runAt: z.iso
    .datetime({ offset: true })
    .optional()
    .meta({ description: 'Run at this ISO time (not together with delay)' }),
  priority: z
    .int()
    .min(1)
    .max(2_097_152)
    .optional()
    .meta({ description: '1 is the highest priority; without it, first in first out' }),
  attempts: z.int().min(1).max(100).optional().meta({ description: 'Overrides the default' }),
};

/**
 * The body of `POST /v1/jobs/{type}`: a payload (checked against the type), options of when
 * and how it runs, and the job's metadata (`job-meta.ts`), all beside `data`.
 */
export const enqueueEnvelope = <Data extends z.ZodType>(data: Data) =>
  z
    .strictObject({ data, ...enqueueOptions, ...jobMetaFields })
    .refine((body) => body.delay === undefined || body.runAt === undefined, {
      message: 'give delay or runAt, not both',
      path: ['runAt'],
    });

export const MAX_BATCH = 1_000;

/** The body of `POST /v1/jobs/{type}/batch`: 1 to 1,000 envelopes, added all or none. */
export const batchEnvelope = <Item extends z.ZodType>(item: Item) =>
  z.strictObject({ jobs: z.array(item).min(1).max(MAX_BATCH) });

/** BullMQ's states, and what the API says of a job it cancelled or no longer stores. */
export const jobStates = [
  'waiting',
  'prioritized',
  'delayed',
  'active',
  'completed',
  'failed',
  'waiting-children',
  'cancelled',
  'removed',
] as const;
export type JobState = (typeof jobStates)[number];

/** What an enqueue answers (and what each item of a batch answers). */
export const enqueuedJob = z
  .object({ id: z.string(), type: z.enum(jobTypes), state: z.enum(jobStates) })
  .meta({ id: 'EnqueuedJob' });

export const jobView = z
  .object({
    id: z.string(),
    type: z.enum(jobTypes),
    state: z.enum(jobStates),
    producer: z.string().nullable().meta({ description: 'Name of the API key that enqueued it' }),
    schedule: z
      .string()
      .nullable()
      .meta({ description: 'Id of the schedule that made it (then `producer` is null)' }),
    meta: jobMeta,
    attemptsMade: z.int(),
    progress: z.unknown(),
    result: z.unknown().meta({ description: 'The result of a completed job, else null' }),
    failedReason: z.string().nullable(),
    createdAt: z.string().nullable(),
    processedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
  })
  .meta({ id: 'JobView' });

/** The states a queue's jobs are counted in, by BullMQ's names (`GET /v1/queues`, the metrics). */
export const countedStates = [
  'waiting',
  'prioritized',
  'delayed',
  'active',
  'failed',
  'completed',
  'waiting-children',
] as const;
export type CountedState = (typeof countedStates)[number];

export const queueStatus = z
  .object({
    type: z.enum(jobTypes),
    queue: z.string(),
    // Every state named (not an open record), so generated clients know the seven fields.
    counts: z.strictObject(
      Object.fromEntries(countedStates.map((state) => [state, z.int().min(0)])) as Record<
        CountedState,
        z.ZodInt
      >,
    ),
    paused: z.boolean(),
    oldestWaitingSeconds: z.number(),
  })
  .meta({ id: 'QueueStatus' });

/** RFC 9457 problem document: every error of the API. */
export const problemDocument = z
  .object({
    type: z.url(),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    instance: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem' });

export type EnqueueOptions = {
  [K in keyof typeof enqueueOptions]?: z.input<(typeof enqueueOptions)[K]>;
} & {
  [K in keyof typeof jobMetaFields]?: z.input<(typeof jobMetaFields)[K]>;
};
export type EnqueuedJob<T extends JobType = JobType> = { id: string; type: T; state: JobState };
export type JobView<T extends JobType = JobType> = Omit<z.output<typeof jobView>, 'result'> & {
  type: T;
  result: ResultOf<T> | null;
};
export type QueueStatus = z.output<typeof queueStatus>;
export type ProblemDocument = z.output<typeof problemDocument>;
