import type { JobType, Queues } from '@errand/contract';
import type { Logger, Metrics } from '@errand/observability';
import type { Redis } from 'ioredis';
import type { Counter, Histogram } from 'prom-client';

/** Metrics of the producer's API. */
export interface ProducerMetrics {
  registry: Metrics;
  requests: Histogram<'method' | 'route' | 'status'>;
  enqueued: Counter<'type'>;
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
    replays: registry.counter({
      name: 'idempotent_replays_total',
      help: 'Requests answered with an earlier job because their Idempotency-Key was seen before',
      labelNames: ['type'],
    }),
  };
}

/** What the request handlers use; built once in main.ts. */
export interface Deps {
  redis: Redis;
  queues: Queues;
  logger: Logger;
  metrics: ProducerMetrics;
  /** The queue prefix, for the producer's own keys (idempotency records). */
  prefix: string;
  /** Backpressure: most jobs a queue may have waiting before enqueues get 503; 0 = no limit. */
  maxWaiting: Record<JobType, number>;
}
