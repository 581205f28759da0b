import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import type { ErrorTranslationKey } from '@bull-board/api/dist/types.js';
import { ExpressAdapter } from '@bull-board/express';
import { jobs } from '@errand/contract';
import type { Logger } from '@errand/observability';
import type { Queues } from '@errand/queues';
import type { Express, RequestHandler, Response } from 'express';
import { callerByHeaders, callerOf } from './auth/caller.ts';
import { permissionOf } from './auth/permissions.ts';
import { allows } from './auth/roles.ts';
import { refusalOf } from './board-input.ts';

type BoardOptions = NonNullable<Parameters<typeof createBullBoard>[0]['options']>;
type Hooks = NonNullable<BoardOptions['handlerHooks']>;
type EntryRoute = Parameters<ExpressAdapter['setEntryRoute']>[0];

/**
 * The server's half of the roles: every call to Bull Board's API passes the permission
 * table first. A route the table lacks is refused to everyone, so a route that a Bull Board
 * upgrade adds stays shut until someone decides who may call it.
 */
export function permissionHook(logger: Logger): Hooks['before'] {
  return ({ method, route, request }) => {
    const caller = callerByHeaders(request.headers);
    if (!caller) return { allow: false, status: 403, message: 'log in first' }; // authenticate runs first
    const permission = permissionOf(method, route);
    if (!permission) {
      logger.error({ method, route }, 'board: a route without a permission; refused');
      return { allow: false, status: 403, message: 'this action is not enabled' };
    }
    if (permission.action) caller.action = permission.action;
    const { queueName, jobId } = request.params ?? {};
    if (typeof queueName === 'string') caller.queue = queueName.slice(0, 100);
    if (typeof jobId === 'string') caller.jobId = jobId.slice(0, 200);
    if (!allows(caller.user.role, permission.role)) {
      return { allow: false, status: 403, message: `needs the ${permission.role} role` };
    }
    const refusal = refusalOf(route, request);
    return refusal ? { allow: false, ...refusal } : { allow: true };
  };
}

/** Bull Board's page, made to work offline and to know its user: the CDN fonts link goes,
 * the CSRF token, the user and the role go in as meta tags, and our script joins the page. */
export function rewritePage(html: string, res: Response): string {
  const caller = callerOf(res);
  const meta = (name: string, value: string) =>
    `<meta name="${name}" content="${value.replace(/[^A-Za-z0-9_.@-]/g, '')}">`;
  const head = [
    meta('csrf-token', caller?.session.csrf ?? ''),
    meta('errand-user', caller?.user.name ?? ''),
    meta('errand-role', caller?.user.role ?? ''),
    '<link href="errand/board.css" rel="stylesheet">',
    '<script src="errand/board.js"></script>',
  ].join('\n    ');
  return html
    .replace(/\s*<link[^>]+href="https?:\/\/[^"]*"[^>]*>/g, '')
    .replace('</head>', `    ${head}\n</head>`);
}

/** Bull Board's Express adapter, with the page rewritten on its way out. */
class PageAdapter extends ExpressAdapter {
  override setEntryRoute(routeDef: EntryRoute): ExpressAdapter {
    const routes = Array.isArray(routeDef.route) ? routeDef.route : [routeDef.route];
    this.app.get(routes, (_req, res, next) => {
      const { name, params } = routeDef.handler({
        basePath: this.basePath,
        uiConfig: this.uiConfig,
      });
      res.render(name, params, (error: Error | null, html: string) =>
        error ? next(error) : res.type('html').send(rewritePage(html, res)),
      );
    });
    return this;
  }
}

/** An http job's data as the board shows it: every header value redacted. */
export function redactHeaders(data: unknown): unknown {
  if (typeof data !== 'object' || data === null || !('headers' in data)) return data;
  const { headers } = data as { headers?: unknown };
  if (typeof headers !== 'object' || headers === null) return data;
  const redacted = Object.fromEntries(Object.keys(headers).map((name) => [name, '[redacted]']));
  return { ...data, headers: redacted };
}

