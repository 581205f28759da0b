import {
  API_VERSION,
  analyticsName,
  analyticsQuery,
  analyticsReport,
  batchEnvelope,
  enqueuedJob,
  enqueueEnvelope,
  eventList,
  eventListQuery,
  jobs,
  jobTypes,
  jobView,
  MAX_BUCKETS,
  problemDocument,
  queueStatus,
  SCHEDULE_HISTORY_LENGTH,
  scheduleBody,
  scheduleDetail,
  scheduleId,
  scheduleView,
} from '@errand/contract';
import { problems } from '@errand/http';
import { JOB_ID_PATTERN, MAX_JOB_ID_LENGTH, RESERVED_JOB_IDS } from '@errand/queues';
import { z } from 'zod';
import { createDocument, type ZodOpenApiOperationObject } from 'zod-openapi';
import { IDEMPOTENCY_LEASE_MS, IDEMPOTENCY_TTL_S } from './idempotency.ts';
import { STREAM_ID } from './job-event-log.ts';
import { deadLetterPaths } from './openapi.dead-letter.ts';
import { storagePaths } from './openapi.storage.ts';
import { webhookPaths } from './openapi.webhooks.ts';
import { CANCELLABLE } from './routes/jobs.cancel.ts';

/**
 * The OpenAPI 3.1 document of the enqueue API, generated from the same zod schemas that
 * check the requests (the job contract and the envelope in `@errand/contract`).
 */

/** `image-cleanup` → `ImageCleanupPayload`: each job type's payload is one named component. */
const componentOf = (type: string) =>
  `${type.replace(/(^|-)([a-z])/g, (_, _dash, letter: string) => letter.toUpperCase())}Payload`;
/** Types a key may enqueue: not those only Errand makes (webhook deliveries). */
const enqueueable = jobTypes.filter((type) => jobs[type].enqueueScope !== 'none');
const payload = z
  .union(enqueueable.map((type) => jobs[type].schema.meta({ id: componentOf(type) })))
  .meta({ description: 'The payload: it must match the job type of the path' });
const envelope = enqueueEnvelope(payload).meta({ id: 'EnqueueRequest' });
const internal = jobTypes.filter((type) => jobs[type].enqueueScope === 'admin');
const madeByErrand = jobTypes.filter((type) => jobs[type].enqueueScope === 'none');
const internalNote = `The internal types (${internal.join(', ')}) need the \`admin\` scope; no key may enqueue ${madeByErrand.join(', ')} (Errand makes those jobs: webhook deliveries).`;

const type = z.enum(jobTypes).meta({ description: 'Job type' });
const id = z
  .string()
  .max(MAX_JOB_ID_LENGTH)
  .regex(JOB_ID_PATTERN)
  .meta({
    description: `Job id; not one of the queue's own key names (${[...RESERVED_JOB_IDS].filter(Boolean).join(', ')})`,
  });
const typePath = z.object({ type });
const jobPath = z.object({ type, id });
const idempotencyHeader = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .optional()
    .meta({
      description:
        `Same key and body within ${IDEMPOTENCY_TTL_S / 3600} h of the jobs being added: the same job (200), not a second one. ` +
        'A key whose request added nothing is free: the same body adds the job; another body gets 409 ' +
        `for ${IDEMPOTENCY_LEASE_MS / 1000} s (the first might still be running), then counts as a new request.`,
    }),
});

