import type { Metrics } from '@errand/observability';
import { Router } from 'express';
import type { Redis } from 'ioredis';

/**
 * Reachable and writable: a PING is not enough, since a replica or a full disk refuses writes.
 * The probe key sits under the queue prefix, where the app's Redis user may write.
 */
export async function probeRedis(
  redis: Redis,
  prefix: string,
  timeoutMs = 1_000,
): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
  });
  const probe = redis
    .set(`${prefix}:readyz`, String(Date.now()), 'PX', 10_000)
    .then(() => undefined)
    .catch((error: Error) => error.message);
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** `/healthz` (the process answers), `/readyz` (Redis reachable and writable), `/metrics`. */
export function opsRouter(options: { redis: Redis; prefix: string; metrics: Metrics }): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const problem = await probeRedis(options.redis, options.prefix);
    if (problem)
      res.status(503).set('Retry-After', '1').json({ status: 'unavailable', redis: problem });
    else res.json({ status: 'ready' });
  });
  router.get('/metrics', async (_req, res) => {
    const { contentType, body } = await options.metrics.scrape();
    res.type(contentType).send(body);
  });
  return router;
}