/**
 * One Bull Board over every queue of the contract, on `adapter`, with our permission hook.
 * `readOnlyMode` only hides buttons; the hook decides what the server does.
 */
export function makeBoard(
  queues: Queues,
  logger: Logger,
  options: { readOnlyMode: boolean; adapter: ExpressAdapter },
): void {
  options.adapter.setBasePath('/');
  createBullBoard({
    queues: Object.values(queues).map((queue) => {
      const adapter = new BullMQAdapter(queue, { readOnlyMode: options.readOnlyMode });
      // An http job's headers may carry the target's credentials: no dashboard user reads them.
      if (queue.name === jobs.http.queue) adapter.setFormatter('data', redactHeaders);
      return adapter;
    }),
    serverAdapter: options.adapter,
    options: {
      uiConfig: { boardTitle: 'Errand' },
      handlerHooks: { before: permissionHook(logger) },
    },
  });
  options.adapter.setErrorHandler(errorAnswer(logger));
}

type BoardError = Error & { code?: unknown; status?: unknown; expose?: boolean };
type ErrorAnswer = ReturnType<Parameters<ExpressAdapter['setErrorHandler']>[0]>;

/**
 * In place of Bull Board's own error answer, which logs nothing and hands the raw message
 * (Redis script names, BullMQ internals) to the browser. BullMQ refusing an action for the
 * job's state (a negative `code`: not delayed, belongs to a scheduler, gone meanwhile) is the
 * user's 4xx; a refused body (too large, not JSON) keeps its status; the rest is logged, and
 * the answer says where to look.
 */
export function errorAnswer(logger: Logger) {
  return (error: BoardError): ErrorAnswer => {
    const answer = (status: number, key: ErrorTranslationKey, message: string) => ({
      // Express sends any status; Bull Board's type lists those of its own handlers, not 413.
      status: status as ErrorAnswer['status'],
      body: { error: { key }, message },
    });
    if (typeof error.code === 'number' && error.code < 0) {
      if (error.code === -1) return answer(404, 'ERRORS.JOB_NOT_FOUND', 'the job is gone');
      if (error.code === -8)
        return answer(409, 'ERRORS.JOB_BELONGS_TO_JOB_SCHEDULER', 'the job belongs to a schedule');
      const delayed = /not in the delayed state/.test(error.message);
      return answer(
        409,
        delayed ? 'ERRORS.JOB_NOT_DELAYED' : 'ERRORS.INVALID_REQUEST_BODY',
        'the job is not in a state for this action; reload',
      );
    }
    if (typeof error.status === 'number' && error.status >= 400 && error.status < 500) {
      return answer(
        error.status,
        'ERRORS.INVALID_REQUEST_BODY',
        error.expose ? error.message : 'bad request',
      );
    }
    logger.error({ err: error }, 'board: request failed');
    return answer(
      500,
      'ERRORS.INTERNAL_SERVER_ERROR',
      'the dashboard could not do this; its log says why',
    );
  };
}

/** Bull Board twice: read-only for viewers (no buttons to press), with its actions for
 * operators and admins. */
export function boardRouter(
  queues: Queues,
  logger: Logger,
  options: { trustProxy: string[] | false },
): RequestHandler {
  const board = (readOnlyMode: boolean): RequestHandler => {
    const adapter = new PageAdapter();
    makeBoard(queues, logger, { readOnlyMode, adapter });
    // The adapter's own Express app (typed `any` by Bull Board). It reads the request with
    // its own settings: the same as ours.
    const app: Express = adapter.getRouter();
    return app.set('trust proxy', options.trustProxy).disable('x-powered-by');
  };
  const forViewers = board(true);
  const forOthers = board(false);
  return (req, res, next) =>
    (callerOf(res)?.user.role === 'viewer' ? forViewers : forOthers)(req, res, next);
}
