import { isJobType, type JobType, jobs, jobTypes } from '@errand/contract';
import { HttpProblem } from '@errand/http';
import { isJobId, MAX_JOB_ID_LENGTH } from '@errand/queues';
import type { Request } from 'express';

/** The `{type}` path segment as a job type of the contract, or a 404 that lists the real ones. */
export function jobTypeOf(param: unknown): JobType {
  if (typeof param === 'string' && isJobType(param)) return param;
  throw new HttpProblem(
    'unknown-job-type',
    `Unknown job type "${String(param).slice(0, 64)}"; the job types are ${jobTypes.join(', ')}.`,
  );
}

/**
 * The scope a key needs to enqueue the type: `admin` for internal types (built-in schedules'
 * jobs); a 403 for types only Errand makes (webhook deliveries), whatever the key.
 */
export function enqueueScopeOf(type: JobType): 'enqueue' | 'admin' {
  const scope = jobs[type].enqueueScope;
  if (scope !== 'none') return scope;
  throw new HttpProblem('forbidden', `Only Errand makes ${type} jobs; no key may enqueue them.`);
}

/**
 * The `{id}` path segment, or a 404: an id that cannot exist names no job, and the queue's
 * own keys (`meta`, `events`…) are no jobs. Ids the API gives are digits or `idem-<hash>[-<n>]`;
 * a schedule's fires are `repeat:<id>:<ms>`.
 */
export function jobIdOf(param: unknown): string {
  if (typeof param === 'string' && isJobId(param)) return param;
  throw new HttpProblem(
    'job-not-found',
    `No such job: job ids are 1 to ${MAX_JOB_ID_LENGTH} letters, digits, "_", "." or "-", or a schedule's repeat:<id>:<ms>.`,
  );
}

/** The `{type}` and `{id}` of a job's path (`/v1/jobs/{type}/{id}…`), each checked as above. */
export function jobPathOf(req: Request): { type: JobType; id: string } {
  return { type: jobTypeOf(req.params.type), id: jobIdOf(req.params.id) };
}

/** The 404 of a job that does not exist (or no longer does). */
export const jobNotFound = (type: JobType, id: string) =>
  new HttpProblem('job-not-found', `No ${type} job has id "${id}".`);

/** Bodies are JSON only; anything else is a 415 before it is parsed. */
export function requireJson(req: Request): void {
  if (!req.is('application/json')) {
    throw new HttpProblem(
      'unsupported-media-type',
      'Send the body as Content-Type: application/json.',
    );
  }
}
