import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeAnalyticsReader } from '@errand/analytics';
import { type JobType, jobTypes } from '@errand/contract';
import { closeServer, listen } from '@errand/http';
import { createLogger, Metrics } from '@errand/observability';
import { closeQueues, makeSchedules, openQueues, type Queues } from '@errand/queues';
import { createRedis } from '@errand/redis';
import { objectLinks, openStorage, type StorageSettings } from '@errand/storage';
import { baseUrl, startTestRedis, type TestRedis } from '@errand/testing';
import type { Redis } from 'ioredis';
import { apiKeysVar } from '../src/api-keys.ts';
import { buildApi } from '../src/app.ts';
import { type Deps, producerMetrics } from '../src/deps.ts';
import { makeJobEvents } from '../src/job-events.ts';

export interface TestProducerOptions {
  bodyLimitBytes?: number;
  /** API_KEYS as the environment gives it: a JSON array of { name, key, scopes }. */
  apiKeys?: unknown[];
  rateLimit?: number;
  maxWaiting?: Partial<Deps['maxWaiting']>;
  /** REDIS_COMMAND_TIMEOUT_MS (main.ts's default: 2 s). */
  commandTimeoutMs?: number;
  /** Where uploads and outputs live; a temp folder of its own by default. */
  storage?: StorageSettings;
  uploadMaxBytes?: number;
}

/** The producer's app in-process, on its own real Redis, listening on a free port. */
export async function startProducer(prefix: string, options: TestProducerOptions = {}) {
  const server: TestRedis = await startTestRedis();
  // As main.ts connects: the commands of concurrent requests share writes.
  const redis: Redis = createRedis(server.url, 'producer', {
    lazyConnect: true,
    enableAutoPipelining: true,
    commandTimeout: options.commandTimeoutMs ?? 2_000,
  });
  await redis.connect();
  const queues: Queues = openQueues(redis, prefix);
  const events = makeJobEvents({ redis, redisLocation: server.url, queues });
  const metrics = producerMetrics(new Metrics('test'));
  const storageDir = await mkdtemp(join(tmpdir(), 'errand-producer-storage-'));
  const storageSettings = options.storage ?? {
    store: { kind: 'local', dir: storageDir },
    urlExpirySeconds: 3600,
  };
  const storage = openStorage(storageSettings);
  const deps: Deps = {
    redis,
    queues,
    events,
    schedules: makeSchedules(redis, queues, prefix),
    analytics: makeAnalyticsReader(redis, prefix),
    logger: createLogger('test', 'silent'),
    metrics,
    prefix,
    maxWaiting: {
      ...(Object.fromEntries(jobTypes.map((type) => [type, 0])) as Record<JobType, number>),
      ...options.maxWaiting,
    },
    storage,
    links: objectLinks(storage, storageSettings.urlExpirySeconds),
    uploadMaxBytes: options.uploadMaxBytes ?? 1024 * 1024,
  };
  const { app, fast } = buildApi(deps, {
    bodyLimitBytes: options.bodyLimitBytes ?? 1024 * 1024,
    apiKeys: apiKeysVar.parse(JSON.stringify(options.apiKeys ?? [])),
    rateLimit: options.rateLimit ?? 10_000,
  });
  // As buildApp composes them (withFastPath), counting which of the two served each request.
  const served = { fast: 0, app: 0 };
  const http: Server = await listen(
    (req, res) => {
      if (fast(req, res)) served.fast++;
      else {
        served.app++;
        app(req, res);
      }
    },
    0,
    '127.0.0.1',
  );
  return {
    app,
    served,
    api: baseUrl(http),
    redisServer: server,
    redis,
    queues,
    deps,
    metrics,
    async stop() {
      const closing = closeServer(http);
      await events.close();
      await closing;
      await closeQueues(queues);
      redis.disconnect();
      storage.close();
      await server.stop();
      await rm(storageDir, { recursive: true, force: true });
    },
  };
}
