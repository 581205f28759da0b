import type { Response } from 'express';

/** Base of the stable `type` URIs of our problem documents (RFC 9457). */
export const PROBLEM_BASE = 'https://errand.dev/problems/';

/** A kind of problem: the status it is answered with and its title, the same every time. */
export interface ProblemKind {
  status: number;
  title: string;
}

/** Every kind of error the HTTP API answers with: its status, stable type and title. */
export const problems = {
  'invalid-body': { status: 400, title: 'The request body is not valid' },
  'malformed-json': { status: 400, title: 'The request body is not valid JSON' },
  'invalid-header': { status: 400, title: 'A request header is not valid' },
  'invalid-parameter': { status: 400, title: 'A query or path parameter is not valid' },
  unauthorized: { status: 401, title: 'Authentication is required' },
  forbidden: { status: 403, title: 'The key lacks the scope for this request' },
  'target-not-allowed': { status: 403, title: 'The key may not have Errand call this URL' },
  'unknown-job-type': { status: 404, title: 'There is no such job type' },
  'job-not-found': { status: 404, title: 'There is no such job' },
  'not-found': { status: 404, title: 'There is no such resource' },
  'object-not-found': { status: 404, title: 'There is no such stored object' },
  'schedule-not-found': { status: 404, title: 'There is no such schedule' },
  'webhook-not-found': { status: 404, title: 'There is no such webhook subscription' },
  'method-not-allowed': { status: 405, title: 'This method is not allowed here' },
  conflict: { status: 409, title: 'The job is not in a state that allows this' },
  'schedule-source-conflict': {
    status: 409,
    title: 'The schedule belongs to the schedules file (or to the API)',
  },
  'signing-secret-missing': {
    status: 409,
    title: 'The key has no signing secret yet (POST /v1/signing-secret)',
  },
  'webhook-disabled': {
    status: 409,
    title: 'The webhook subscription is disabled (a PUT of it re-enables it)',
  },
  'length-required': { status: 411, title: 'The upload must say its size (Content-Length)' },
  'body-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'The request body must be application/json' },
  'unsupported-image-type': {
    status: 415,
    title: 'The upload must be an image: jpeg, png, webp, avif, gif or tiff',
  },
  'range-not-satisfiable': { status: 416, title: 'The range lies outside the object' },
  'idempotency-in-progress': {
    status: 409,
    title: 'Another request with this Idempotency-Key is in progress',
  },
  'idempotency-mismatch': {
    status: 422,
    title: 'The Idempotency-Key was used with a different request',
  },
  'rate-limited': { status: 429, title: 'Too many requests' },
  internal: { status: 500, title: 'Internal error' },
  'not-implemented': { status: 501, title: 'This job type has no processor yet' },
  'redis-unavailable': { status: 503, title: 'The job store is unavailable' },
  'queue-full': { status: 503, title: 'The queue is over its depth limit' },
  'redis-full': { status: 503, title: 'The job store is out of memory' },
  'storage-unavailable': { status: 503, title: 'The image storage is unavailable' },
} as const satisfies Record<string, ProblemKind>;

export type ProblemType = keyof typeof problems;

export interface FieldError {
  path: string;
  message: string;
}

/** What a problem may carry besides its detail. */
export interface ProblemExtra {
  errors?: FieldError[];
  headers?: Record<string, string>;
}

/**
 * One error answered as a problem+json document: its stable `type` (the end of its URI), its
 * kind (status, title), its detail. The API's are `HttpProblem`s; an app that answers kinds of
 * its own (the dashboard) makes `Problem`s from its table of kinds.
 */
export class Problem extends Error {
  override name = 'Problem';
  readonly type: string;
  readonly kind: ProblemKind;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string>;

  constructor(type: string, kind: ProblemKind, detail: string, extra: ProblemExtra = {}) {
    super(detail);
    this.type = type;
    this.kind = kind;
    this.errors = extra.errors;
    this.headers = extra.headers ?? {};
  }

  get status(): number {
    return this.kind.status;
  }
}

/** Thrown anywhere in a request handler; the error middleware turns it into problem+json. */
export class HttpProblem extends Problem {
  override name = 'HttpProblem';
  declare readonly type: ProblemType;

  constructor(type: ProblemType, detail: string, extra: ProblemExtra = {}) {
    super(type, problems[type], detail, extra);
  }
}

/** The problem document of `problem`: the only place an HTTP error body is made. */
export function problemDocument(problem: Problem, instance?: string): string {
  const { status, title } = problem.kind;
  return JSON.stringify({
    type: `${PROBLEM_BASE}${problem.type}`,
    title,
    status,
    detail: problem.message,
    instance,
    errors: problem.errors,
  });
}

/** Answer with one problem document. */
export function sendProblem(res: Response, problem: Problem, instance?: string): void {
  res
    .status(problem.kind.status)
    .set(problem.headers)
    .type('application/problem+json')
    .send(problemDocument(problem, instance));
}
