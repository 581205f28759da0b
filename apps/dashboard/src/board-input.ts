import type { ErrorTranslationKey } from '@bull-board/api/dist/types.js';
import { enqueueOptions, type JobType, jobs, jobTypes } from '@errand/contract';
import { isJobId } from '@errand/queues';
import { z } from 'zod';

/**
 * What Bull Board is handed, checked before its handler runs. Bull Board 9 checks the shape
 * of most bodies; what it passes on unchecked reaches BullMQ and Redis as it comes:
 * - a job id is part of a Redis key, so `meta` or `events` would pass for a job (and
 *   removing "job" `meta` deletes the queue's settings): ids that name no job are a 404;
 * - a clean's status names the set it empties, so `repeat` would empty the schedules: only
 *   the states of finished or waiting jobs may be cleaned;
 * - a job added or edited by hand must satisfy its type's contract, as one from the API does,
 *   so it cannot fail at the worker for its data; its options are bounded as the API's are;
 * - paging numbers and run times are bounded;
 * - jobs that call out (`http`, `webhook`) are made and changed through the API only, where
 *   the key's allowed targets and signing secret are checked: the board neither adds them
 *   nor edits their data (it shows their header values redacted).
 */
export interface Refusal {
  status: 400 | 403 | 404;
  errorKey: ErrorTranslationKey;
  message: string;
}

interface BoardRequest {
  params?: Record<string, unknown>;
  query?: Record<string, unknown>;
  body?: unknown;
}

export function refusalOf(route: string, request: BoardRequest): Refusal | undefined {
  return (
    badPath(route, request.params) ??
    outboundByHand(route, request.params) ??
    badQuery(request.query) ??
    badBody(route, request)
  );
}

/** The queues whose jobs call other services: never made or changed in the board. */
export const OUTBOUND_QUEUES: ReadonlySet<string> = new Set([jobs.http.queue, jobs.webhook.queue]);

function outboundByHand(route: string, params: Record<string, unknown> = {}): Refusal | undefined {
  const byHand = route.endsWith('/add') || route.endsWith('/update-data');
  if (!byHand || !OUTBOUND_QUEUES.has(String(params.queueName))) return undefined;
  return {
    status: 403,
    errorKey: 'ERRORS.INVALID_REQUEST_BODY',
    message: `${String(params.queueName)} jobs call other services: make them through the API, which checks the key's targets and signs them`,
  };
}

const YEAR_MS = 365 * 24 * 60 * 60 * 1000;
const MAX_DEPTH = 32;

/** BullMQ's clean takes these; `active` is left out: running jobs stay with their workers. */
const CLEANABLE = new Set([
  'completed',
  'failed',
  'delayed',
  'wait',
  'waiting',
  'paused',
  'prioritized',
]);
const RETRIABLE = new Set(['completed', 'failed']);

function badPath(route: string, params: Record<string, unknown> = {}): Refusal | undefined {
  const { jobId, queueStatus } = params;
  if (typeof jobId === 'string' && !isJobId(jobId)) {
    return { status: 404, errorKey: 'ERRORS.JOB_NOT_FOUND', message: 'no such job' };
  }
  if (typeof queueStatus !== 'string') return undefined;
  const allowed = route.endsWith('/clean/:queueStatus') ? CLEANABLE : RETRIABLE;
  if (allowed.has(queueStatus)) return undefined;
  return {
    status: 400,
    errorKey: 'ERRORS.INVALID_QUERY_PARAM',
    message: `status: expected one of ${[...allowed].join(', ')}`,
  };
}

/**
 * Bull Board takes its paging numbers as they come: `page=1e300` reaches Redis (a 500) and
 * `jobsPerPage=1e11` reads every job. Numbers within these bounds only.
 */
const QUERY_BOUNDS: Record<string, number> = {
  page: 100_000,
  jobsPerPage: 1_000,
  depth: 100,
  maxChildren: 1_000,
};

