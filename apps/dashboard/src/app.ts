import { join } from 'node:path';
import { opsRouter } from '@errand/http';
import type { Logger, Metrics } from '@errand/observability';
import type { Queues } from '@errand/queues';
import type { RedisClient } from '@errand/redis';
import express, { type Express, type RequestHandler } from 'express';
import { type Audit, auditRequests, auditRoute } from './audit.ts';
import { authenticate } from './auth/authenticate.ts';
import { callerOf } from './auth/caller.ts';
import { changesState, csrfProblem } from './auth/csrf.ts';
import { loginRouter, logout } from './auth/login.ts';
import type { LoginLimits } from './auth/login-limits.ts';
import type { Sessions } from './auth/sessions.ts';
import type { Directory } from './auth/users.ts';
import { boardRouter } from './board.ts';
import type { DashboardEnv } from './env.ts';
import { dashboardErrors, dashboardProblem, notFound } from './problems.ts';

export interface DashboardDeps {
  env: DashboardEnv;
  redis: RedisClient;
  queues: Queues;
  metrics: Metrics;
  logger: Logger;
  directory: Directory;
  sessions: Sessions;
  limits: LoginLimits;
  audit: Audit;
}

/** Our page's assets: the login stylesheet, the board's script and styles. */
const PUBLIC_DIR = join(import.meta.dirname, '..', 'public');

/** Only this origin's scripts and styles (React sets inline styles), no frames, no CDN. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const securityHeaders: RequestHandler = (_req, res, next) => {
  res.set({
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'same-origin',
    'Cache-Control': 'no-store',
  });
  next();
};

/**
 * The dashboard, in the order a request meets it:
 * 1. health and metrics (no login: Prometheus scrapes them), our static assets, the login;
 * 2. authentication (session cookie, or a trusted proxy's user header);
 * 3. the audit of anything that changes state, then the CSRF check;
 * 4. logout, the audit log, and Bull Board behind its permission table;
 * 5. a 404 for what nobody serves; every error of ours answered as problem+json.
 */
export function dashboardApp(deps: DashboardDeps): Express {
  const { env, logger } = deps;
  const secureCookies = env.DASHBOARD_COOKIE_SECURE;
  const sessionMaxMs = env.DASHBOARD_SESSION_MAX_HOURS * 3_600_000;
  const proxies = env.DASHBOARD_TRUSTED_PROXIES;

  const csrf: RequestHandler = (req, res, next) => {
    const caller = callerOf(res);
    const problem = changesState(req) && caller ? csrfProblem(req, caller.session.csrf) : undefined;
    if (problem) throw dashboardProblem('csrf', problem);
    next();
  };

  return express()
    .disable('x-powered-by')
    .set('trust proxy', proxies.length > 0 ? proxies : false)
    .use(securityHeaders)
    .use(opsRouter({ redis: deps.redis, prefix: env.QUEUE_PREFIX, metrics: deps.metrics }))
    .use('/errand', express.static(PUBLIC_DIR, { index: false, fallthrough: false }))
    .get('/favicon.ico', (_req, res) => void res.status(204).end()) // asked for by browsers unbidden
    .use(loginRouter({ ...deps, secureCookies, sessionMaxMs }))
    .use(
      authenticate({
        ...deps,
        secureCookies,
        sessionMaxMs,
        ...(env.DASHBOARD_TRUSTED_PROXY_HEADER
          ? { proxyHeader: env.DASHBOARD_TRUSTED_PROXY_HEADER }
          : {}),
      }),
    )
    .use(auditRequests(deps.audit))
    .use('/logout', express.urlencoded({ extended: false, limit: '2kb', parameterLimit: 5 }))
    .use(csrf)
    .post('/logout', logout({ sessions: deps.sessions, secureCookies }))
    .get('/audit', auditRoute(deps.audit))
    .use(boardRouter(deps.queues, logger, { trustProxy: proxies.length > 0 ? proxies : false }))
    .use(notFound)
    .use(dashboardErrors(deps.redis, logger));
}
