import { STATUS_CODES } from 'node:http';
import { Problem, type ProblemKind, problems, sendProblem } from '@errand/http';
import type { Logger } from '@errand/observability';
import type { RedisClient } from '@errand/redis';
import type { ErrorRequestHandler, RequestHandler } from 'express';

/**
 * Every kind of error the dashboard answers itself, as problem+json (the API's shape); the
 * last part of `type` is the stable name (`csrf`, `unauthorized`…). Kinds the API has too
 * are the API's. Bull Board's API answers its own refusals, in the shape its page reads.
 */
export const dashboardProblems = {
  'bad-request': { status: 400, title: 'The request was refused' },
  'invalid-parameter': problems['invalid-parameter'],
  unauthorized: problems.unauthorized,
  forbidden: { status: 403, title: 'The user’s role does not allow this' },
  csrf: { status: 403, title: 'The request did not come from this dashboard’s page' },
  'not-found': problems['not-found'],
  internal: problems.internal,
  'redis-unavailable': problems['redis-unavailable'],
} as const satisfies Record<string, ProblemKind>;

export type DashboardProblemType = keyof typeof dashboardProblems;

export const dashboardProblem = (type: DashboardProblemType, detail: string) =>
  new Problem(type, dashboardProblems[type], detail);

/** For paths nobody serves (Bull Board's page and API included). */
export const notFound: RequestHandler = (req, _res, next) =>
  next(dashboardProblem('not-found', `Nothing is served at ${req.method} ${req.path}.`));

/**
 * Last middleware: every error is answered as problem+json. Express's own parts (the form
 * parsers, the static files) raise 4xx errors of their own: they keep their status, as
 * `bad-request` (`not-found` for 404). Anything else is logged; the answer says 503 when
 * Redis is down, else 500.
 */
export function dashboardErrors(redis: RedisClient, logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    // No `instance`: a refusal must read the same whichever path it refuses, so that it
    // does not tell which routes exist behind the login.
    sendProblem(res, problemOf(error, redis, logger, req.path));
  };
}

function problemOf(error: unknown, redis: RedisClient, logger: Logger, path: string): Problem {
  if (error instanceof Problem) return error;
  const status = typeof error === 'object' && error && 'status' in error ? error.status : 0;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const detail = error instanceof Error ? error.message : (STATUS_CODES[status] ?? 'refused');
    if (status === 404) return dashboardProblem('not-found', detail);
    return new Problem('bad-request', { ...dashboardProblems['bad-request'], status }, detail);
  }
  logger.error({ err: error, path: path.slice(0, 200) }, 'dashboard: request failed');
  return redis.status === 'ready'
    ? dashboardProblem('internal', 'internal error')
    : dashboardProblem('redis-unavailable', 'Redis is unavailable; try again shortly');
}
