import type { Metrics } from '@errand/observability';
import type { RedisClient } from '@errand/redis';
import { TimeoutError, withTimeout } from '@errand/redis';
import { Router } from 'express';

/**
 * Reachable and writable: a PING is not enough, since a replica or a full disk refuses writes.
 * The probe key sits under the queue prefix, where the app's Redis user may write.
 */
export async function probeRedis(
  redis: RedisClient,
  prefix: string,
  timeoutMs = 1_000,
): Promise<string | undefined> {
  try {
    await withTimeout(
      redis.set(`${prefix}:readyz`, String(Date.now()), 'PX', 10_000),
      timeoutMs,
      'readiness probe',
    );
    return undefined;
  } catch (error) {
    if (error instanceof TimeoutError) return `no answer within ${timeoutMs} ms`;
    return (error as Error).message;
  }
}

/** What a check adds to a 503 body (e.g. `{ queues: { email: 'blocking connection connect' } }`). */
export type OpsProblem = Record<string, unknown>;

export interface OpsOptions {
  redis: RedisClient;
  prefix: string;
  metrics: Metrics;
  /** A further reason not to take traffic or jobs (a worker's stuck Worker); undefined when ready. */
  readiness?: () => OpsProblem | undefined | Promise<OpsProblem | undefined>;
  /** Set when only a restart helps (a worker not consuming for too long); undefined when live. */
  liveness?: () => OpsProblem | undefined;
}

/**
 * `/healthz` (the process answers, and `liveness` finds nothing), `/readyz` (Redis reachable
 * and writable, and `readiness` finds nothing), `/metrics`. Without the two checks, `/healthz`
 * is always ok and `/readyz` probes Redis only.
 */
export function opsRouter(options: OpsOptions): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    const problem = options.liveness?.();
    if (problem) res.status(503).json({ status: 'not-live', ...problem });
    else res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const [redis, other] = await Promise.all([
      probeRedis(options.redis, options.prefix),
      options.readiness?.(),
    ]);
    if (redis || other) {
      res
        .status(503)
        .set('Retry-After', '1')
        .json({ status: 'unavailable', ...(redis ? { redis } : {}), ...other });
    } else res.json({ status: 'ready' });
  });
  router.get('/metrics', async (_req, res) => {
    const { contentType, body } = await options.metrics.scrape();
    res.type(contentType).send(body);
  });
  return router;
}
