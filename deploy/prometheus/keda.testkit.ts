import { freePort } from '@errand/devservers';
import type { AppProcess } from '@errand/testing';
import { build } from '../kubernetes/test/manifests.testkit.ts';
import { startDashboardApp } from '../test/apps.testkit.ts';
import { type PrometheusProcess, startPrometheus } from '../test/prometheus.testkit.ts';

/**
 * What the KEDA trigger of the Kubernetes manifests asks Prometheus, tried on a real one: the
 * query read from the built overlay (never a copy), and a Prometheus that scrapes two
 * dashboards, as a Deployment of two dashboard replicas would have it scraped.
 */

/** The query of each prometheus trigger of the overlay's ScaledObjects, as KEDA sends it. */
export async function kedaQueries(overlay: string): Promise<string[]> {
  const scaled = (await build(overlay)).filter((o) => o.kind === 'ScaledObject');
  return scaled.flatMap((o) =>
    ((o.spec as { triggers?: { type: string; metadata?: { query?: string } }[] }).triggers ?? [])
      .filter((trigger) => trigger.type === 'prometheus')
      .map((trigger) => trigger.metadata?.query ?? ''),
  );
}

/**
 * `run` with a Prometheus of the shipped config scraping the producer at `producer`, the
 * dashboard at `dashboard` and a second dashboard process started on the same Redis and
 * prefix; no worker. Both are stopped afterwards.
 */
export async function withTwoDashboards<T>(
  env: { REDIS_URL: string; QUEUE_PREFIX: string },
  hosts: { producer: string; dashboard: string },
  run: (prometheus: PrometheusProcess) => Promise<T>,
): Promise<T> {
  let second: AppProcess | undefined;
  let prometheus: PrometheusProcess | undefined;
  try {
    const served = await startDashboardApp(env, (app) => {
      second = app;
    });
    prometheus = await startPrometheus({
      targets: {
        producer: [hosts.producer],
        dashboard: [hosts.dashboard, new URL(served.url).host],
        worker: [`127.0.0.1:${await freePort()}`], // no worker runs
      },
    });
    return await run(prometheus);
  } finally {
    await prometheus?.stop();
    await second?.stop();
  }
}
