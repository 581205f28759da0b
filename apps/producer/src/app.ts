import type { RequestListener } from 'node:http';
import { notFound, opsRouter, problemErrors } from '@errand/http';
import express, { type RequestHandler } from 'express';
import type { Scope } from './api-keys.ts';
import { authenticate, requireScope } from './auth.ts';
import type { ApiSettings, Deps } from './deps.ts';
import { docsRouter } from './docs.ts';
import { enqueueFastPath, withFastPath } from './enqueue-fast-path.ts';
import { keyRateLimit, rateLimit } from './rate-limit.ts';
import { listAnalyticsEvents } from './routes/analytics.events.ts';
import { getAnalyticsReport } from './routes/analytics.report.ts';
import { createBatch } from './routes/jobs.batch.ts';
import { cancelJob } from './routes/jobs.cancel.ts';
import { createJob } from './routes/jobs.create.ts';
import { discardJobs } from './routes/jobs.discard.ts';
import { streamJobEvents } from './routes/jobs.events.ts';
import { getJob } from './routes/jobs.get.ts';
import { listJobs } from './routes/jobs.list.ts';
import { retryJob } from './routes/jobs.retry.ts';
import { retryJobs } from './routes/jobs.retry-many.ts';
import { getObject } from './routes/objects.get.ts';
import { listQueues } from './routes/queues.list.ts';
import { pauseSchedule, resumeSchedule, runSchedule } from './routes/schedules.control.ts';
import { deleteSchedule } from './routes/schedules.delete.ts';
import { getSchedule } from './routes/schedules.get.ts';
import { listSchedules } from './routes/schedules.list.ts';
import { putSchedule } from './routes/schedules.put.ts';
import { rotateSigningSecret } from './routes/signing-secret.rotate.ts';
import { createUpload } from './routes/uploads.create.ts';
import { putUpload } from './routes/uploads.put.ts';
import { deleteWebhook } from './routes/webhooks.delete.ts';
import { listWebhookDeliveries } from './routes/webhooks.deliveries.ts';
import { getWebhook } from './routes/webhooks.get.ts';
import { listWebhooks } from './routes/webhooks.list.ts';
import { putWebhook } from './routes/webhooks.put.ts';
import { replayWebhook } from './routes/webhooks.replay.ts';
import { rotateWebhookSecret } from './routes/webhooks.rotate.ts';
import { noProtoKeys } from './validation.ts';

type Route = [
  method: 'get' | 'post' | 'put' | 'delete',
  path: string,
  scope: Scope,
  handler: (deps: Deps) => RequestHandler,
];

/** Every route of the API, with the scope its key needs. `openapi.ts` documents each one. */
export const routes: Route[] = [
  ['post', '/v1/jobs/:type', 'enqueue', createJob],
  ['post', '/v1/jobs/:type/batch', 'enqueue', createBatch],
  ['get', '/v1/jobs/:type/:id', 'read', getJob],
  ['get', '/v1/jobs/:type/:id/events', 'read', streamJobEvents],
  ['delete', '/v1/jobs/:type/:id', 'admin', cancelJob],
  ['post', '/v1/jobs/:type/:id/retry', 'admin', retryJob],
  ['get', '/v1/queues', 'read', listQueues],
  ['get', '/v1/analytics', 'read', listAnalyticsEvents],
  ['get', '/v1/analytics/:event', 'read', getAnalyticsReport],
  ['get', '/v1/schedules', 'read', listSchedules],
  ['get', '/v1/schedules/:id', 'read', getSchedule],
  ['put', '/v1/schedules/:id', 'admin', putSchedule],
  ['delete', '/v1/schedules/:id', 'admin', deleteSchedule],
  ['post', '/v1/schedules/:id/pause', 'admin', pauseSchedule],
  ['post', '/v1/schedules/:id/resume', 'admin', resumeSchedule],
  ['post', '/v1/schedules/:id/run', 'admin', runSchedule],
  ['get', '/v1/webhooks', 'admin', listWebhooks],
  ['get', '/v1/webhooks/:id', 'admin', getWebhook],
  ['put', '/v1/webhooks/:id', 'admin', putWebhook],
  ['delete', '/v1/webhooks/:id', 'admin', deleteWebhook],
  ['post', '/v1/webhooks/:id/rotate-secret', 'admin', rotateWebhookSecret],
  ['get', '/v1/webhooks/:id/deliveries', 'admin', listWebhookDeliveries],
  ['post', '/v1/webhooks/:id/replay', 'admin', replayWebhook],
  ['post', '/v1/signing-secret', 'enqueue', rotateSigningSecret],
  // Image sources in, outputs out, for storage no caller can reach (local files).
  ['post', '/v1/uploads', 'enqueue', createUpload],
  ['put', '/v1/uploads/:name', 'enqueue', putUpload],
  ['get', '/v1/objects/*key', 'read', getObject],
  // The dead letter: jobs of a type by state, and failed ones retried or discarded in bulk.
  // No route is `POST /v1/jobs/:type/:id`, so `/retry` (like `/batch`) is no job id's.
  ['get', '/v1/jobs/:type', 'read', listJobs],
  ['post', '/v1/jobs/:type/retry', 'admin', retryJobs],
  ['delete', '/v1/jobs/:type', 'admin', discardJobs],
];

/** Latency and status of every request, labelled by route pattern (not raw path). */
const measure =
  ({ metrics }: Deps): RequestHandler =>
  (req, res, next) => {
    const stop = metrics.requests.startTimer({ method: req.method });
    res.on('finish', () => {
      const route = (req.route?.path as string | undefined) ?? 'unmatched';
      stop({ route, status: String(res.statusCode) });
    });
    next();
  };

/**
 * The enqueue API: the table of routes, each behind its key and rate limit, then the ops
 * endpoints and docs; everything that goes wrong ends as problem+json. In front of it, the
 * fast path of a plain enqueue, single or batch (`enqueue-fast-path.ts`), with the same rate
 * limit.
 */
export function buildApp(deps: Deps, settings: ApiSettings): RequestListener {
  const { app, fast } = buildApi(deps, settings);
  return withFastPath(fast, app);
}

/** The parts `buildApp` puts together: the Express app and the fast path in front of it. */
export function buildApi(deps: Deps, settings: ApiSettings) {
  const app = express();
  app.disable('x-powered-by');
  // No ETag: nothing asks for conditional requests, and hashing every answer cost CPU per request.
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(measure(deps));

  // Per route, so even a 401 or 429 is measured under its route: who (401), how often
  // (429), may it (403), then the body (400, 413, 415), then the handler.
  const limit = keyRateLimit({
    redis: deps.redis,
    prefix: deps.prefix,
    perSecond: settings.rateLimit,
    onLimited: (key) => {
      deps.metrics.rateLimited.inc({ key });
      deps.logger.info({ producer: key }, 'rate limited');
    },
  });
  const guard = [authenticate(settings.apiKeys), rateLimit(limit)];
  const json = express.json({ limit: settings.bodyLimitBytes, strict: true });
  for (const [method, path, scope, handler] of routes) {
    app[method](path, ...guard, requireScope(scope), json, noProtoKeys, handler(deps));
  }
  // After the API's routes, which every request would otherwise walk these routers to reach
  app.use(opsRouter({ redis: deps.redis, prefix: deps.prefix, metrics: deps.metrics.registry }));
  app.use(docsRouter());

  app.use(notFound);
  app.use(problemErrors(deps.logger));
  return { app, fast: enqueueFastPath(deps, settings, limit) };
}
