import type { Metrics } from '@errand/observability';

/** What the worker counts of the calls it makes out: webhook deliveries. */
export function outboundMetrics(metrics: Metrics) {
  const deliveries = metrics.counter({
    name: 'webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome (delivered, retrying, failed, skipped)',
    labelNames: ['outcome'],
  });
  for (const outcome of ['delivered', 'retrying', 'failed', 'skipped'])
    deliveries.inc({ outcome }, 0);
  const disabled = metrics.counter({
    name: 'webhook_subscriptions_disabled_total',
    help: 'Subscriptions disabled by a delivery: the endpoint answered 410, or failed for days',
    labelNames: ['reason'],
  });
  for (const reason of ['gone', 'failing']) disabled.inc({ reason }, 0);
  return {
    deliveries,
    latency: metrics.histogram({
      name: 'webhook_delivery_duration_seconds',
      help: 'Time from sending a webhook delivery to its answer (or its failure)',
      labelNames: ['outcome'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    }),
    disabled,
  };
}
export type OutboundMetrics = ReturnType<typeof outboundMetrics>;
