import {
  batchEnvelope,
  enqueuedJob,
  enqueueEnvelope,
  jobs,
  jobTypes,
  jobView,
  problemDocument,
  queueStatus,
} from '@errand/contract';
import { problems } from '@errand/http';
import { z } from 'zod';
import { createDocument, type ZodOpenApiOperationObject } from 'zod-openapi';

/**
 * The OpenAPI 3.1 document of the enqueue API, generated from the same zod schemas that
 * check the requests (the job contract and the envelope in `@errand/contract`).
 */

const payload = z
  .union([
    jobs.email.schema.meta({ id: 'EmailPayload' }),
    jobs.image.schema.meta({ id: 'ImagePayload' }),
    jobs.analytics.schema.meta({ id: 'AnalyticsPayload' }),
  ])
  .meta({ description: 'The payload: it must match the job type of the path' });
const envelope = enqueueEnvelope(payload).meta({ id: 'EnqueueRequest' });

const type = z.enum(jobTypes).meta({ description: 'Job type' });
const id = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,128}$/)
  .meta({ description: 'Job id' });
const typePath = z.object({ type });
const jobPath = z.object({ type, id });
const idempotencyHeader = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .optional()
    .meta({ description: 'Same key and body within 24 h: the same job (200), not a second one' }),
});

const json = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });
const problem = (status: keyof typeof byStatus) => ({
  description: byStatus[status],
  content: { 'application/problem+json': { schema: problemDocument } },
});
/** Per status, the problem types it can carry, e.g. 404: "unknown-job-type, job-not-found, …". */
const byStatus: Record<number, string> = {};
for (const [name, { status }] of Object.entries(problems)) {
  byStatus[status] = byStatus[status] ? `${byStatus[status]}, ${name}` : `Problem: ${name}`;
}
const errors = (...statuses: number[]) =>
  Object.fromEntries([401, 403, 429, 503, ...statuses].map((s) => [s, problem(s)]));

const op = (
  summary: string,
  scope: string,
  rest: Partial<ZodOpenApiOperationObject>,
): ZodOpenApiOperationObject => ({
  summary,
  description: `Needs the \`${scope}\` scope.`,
  security: [{ bearer: [] }],
  responses: {},
  ...rest,
});

const enqueued = json(enqueuedJob);
const batchAnswer = json(z.object({ type: z.string(), jobs: z.array(enqueuedJob) }));

export function openApiDocument() {
  return createDocument({
    openapi: '3.1.0',
    info: { title: 'Errand enqueue API', version: '1.0.0' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths: {
      '/v1/jobs/{type}': {
        post: op('Enqueue one job', 'enqueue', {
          requestParams: { path: typePath, header: idempotencyHeader },
          requestBody: { required: true, ...json(envelope) },
          responses: {
            200: { description: 'Replay of an Idempotency-Key: the earlier job', ...enqueued },
            202: { description: 'Accepted: the job is in Redis', ...enqueued },
            ...errors(400, 404, 413, 415, 422),
          },
        }),
      },
      '/v1/jobs/{type}/batch': {
        post: op('Enqueue 1 to 1,000 jobs, all or none', 'enqueue', {
          requestParams: { path: typePath, header: idempotencyHeader },
          requestBody: { required: true, ...json(batchEnvelope(envelope)) },
          responses: {
            200: { description: 'Replay of an Idempotency-Key', ...batchAnswer },
            202: { description: 'Accepted: every job is in Redis', ...batchAnswer },
            ...errors(400, 404, 413, 415, 422),
          },
        }),
      },
      '/v1/jobs/{type}/{id}': {
        get: op('A job: state, attempts, progress, result or failure', 'read', {
          requestParams: { path: jobPath },
          responses: { 200: { description: 'The job', ...json(jobView) }, ...errors(404) },
        }),
        delete: op('Cancel a waiting or delayed job', 'admin', {
          requestParams: { path: jobPath },
          responses: { 200: { description: 'Cancelled', ...enqueued }, ...errors(404, 409) },
        }),
      },
      '/v1/jobs/{type}/{id}/events': {
        get: op('Server-Sent Events of a job until it finishes', 'read', {
          requestParams: { path: jobPath },
          responses: {
            200: {
              description:
                'Events `state`, then `progress`, then `completed`, `failed` or `removed`; then the stream ends',
              content: { 'text/event-stream': { schema: z.string() } },
            },
            ...errors(404),
          },
        }),
      },
      '/v1/jobs/{type}/{id}/retry': {
        post: op('Retry a failed job', 'admin', {
          requestParams: { path: jobPath },
          responses: { 202: { description: 'Waiting again', ...enqueued }, ...errors(404, 409) },
        }),
      },
      '/v1/queues': {
        get: op('Every queue: counts by state, paused, oldest waiting age', 'read', {
          responses: {
            200: { description: 'The queues', ...json(z.object({ queues: z.array(queueStatus) })) },
            ...errors(),
          },
        }),
      },
    },
  });
}