function badQuery(query: Record<string, unknown> = {}): Refusal | undefined {
  for (const [name, max] of Object.entries(QUERY_BOUNDS)) {
    const value = query[name];
    if (value === undefined) continue;
    const number = typeof value === 'string' && /^\d{1,7}$/.test(value) ? Number(value) : 0;
    if (number < 1 || number > max) {
      return invalid(
        `${name}: expected a whole number from 1 to ${max}`,
        'ERRORS.INVALID_QUERY_PARAM',
      );
    }
  }
  return undefined;
}

const keep = z.union([
  z.boolean(),
  z.int().min(0),
  z.strictObject({ age: z.int().min(0).optional(), count: z.int().min(0).optional() }),
]);
const DAY_MS = 24 * 60 * 60 * 1000;

/** Options of a job added by hand: those of the API and of the queues' defaults, bounded. */
const addOptions = z.strictObject({
  delay: enqueueOptions.delay,
  priority: z.int().min(0).max(2_097_152).optional(),
  attempts: enqueueOptions.attempts,
  backoff: z
    .union([
      z.int().min(0).max(DAY_MS),
      z.strictObject({
        type: z.enum(['fixed', 'exponential']),
        delay: z.int().min(0).max(DAY_MS).optional(),
        jitter: z.number().min(0).max(1).optional(),
      }),
    ])
    .optional(),
  lifo: z.boolean().optional(),
  removeOnComplete: keep.optional(),
  removeOnFail: keep.optional(),
});

const addBody = z.strictObject({
  name: z.string().max(200).optional(),
  data: z.unknown(),
  options: addOptions.optional(),
});

function badBody(route: string, request: BoardRequest): Refusal | undefined {
  const { body } = request;
  if (tooDeep(body)) return invalid(`the body is nested more than ${MAX_DEPTH} deep`);
  const type = typeOfQueue(request.params?.queueName);
  if (route === '/api/queues/:queueName/add') {
    const added = addBody.safeParse(body);
    if (!added.success) return fromZod(added.error);
    return type ? badData(type, added.data.data, 'data') : undefined;
  }
  if (route === '/api/queues/:queueName/:jobId/update-data') {
    const jobData = (body as { jobData?: unknown } | undefined)?.jobData;
    return type ? badData(type, jobData, 'jobData') : undefined;
  }
  if (route === '/api/queues/:queueName/:jobId/delay') {
    const runAt = (body as { runAt?: unknown } | undefined)?.runAt;
    if (typeof runAt === 'number' && runAt > Date.now() + YEAR_MS) {
      return invalid('runAt: at most a year from now', 'ERRORS.INVALID_RUN_AT');
    }
  }
  return undefined;
}

function badData(type: JobType, data: unknown, field: string): Refusal | undefined {
  const checked = jobs[type].schema.safeParse(data);
  return checked.success ? undefined : fromZod(checked.error, [field]);
}

const typeOfQueue = (queueName: unknown): JobType | undefined =>
  jobTypes.find((type) => jobs[type].queue === queueName);

function fromZod(error: z.ZodError, at: PropertyKey[] = []): Refusal {
  const issue = error.issues[0];
  const path = [...at, ...(issue?.path ?? [])].map(String).join('.');
  return invalid(`${path || 'body'}: ${issue?.message ?? 'invalid'}`);
}

const invalid = (
  message: string,
  errorKey: ErrorTranslationKey = 'ERRORS.INVALID_REQUEST_BODY',
): Refusal => ({ status: 400, errorKey, message });

/** Whether JSON nests deeper than MAX_DEPTH (walked without recursion). */
function tooDeep(value: unknown): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [next, depth] = stack.pop() as [unknown, number];
    if (next === null || typeof next !== 'object') continue;
    if (depth >= MAX_DEPTH) return true;
    for (const child of Object.values(next)) stack.push([child, depth + 1]);
  }
  return false;
}
