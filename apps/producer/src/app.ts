import { notFound, opsRouter, problemErrors } from '@errand/http';
import express, { type RequestHandler } from 'express';
import type { Deps } from './deps.ts';
import { createBatch } from './routes/jobs.batch.ts';
import { cancelJob } from './routes/jobs.cancel.ts';
import { createJob } from './routes/jobs.create.ts';
import { getJob } from './routes/jobs.get.ts';
import { retryJob } from './routes/jobs.retry.ts';
import { listQueues } from './routes/queues.list.ts';

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

/** The enqueue API: one table of routes, then problem+json for everything that goes wrong. */
export function buildApp(deps: Deps, options: { bodyLimitBytes: number }) {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(measure(deps));
  app.use(opsRouter({ redis: deps.redis, metrics: deps.metrics.registry }));
  app.use(express.json({ limit: options.bodyLimitBytes, strict: true }));

  app.post('/v1/jobs/:type', createJob(deps));
  app.post('/v1/jobs/:type/batch', createBatch(deps));
  app.get('/v1/jobs/:type/:id', getJob(deps));
  app.delete('/v1/jobs/:type/:id', cancelJob(deps));
  app.post('/v1/jobs/:type/:id/retry', retryJob(deps));
  app.get('/v1/queues', listQueues(deps));

  app.use(notFound);
  app.use(problemErrors(deps.logger));
  return app;
}
