import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Logger } from '@errand/observability';
import type { Queues } from '@errand/queues';
import type { Express, RequestHandler, Response } from 'express';
import { callerByHeaders, callerOf } from './auth/caller.ts';
import { permissionOf } from './auth/permissions.ts';
import { allows } from './auth/roles.ts';

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
    const badNumber = outOfBounds(request.query);
    if (badNumber) return { allow: false, status: 400, message: badNumber };
    return { allow: true };
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

function outOfBounds(query: Record<string, unknown> | undefined): string | undefined {
  for (const [name, max] of Object.entries(QUERY_BOUNDS)) {
    const value = query?.[name];
    if (value === undefined) continue;
    const number = typeof value === 'string' && /^\d{1,7}$/.test(value) ? Number(value) : 0;
    if (number < 1 || number > max) return `${name}: expected a whole number from 1 to ${max}`;
  }
  return undefined;
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
    queues: Object.values(queues).map(
      (queue) => new BullMQAdapter(queue, { readOnlyMode: options.readOnlyMode }),
    ),
    serverAdapter: options.adapter,
    options: {
      uiConfig: { boardTitle: 'Errand' },
      handlerHooks: { before: permissionHook(logger) },
    },
  });
}

/** Bull Board twice: read-only for viewers (no buttons to press), with its actions for
 * operators and admins. */
export function boardRouter(
  queues: Queues,
  logger: Logger,
  options: { trustProxy: string[] | false },
): RequestHandler {
  const board = (readOnlyMode: boolean) => {
    const adapter = new PageAdapter();
    makeBoard(queues, logger, { readOnlyMode, adapter });
    // Bull Board's app reads the request with its own settings: the same as ours.
    return (adapter.getRouter() as Express)
      .set('trust proxy', options.trustProxy)
      .disable('x-powered-by') as unknown as RequestHandler;
  };
  const forViewers = board(true);
  const forOthers = board(false);
  return (req, res, next) =>
    (callerOf(res)?.user.role === 'viewer' ? forViewers : forOthers)(req, res, next);
}