const lastEventIdHeader = z.object({
  'last-event-id': z
    .string()
    .regex(STREAM_ID)
    .optional()
    .meta({ description: 'The `id` of the last event received: resume after it' }),
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

/** One operation; its `operationId` is what code generators name their method after. */
const op = (
  operationId: string,
  summary: string,
  scope: string,
  { description, ...rest }: Partial<ZodOpenApiOperationObject>,
): ZodOpenApiOperationObject => ({
  operationId,
  summary,
  description: [`Needs the \`${scope}\` scope.`, description].filter(Boolean).join(' '),
  security: [{ bearer: [] }],
  responses: {},
  ...rest,
});

const enqueued = json(enqueuedJob);
const batchAnswer = json(z.object({ type: z.string(), jobs: z.array(enqueuedJob) }));
const eventPath = z.object({ event: analyticsName.meta({ description: 'Event name' }) });
const schedulePath = z.object({ id: scheduleId.meta({ description: 'Schedule id' }) });
const detail = json(scheduleDetail);
const scheduleRun = json(
  z
    .object({ schedule: z.string(), type: z.enum(jobTypes), jobId: z.string() })
    .meta({ id: 'ScheduleRunNow' }),
);
const orList = (words: Iterable<string>) => [...words].join(', ').replace(/, ([^,]+)$/, ' or $1');
const fromFile = 'A schedule of the schedules file answers 409: change the file instead.';
const deadLetter = deadLetterPaths({ op, json, errors, typePath });

export function openApiDocument() {
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'Errand enqueue API',
      version: API_VERSION,
      // No open-source licence has been chosen for Errand: its terms are its owners' own.
      license: { name: 'Proprietary', identifier: 'LicenseRef-Errand-Proprietary' },
    },
    servers: [
      { url: '/', description: 'The producer serving this document' },
      { url: 'http://127.0.0.1:3000', description: 'A producer started by `npm start`' },
    ],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths: {
      '/v1/jobs/{type}': {
        post: op('enqueueJob', 'Enqueue one job', 'enqueue', {
          description: internalNote,
          requestParams: { path: typePath, header: idempotencyHeader },
          requestBody: { required: true, ...json(envelope) },
          responses: {
            200: { description: 'Replay of an Idempotency-Key: the earlier job', ...enqueued },
            202: { description: 'Accepted: the job is in Redis', ...enqueued },
            ...errors(400, 404, 409, 413, 415, 422),
          },
        }),
        ...deadLetter.jobs,
      },
      '/v1/jobs/{type}/retry': deadLetter.retry,
      '/v1/jobs/{type}/batch': {
        post: op('enqueueBatch', 'Enqueue 1 to 1,000 jobs, all or none', 'enqueue', {
          description: internalNote,
          requestParams: { path: typePath, header: idempotencyHeader },
          requestBody: { required: true, ...json(batchEnvelope(envelope)) },
          responses: {
            200: { description: 'Replay of an Idempotency-Key', ...batchAnswer },
            202: { description: 'Accepted: every job is in Redis', ...batchAnswer },
            ...errors(400, 404, 409, 413, 415, 422),
          },
        }),
      },
      '/v1/jobs/{type}/{id}': {
        get: op('getJob', 'A job: state, attempts, progress, result or failure', 'read', {
          requestParams: { path: jobPath },
          responses: { 200: { description: 'The job', ...json(jobView) }, ...errors(404) },
        }),
        delete: op(
          'cancelJob',
          `Cancel a job that has not started (${orList(CANCELLABLE)})`,
          'admin',
          {
            requestParams: { path: jobPath },
            responses: { 200: { description: 'Cancelled', ...enqueued }, ...errors(404, 409) },
          },
        ),
      },
      '/v1/jobs/{type}/{id}/events': {
        get: op('streamJobEvents', 'Server-Sent Events of a job until it finishes', 'read', {
          description:
            "Each event's `id` is the id of the entry of the queue's BullMQ events stream it " +
            'comes from. Reconnect with `Last-Event-ID` to go on where a dropped stream was: ' +
            '`state` first (with that id back when nothing was lost, with the newest id when ' +
            'the events stream was trimmed past it), then the missed events, then live ones.',
          requestParams: { path: jobPath, header: lastEventIdHeader },
          responses: {
            200: {
              description:
                'Events `state`, then `progress`, then `completed`, `failed` or `removed`, each ' +
                'with an `id`; then the stream ends',
              content: { 'text/event-stream': { schema: z.string() } },
            },
            ...errors(400, 404),
          },
        }),
      },
      '/v1/jobs/{type}/{id}/retry': {
        post: op('retryJob', 'Retry a failed job', 'admin', {
          requestParams: { path: jobPath },
          responses: { 202: { description: 'Waiting again', ...enqueued }, ...errors(404, 409) },
        }),
      },
      '/v1/queues': {
        get: op('listQueues', 'Every queue: counts by state, paused, oldest waiting age', 'read', {
          responses: {
            200: { description: 'The queues', ...json(z.object({ queues: z.array(queueStatus) })) },
            ...errors(),
          },
        }),
      },
      '/v1/analytics': {
        get: op('listAnalyticsEvents', 'The analytics event names seen', 'read', {
          requestParams: { query: eventListQuery },
          responses: { 200: { description: 'The names', ...json(eventList) }, ...errors(400) },
        }),
      },
      '/v1/analytics/{event}': {
        get: op('getAnalyticsReport', 'Counts, unique users and top values of one event', 'read', {
          description:
            'Every bucket of the range, zero where nothing happened; an event never seen answers zeros. ' +
            `At most ${MAX_BUCKETS} buckets. Unique users are HyperLogLog estimates (standard error 0.81%).`,
          requestParams: { path: eventPath, query: analyticsQuery },
          responses: {
            200: { description: 'The report', ...json(analyticsReport) },
            ...errors(400),
          },
        }),
      },
      '/v1/schedules': {
        get: op('listSchedules', 'Every schedule: next fires, last run, source, paused', 'read', {
          responses: {
            200: {
              description: 'The schedules',
              ...json(z.object({ schedules: z.array(scheduleView) })),
            },
            ...errors(),
          },
        }),
      },
      '/v1/schedules/{id}': {
        get: op(
          'getSchedule',
          `One schedule, with its last ${SCHEDULE_HISTORY_LENGTH} runs`,
          'read',
          {
            requestParams: { path: schedulePath },
            responses: { 200: { description: 'The schedule', ...detail }, ...errors(400, 404) },
          },
        ),
        put: op('putSchedule', 'Create or replace a schedule', 'admin', {
          description: `The job data is checked against its job type now. The same body again changes nothing (200). ${fromFile}`,
          requestParams: { path: schedulePath },
          requestBody: { required: true, ...json(scheduleBody) },
          responses: {
            200: { description: 'Replaced (or unchanged)', ...detail },
            201: { description: 'Created', ...detail },
            ...errors(400, 409, 413, 415),
          },
        }),
        delete: op('deleteSchedule', 'Delete a schedule and its history', 'admin', {
          description: fromFile,
          requestParams: { path: schedulePath },
          responses: {
            200: {
              description: 'Deleted',
              ...json(z.object({ id: z.string(), deleted: z.literal(true) })),
            },
            ...errors(400, 404, 409),
          },
        }),
      },
      '/v1/schedules/{id}/pause': {
        post: op('pauseSchedule', 'Stop the fires until resumed', 'admin', {
          requestParams: { path: schedulePath },
          responses: { 200: { description: 'Paused', ...detail }, ...errors(400, 404) },
        }),
      },
      '/v1/schedules/{id}/resume': {
        post: op('resumeSchedule', 'Restart the fires', 'admin', {
          requestParams: { path: schedulePath },
          responses: { 200: { description: 'Resumed', ...detail }, ...errors(400, 404) },
        }),
      },
      '/v1/schedules/{id}/run': {
        post: op('runSchedule', 'Fire once now, outside the rhythm', 'admin', {
          requestParams: { path: schedulePath },
          responses: {
            202: { description: 'The job it added', ...scheduleRun },
            ...errors(400, 404),
          },
        }),
      },
      ...webhookPaths({ op, errors, json }),
      ...storagePaths({ op, errors, json }),
    },
  });
}
