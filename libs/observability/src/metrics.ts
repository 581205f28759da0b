import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Every metric of the platform starts with this, by Prometheus naming conventions. */
export const METRIC_PREFIX = 'errand_';

type Labels<L extends string> = { name: string; help: string; labelNames?: readonly L[] };

/**
 * One registry per app, with default process metrics, that only makes metrics under the
 * `errand_` prefix: a name given without it gets it.
 */
export class Metrics {
  readonly registry = new Registry();

  constructor(app: string) {
    this.registry.setDefaultLabels({ app });
    collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
  }

  private named(name: string) {
    return name.startsWith(METRIC_PREFIX) ? name : `${METRIC_PREFIX}${name}`;
  }

  counter<L extends string>(spec: Labels<L>) {
    return new Counter<L>({ ...spec, name: this.named(spec.name), registers: [this.registry] });
  }

  /** A gauge; with `collect`, its values are read at scrape time (e.g. from Redis). */
  gauge<L extends string>(
    spec: Labels<L> & { collect?: (this: Gauge<L>) => Promise<void> | void },
  ) {
    return new Gauge<L>({ ...spec, name: this.named(spec.name), registers: [this.registry] });
  }

  histogram<L extends string>(spec: Labels<L> & { buckets?: number[] }) {
    return new Histogram<L>({ ...spec, name: this.named(spec.name), registers: [this.registry] });
  }

  /** Body and content type for a `/metrics` response. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
