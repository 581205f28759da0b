import { z } from 'zod';
import { positiveInt } from './analytics-report.ts';
import { type JobView, jobView } from './api.ts';
import type { JobType } from './catalog.ts';

/**
 * The dead-letter side of the API: listing a job type's jobs by state (`GET /v1/jobs/{type}`),
 * retrying failed ones (`POST /v1/jobs/{type}/retry`) and discarding failed or completed ones
 * (`DELETE /v1/jobs/{type}`) in bulk, each by a filter and a page at a time.
 */

/** Most jobs one listing answers or one bulk action touches. */
export const MAX_JOBS_PER_PAGE = 1_000;
export const MAX_REASON_PREFIX = 200;

/** The states a listing reads, by BullMQ's names; `dead` is taken as `failed`. */
export const listedJobStates = [
  'waiting',
  'prioritized',
  'delayed',
  'active',
  'completed',
  'failed',
] as const;
export type ListedJobState = (typeof listedJobStates)[number];
/** The states whose sets are ordered by a time: `since` and `until` apply to them alone. */
export const timedJobStates: ReadonlySet<string> = new Set(['delayed', 'completed', 'failed']);

/** `dead` is the same as `failed`: the dead-letter set of other job systems. */
const notDead = <S extends string>(state: S | 'dead') => (state === 'dead' ? 'failed' : state);
const stateMeta = (description: string) => ({
  description: `${description}; \`dead\` is the same as \`failed\``,
});

/** An ISO time with an offset (`2026-11-24T10:00:00Z`), described where it is used. */
const time = (description: string) =>
  z.iso.datetime({ offset: true }).optional().meta({ description });
const cursor = z
  .string()
  .min(1)
  .max(400)
  .regex(/^[A-Za-z0-9_-]+$/, 'not a cursor this API gave')
  .optional()
  .meta({ description: 'The `cursor` of the previous answer: go on after its last job' });
const reasonPrefix = z
  .string()
  .min(1)
  .max(MAX_REASON_PREFIX)
  .optional()
  .meta({ description: 'Only jobs whose `failedReason` starts with this text (case matters)' });
const queryLimit = positiveInt(MAX_JOBS_PER_PAGE, 100, 'Most jobs to answer or act on');

type Ranged = { since?: string | undefined; until?: string | undefined };
const inOrder = ({ since: from, until: to }: Ranged) =>
  !from || !to || Date.parse(from) <= Date.parse(to);
const ordered = { message: 'until is before since', path: ['until'] };

/** `GET /v1/jobs/{type}?state=&since=&until=&limit=&cursor=`. */
export const jobListQuery = z
  .strictObject({
    state: z
      .enum([...listedJobStates, 'dead'])
      .default('failed')
      .transform(notDead)
      .meta(stateMeta('Which jobs; default `failed`')),
    since: time('Only jobs finished (delayed: due) at or after this ISO time'),
    until: time('Only jobs finished (delayed: due) at or before this ISO time'),
    limit: queryLimit,
    cursor,
  })
  .refine(inOrder, ordered)
  .refine((q) => timedJobStates.has(q.state) || (!q.since && !q.until), {
    message: 'since and until apply to completed, failed and delayed jobs only',
    path: ['state'],
  });
export type JobListQuery = z.input<typeof jobListQuery>;

/** The body of `POST /v1/jobs/{type}/retry`: which failed jobs to run again. */
export const retryJobsFilter = z
  .strictObject({
    state: z
      .enum(['failed', 'dead'])
      .default('failed')
      .transform(notDead)
      .meta(stateMeta('Only failed jobs can be retried')),
    since: time('Only jobs that failed at or after this ISO time'),
    until: time('Only jobs that failed at or before this ISO time'),
    reasonPrefix,
    limit: z.int().min(1).max(MAX_JOBS_PER_PAGE).default(100).meta({
      description: 'Most jobs to retry in this call',
    }),
    cursor,
  })
  .refine(inOrder, ordered)
  .meta({ id: 'RetryJobsFilter' });
export type RetryJobsFilter = z.input<typeof retryJobsFilter>;

/** The query of `DELETE /v1/jobs/{type}`: which failed (or completed) jobs to discard. */
export const discardJobsQuery = z
  .strictObject({
    state: z
      .enum(['failed', 'completed', 'dead'])
      .default('failed')
      .transform(notDead)
      .meta(stateMeta('Failed (default) or completed jobs only')),
    since: time('Only jobs finished at or after this ISO time'),
    until: time('Only jobs finished at or before this ISO time'),
    reasonPrefix,
    limit: queryLimit,
    cursor,
  })
  .refine(inOrder, ordered)
  .refine((q) => q.state === 'failed' || q.reasonPrefix === undefined, {
    message: 'reasonPrefix applies to failed jobs only',
    path: ['reasonPrefix'],
  });
export type DiscardJobsFilter = z.input<typeof discardJobsQuery>;

const next = z
  .string()
  .nullable()
  .meta({ description: 'Pass it as `cursor` to go on; null when there is nothing more' });
const count = (description: string) => z.int().min(0).meta({ description });
const matched = count('Jobs of the filter found in this call (at most `limit`)');
const skipped = count('Matched jobs that left the set meanwhile (or were locked): untouched');

export const jobList = z.object({ jobs: z.array(jobView), cursor: next }).meta({ id: 'JobList' });
export const jobsRetried = z
  .object({ matched, retried: count('Jobs waiting again'), skipped, cursor: next })
  .meta({ id: 'JobsRetried' });
export const jobsDiscarded = z
  .object({ matched, removed: count('Jobs removed for good'), skipped, cursor: next })
  .meta({ id: 'JobsDiscarded' });

export type JobList<T extends JobType = JobType> = { jobs: JobView<T>[]; cursor: string | null };
export type JobsRetried = z.output<typeof jobsRetried>;
export type JobsDiscarded = z.output<typeof jobsDiscarded>;
