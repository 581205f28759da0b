import type { AnalyticsReader } from '@errand/analytics';
import type { JobType } from '@errand/contract';
import type { Logger, Metrics } from '@errand/observability';
import type { Queues, Schedules } from '@errand/queues';
import type { RedisClient } from '@errand/redis';
import type { ObjectLinks, Storage } from '@errand/storage';
import type { Counter, Histogram } from 'prom-client';
import type { ApiKey } from './api-keys.ts';
import type { JobEvents } from './job-events.ts';

/** Metrics of the producer's API. */
export interface ProducerMetrics {
  registry: Metrics;
  requests: Histogram<'method' | 'route' | 'status'>;
  enqueued: Counter<'type'>;
  rateLimited: Counter<'key'>;
  replays: Counter<'type'>;
}

export function producerMetrics(registry: Metrics): ProducerMetrics {
  return {
    registry,
    requests: registry.histogram({
      name: 'http_request_duration_seconds',
      help: 'Enqueue API requests by route and status, with their latency',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    }),
    enqueued: registry.counter({
      name: 'jobs_enqueued_total',
      help: 'Jobs accepted by the enqueue API, by job type',
      labelNames: ['type'],
    }),
    rateLimited: registry.counter({
      name: 'api_rate_limited_total',
      help: 'Requests refused with 429, by API key name',
      labelNames: ['key'],
    }),
    replays: registry.counter({
      name: 'idempotent_replays_total',
      help: 'Enqueue requests answered with the job of an earlier request with the same Idempotency-Key',
      labelNames: ['type'],
    }),
  };
}

/** Settings of the API, from env.ts. */
export interface ApiSettings {
  bodyLimitBytes: number;
  /** Configured keys; empty means no authentication (the producer then serves loopback only). */
  apiKeys: readonly ApiKey[];
  /** Requests per second per key, unless the key names its own. */
  rateLimit: number;
}

/** What the request handlers use; built once in main.ts. */
export interface Deps {
  redis: RedisClient;
  queues: Queues;
  events: JobEvents;
  /** Schedules: their records and BullMQ job schedulers. */
  schedules: Schedules;
  /** Reads of the analytics aggregates the workers write. */
  analytics: AnalyticsReader;
  logger: Logger;
  metrics: ProducerMetrics;
  /** QUEUE_PREFIX: BullMQ's key prefix, and the producer's own keys live under it too. */
  prefix: string;
  /** Backpressure: most jobs a queue may have waiting before enqueues get 503; 0 = no limit. */
  maxWaiting: Record<JobType, number>;
  /** Image sources and outputs: uploads go in, outputs are served or presigned. */
  storage: Storage;
  links: ObjectLinks;
  /** Largest image upload, through the API or a presigned PUT. */
  uploadMaxBytes: number;
}
