import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { eventually, request, startTestRedis, type TestRedis } from '@errand/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type Stack, startStack } from './test/apps.testkit.ts';
import {
  type Family,
  type MetricUse,
  metricOfLabelValues,
  metricsIn,
  parseExposition,
  seriesNames,
} from './test/promql.testkit.ts';

const DEPLOY = import.meta.dirname;
/** Series Prometheus makes itself: no app exports them. */
const PROMETHEUS_OWN = new Set(['up', 'ALERTS']);
/** Labels Prometheus adds to every scraped series. */
const TARGET_LABELS = ['job', 'instance'];

/** Where each metric is read: "alerts.yml ErrandQueueNoWorkers", "errand.json panel 4". */
type Uses = Map<string, { use: MetricUse; where: string }[]>;

function note(uses: Uses, where: string, found: MetricUse[]) {
  for (const use of found) uses.set(use.name, [...(uses.get(use.name) ?? []), { use, where }]);
}

async function alertUses(): Promise<Uses> {
  const file = await readFile(join(DEPLOY, 'prometheus', 'alerts.yml'), 'utf8');
  const { groups } = parse(file) as { groups: { rules: { alert?: string; expr: string }[] }[] };
  const uses: Uses = new Map();
  for (const rule of groups.flatMap((group) => group.rules)) {
    note(uses, `alerts.yml ${rule.alert}`, metricsIn(rule.expr));
  }
  return uses;
}

/** Every `expr` anywhere in the dashboard (panels, rows, annotations) and variable queries. */
async function dashboardUses(): Promise<Uses> {
  const file = await readFile(join(DEPLOY, 'grafana', 'dashboards', 'errand.json'), 'utf8');
  const uses: Uses = new Map();
  const walk = (node: unknown, where: string) => {
    if (typeof node !== 'object' || node === null) return;
    const object = node as Record<string, unknown>;
    const here = typeof object.id === 'number' ? `errand.json panel ${object.id}` : where;
    if (typeof object.expr === 'string') note(uses, here, metricsIn(object.expr));
    if (typeof object.definition === 'string') {
      const name = metricOfLabelValues(object.definition);
      if (name) note(uses, `errand.json variable ${object.name}`, [{ name, labels: [] }]);
    }
    for (const value of Object.values(object)) walk(value, here);
  };
  walk(JSON.parse(file), 'errand.json');
  return uses;
}

describe('reading metric names out of PromQL', () => {
  it('finds metrics and their matchers, not functions, keywords, label lists, strings or variables', () => {
    const expr = `histogram_quantile(0.99, sum by (status_class, le) (label_replace(
        rate(errand_http_request_duration_seconds_bucket{route=~"/v1/.*"}[$__rate_interval]),
        "status_class", "\${1}xx", "status", "(\\\\d)..")))
      / on (queue) group_left max without (app) (errand_queue_workers offset 15m) > bool 1e3
      unless sum(errand_jobs_finished_total{outcome="failed", queue=~"$queue"}) by (queue)
      and time() - up{job="dashboard"} > 300`;
    expect(metricsIn(expr)).toEqual([
      { name: 'errand_http_request_duration_seconds_bucket', labels: ['route'] },
      { name: 'errand_queue_workers', labels: [] },
      { name: 'errand_jobs_finished_total', labels: ['outcome', 'queue'] },
      { name: 'up', labels: ['job'] },
    ]);
    expect(metricOfLabelValues('label_values(errand_queue_jobs, queue)')).toBe('errand_queue_jobs');
  });
});

/**
 * The shipped alerts and dashboard against the apps' live /metrics: a metric renamed in the
 * code, or misspelt in a rule or a panel, fails here rather than leaving an alert that can
 * never fire or a panel that stays empty. Real processes on a real Redis, with a job run
 * through them so that the job counters and histograms have series.
 */
describe('the metrics the alerts and the Grafana dashboard read', () => {
  let redis: TestRedis;
  let stack: Stack | undefined;
  const exported = new Map<string, { app: string; family: Family }>();

  beforeAll(async () => {
    redis = await startTestRedis();
    stack = await startStack({ REDIS_URL: redis.url, QUEUE_PREFIX: 'names' }, { worker: true });
    const { producer, dashboard, worker } = stack;
    const event = {
      id: 'names-1',
      name: 'signup',
      userId: 'u1',
      timestamp: new Date().toISOString(),
    };
    const enqueued = await request(`${producer.url}/v1/jobs/analytics`, {
      method: 'POST',
      json: { data: { events: [event] } },
    });
    expect(enqueued.status).toBe(202);
    const workerUrl = worker?.url as string;
    await eventually(
      async () => {
        const text = await (await fetch(`${workerUrl}/metrics`)).text();
        return text.includes('errand_job_duration_seconds_count{') || undefined;
      },
      { timeoutMs: 20_000, what: 'the worker ran the job' },
    );
    for (const [app, url] of [
      ['producer', producer.url],
      ['worker', workerUrl],
      ['dashboard', dashboard.url],
    ] as const) {
      const families = parseExposition(await (await fetch(`${url}/metrics`)).text());
      for (const [base, family] of families) {
        for (const series of seriesNames(base, family)) exported.set(series, { app, family });
      }
    }
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
    await redis?.stop();
  });

  const check = (uses: Uses) => {
    const problems: string[] = [];
    for (const [name, list] of uses) {
      if (PROMETHEUS_OWN.has(name)) continue;
      const found = exported.get(name);
      const where = [...new Set(list.map((entry) => entry.where))].join(', ');
      if (!found) {
        problems.push(`${name} (in ${where}) is exported by no app`);
        continue;
      }
      // Label names of matchers, where the app has samples to tell its labels by.
      if (found.family.samples === 0) continue;
      const known = new Set([...found.family.labels, ...TARGET_LABELS]);
      for (const { use, where: at } of list) {
        for (const label of use.labels.filter((l) => !known.has(l))) {
          problems.push(
            `${name} (in ${at}) has no label "${label}": the ${found.app} exports ${[...found.family.labels]}`,
          );
        }
      }
    }
    return problems;
  };

  it('every metric alerts.yml reads is one the apps export, with the labels it matches on', async () => {
    const uses = await alertUses();
    expect([...uses.keys()]).toEqual(
      expect.arrayContaining(['errand_queue_jobs', 'errand_jobs_finished_total', 'up']),
    );
    expect(check(uses)).toEqual([]);
  });

  it('every metric the Grafana dashboard reads is one the apps export, with the labels it matches on', async () => {
    const uses = await dashboardUses();
    expect([...uses.keys()]).toEqual(
      expect.arrayContaining([
        'errand_queue_jobs',
        'errand_job_wait_seconds_bucket',
        'errand_http_request_duration_seconds_bucket',
        'errand_redis_up',
      ]),
    );
    expect(check(uses)).toEqual([]);
  });

  it('the exporters are what the check compares with: families, histogram series, labels', () => {
    expect(exported.get('errand_job_wait_seconds_bucket')?.app).toBe('worker');
    expect(exported.get('errand_job_wait_seconds')).toBeUndefined(); // a histogram's base name
    expect([
      ...(exported.get('errand_http_request_duration_seconds_count')?.family.labels ?? []),
    ]).toEqual(expect.arrayContaining(['le', 'route', 'status']));
    expect(exported.get('errand_schedule_next_run_timestamp_seconds')?.app).toBe('dashboard');
  });
});
