import {
  discardJobsQuery,
  jobList,
  jobListQuery,
  jobsDiscarded,
  jobsRetried,
  MAX_JOBS_PER_PAGE,
  retryJobsFilter,
} from '@errand/contract';
import { MAX_EXAMINED } from '@errand/queues';
import type { z } from 'zod';
import type {
  ZodOpenApiContentObject,
  ZodOpenApiOperationObject,
  ZodOpenApiPathItemObject,
} from 'zod-openapi';

/** The helpers of `openapi.ts` this part builds its operations with. */
export interface OpenApiParts {
  op: (
    operationId: string,
    summary: string,
    scope: string,
    rest: Partial<ZodOpenApiOperationObject>,
  ) => ZodOpenApiOperationObject;
  json: (schema: z.ZodType) => { content: ZodOpenApiContentObject };
  /** The problem answers of these statuses and of 401, 403, 429 and 503, by status. */
  errors: (...statuses: number[]) => Record<string, { description: string | undefined }>;
  typePath: z.ZodObject;
}

const order =
  'Newest first: completed and failed jobs by when they finished, delayed ones by when they are due ' +
  '(latest first), prioritized ones last to run first, waiting ones last in line first, active ones ' +
  'last started first. The cursor of completed, failed, delayed and prioritized jobs names the last ' +
  'job given: jobs added or removed meanwhile shift no page. Waiting and active jobs are paged by ' +
  'offset, which is not stable while jobs move: a page may repeat or miss a job.';
const bulk =
  `It reads past at most ${MAX_EXAMINED} jobs a \`reasonPrefix\` does not match, then answers ` +
  'with a cursor to go on. A non-null `cursor` means there may be more: call again with it ' +
  '(the last call may then match none).';

/** `GET` and `DELETE /v1/jobs/{type}`, `POST /v1/jobs/{type}/retry`: the dead letter. */
export function deadLetterPaths({ op, json, errors, typePath }: OpenApiParts) {
  const jobs: ZodOpenApiPathItemObject = {
    get: op('listJobs', 'Jobs of a type by state, newest first, a page at a time', 'read', {
      description: `Each item is the view of \`GET /v1/jobs/{type}/{id}\`. ${order}`,
      requestParams: { path: typePath, query: jobListQuery },
      responses: { 200: { description: 'A page of jobs', ...json(jobList) }, ...errors(400, 404) },
    }),
    delete: op('discardJobs', 'Remove failed (or completed) jobs for good, by a filter', 'admin', {
      description:
        `Removes at most \`limit\` (up to ${MAX_JOBS_PER_PAGE}) jobs, newest first; waiting, ` +
        'delayed or running jobs are never removed in bulk (cancel them one by one). A job ' +
        `that left the set meanwhile or that a worker holds is skipped. ${bulk} Audited.`,
      requestParams: { path: typePath, query: discardJobsQuery },
      responses: { 200: { description: 'Removed', ...json(jobsDiscarded) }, ...errors(400, 404) },
    }),
  };
  const retry: ZodOpenApiPathItemObject = {
    post: op('retryJobs', 'Retry failed jobs, by a filter', 'admin', {
      description:
        `Retries at most \`limit\` failed jobs, newest first, each with a fresh set of attempts. ` +
        'A job that left the failed set meanwhile is skipped, so calling again (or twice at once) ' +
        `retries no job twice; a job that fails again after its retry is a new failure. ${bulk} Audited.`,
      requestParams: { path: typePath },
      requestBody: { required: true, ...json(retryJobsFilter) },
      responses: {
        200: { description: 'Retried', ...json(jobsRetried) },
        ...errors(400, 404, 413, 415),
      },
    }),
  };
  return { jobs, retry };
}
