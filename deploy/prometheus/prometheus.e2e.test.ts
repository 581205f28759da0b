import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { countedStates, jobs, jobTypes } from '@errand/contract';
import { freePort } from '@errand/devservers';
import { closeQueues, openQueues, type Queues } from '@errand/queues';
import { eventually, request, startTestRedis, type TestRedis } from '@errand/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../test/apps.testkit.ts';
import {
  type ActiveAlert,
  type PrometheusProcess,
  type Sample,
  startPrometheus,
} from '../test/prometheus.testkit.ts';
import { kedaQueries, withTwoDashboards } from './keda.testkit.ts';

const PREFIX = 'prom-e2e';
const DASHBOARD_JSON = join(import.meta.dirname, '..', 'grafana', 'dashboards', 'errand.json');
/** How the dashboard's Grafana variables are filled in for Prometheus. */
const GRAFANA_VARIABLES: [string, string][] = [
  ['$__rate_interval', '1m'],
  ['$__range', '1h'],
  ['$queue', '.+'],
];

/** A dashboard query as Grafana sends it to Prometheus. */
const fillIn = (query: string) =>
  GRAFANA_VARIABLES.reduce((text, [name, value]) => text.replaceAll(name, value), query);

const mail = (n: number) => ({ to: 'ada@example.com', subject: `Message ${n}`, text: 'Hello' });

/** Every `expr` of the dashboard: panels, their targets, annotations. */
async function dashboardQueries(): Promise<string[]> {
  const found: string[] = [];
  const walk = (node: unknown) => {
    if (typeof node !== 'object' || node === null) return;
    const expr = (node as { expr?: unknown }).expr;
    if (typeof expr === 'string') found.push(expr);
    for (const value of Object.values(node)) walk(value);
  };
  walk(JSON.parse(await readFile(DASHBOARD_JSON, 'utf8')));
  return found;
}

/**
 * The shipped prometheus.yml and alerts.yml in a real Prometheus, scraping real apps (only
 * its targets and intervals changed: 1 s): producer and dashboard on a real Redis, and no
 * worker, its target pointing where nothing listens. Jobs enqueued through the API must show
 * in Prometheus as Redis holds them, and wait for a worker that never comes.
 */
describe('Prometheus with the shipped config, scraping the apps', () => {
  let redis: TestRedis;
  let stack: Stack | undefined;
  let prometheus: PrometheusProcess | undefined;
  let connection: Redis;
  let queues: Queues;

  const alerts = async () =>
    (await (prometheus as PrometheusProcess).api<{ alerts: ActiveAlert[] }>('/api/v1/alerts'))
      .alerts;

  beforeAll(async () => {
    redis = await startTestRedis();
    connection = new Redis(redis.url);
    connection.on('error', () => {}); // the last test kills Redis; ioredis reconnects
    queues = openQueues(connection, PREFIX);
    for (const queue of Object.values(queues)) queue.on('error', () => {});
    stack = await startStack({ REDIS_URL: redis.url, QUEUE_PREFIX: PREFIX }, { worker: false });
    const api = stack.producer.url;
    const bodies = [
      ['email', { data: mail(1) }],
      ['email', { data: mail(2) }],
      ['email', { data: mail(3), priority: 1 }],
      ['email', { data: mail(4), delay: 3_600_000 }],
      [
        'analytics',
        {
          data: {
            events: [
              { id: 'e-1', name: 'signup', userId: 'u1', timestamp: new Date().toISOString() },
            ],
          },
        },
      ],
    ] as const;
    for (const [type, json] of bodies) {
      const answer = await request(`${api}/v1/jobs/${type}`, { method: 'POST', json });
      expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    }
    prometheus = await startPrometheus({
      targets: {
        producer: [new URL(api).host],
        dashboard: [new URL(stack.dashboard.url).host],
        worker: [`127.0.0.1:${await freePort()}`], // no worker runs
      },
    });
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await stack?.stop();
    if (queues) await closeQueues(queues);
    connection?.disconnect();
    await redis?.stop();
  }, 30_000);

  it('reads the depth of every queue by state, equal to what Redis holds', async () => {
    const truth: Record<string, number> = {};
    for (const type of jobTypes) {
      const counts = await queues[type].getJobCounts(...countedStates);
      for (const state of countedStates) truth[`${jobs[type].queue} ${state}`] = counts[state] ?? 0;
    }
    expect(truth).toMatchObject({
      'email waiting': 2,
      'email prioritized': 1,
      'email delayed': 1,
      'analytics waiting': 1,
    });
    let seen: Record<string, number> = {};
    const matches = () =>
      JSON.stringify(Object.entries(seen).sort()) === JSON.stringify(Object.entries(truth).sort());
    await eventually(
      async () => {
        const samples: Sample[] = await (prometheus as PrometheusProcess).query(
          'errand_queue_jobs{job="dashboard"}',
        );
        seen = Object.fromEntries(
          samples.map((s) => [`${s.metric.queue} ${s.metric.state}`, Number(s.value[1])]),
        );
        return matches() || undefined;
      },
      { timeoutMs: 20_000, intervalMs: 250, what: 'errand_queue_jobs equal to the queues' },
    ).catch(() => undefined); // the assertion below shows the difference
    expect(seen).toEqual(truth);
  }, 30_000);

  it('raises ErrandQueueNoWorkers for each queue with work, and no other alert', async () => {
    let active: ActiveAlert[] = [];
    await eventually(
      async () => {
        active = await alerts();
        const queuesAlerted = active
          .filter((alert) => alert.labels.alertname === 'ErrandQueueNoWorkers')
          .map((alert) => alert.labels.queue);
        return queuesAlerted.includes('email') && queuesAlerted.includes('analytics')
          ? true
          : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 250, what: 'the no-worker alert' },
    ).catch(() => undefined);
    const summary = active.map((alert) => ({
      name: alert.labels.alertname,
      queue: alert.labels.queue,
      severity: alert.labels.severity,
      pendingOrFiring: ['pending', 'firing'].includes(alert.state),
      summary: alert.annotations.summary,
    }));
    expect(summary.sort((a, b) => String(a.queue).localeCompare(String(b.queue)))).toEqual([
      {
        name: 'ErrandQueueNoWorkers',
        queue: 'analytics',
        severity: 'critical',
        pendingOrFiring: true,
        summary: 'No worker serves queue analytics (waiting: 1)',
      },
      {
        name: 'ErrandQueueNoWorkers',
        queue: 'email',
        severity: 'critical',
        pendingOrFiring: true,
        summary: 'No worker serves queue email (waiting: 3)',
      },
    ]);
  }, 30_000);

  it('evaluates every rule on the live series without an error', async () => {
    type Rule = { name: string; health: string; lastError?: string; lastEvaluation: string };
    const rules = await eventually(
      async () => {
        const { groups } = await (prometheus as PrometheusProcess).api<{
          groups: { rules: Rule[] }[];
        }>('/api/v1/rules');
        const all = groups.flatMap((group) => group.rules);
        // Prometheus reports a rule not yet evaluated at the zero time.
        return all.every((rule) => !rule.lastEvaluation.startsWith('0001')) ? all : undefined;
      },
      { timeoutMs: 20_000, what: 'every rule evaluated' },
    );
    expect(rules.length).toBeGreaterThanOrEqual(8);
    expect(
      rules.filter((rule) => rule.health !== 'ok').map((r) => `${r.name}: ${r.lastError}`),
    ).toEqual([]);
  }, 30_000);

  it('runs every query of the Grafana dashboard, and its queue variable lists every queue', async () => {
    const p = prometheus as PrometheusProcess;
    const queries = await dashboardQueries();
    expect(queries.length).toBeGreaterThanOrEqual(15);
    const failures: string[] = [];
    for (const query of queries) {
      const expr = fillIn(query);
      try {
        await p.query(expr);
      } catch (error) {
        failures.push(`${expr}\n  ${String(error)}`);
      }
    }
    expect(failures).toEqual([]);

    // Escaping survived JSON and PromQL: requests are grouped by status class ("2xx").
    const byClass = queries.find((q) => q.startsWith('sum by (status_class)')) as string;
    await eventually(
      async () => {
        const classes = (await p.query(fillIn(byClass))).map(
          (sample) => sample.metric.status_class,
        );
        return classes.includes('2xx') || undefined;
      },
      { timeoutMs: 10_000, what: 'requests by status class "2xx"' },
    );

    const values = await p.api<string[]>(
      `/api/v1/label/queue/values?${new URLSearchParams({ 'match[]': 'errand_queue_jobs' })}`,
    );
    expect(values.sort()).toEqual(jobTypes.map((type) => jobs[type].queue).sort());
  }, 30_000);

  it('answers the KEDA trigger of the Kubernetes manifests with the backlog, once for two dashboards', async () => {
    const queries = await kedaQueries('single-redis');
    expect(queries).toHaveLength(1);
    let backlog = 0;
    for (const type of jobTypes) {
      const counts = await queues[type].getJobCounts('waiting', 'prioritized', 'active');
      backlog += (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.active ?? 0);
    }
    expect(backlog).toBe(4); // email: 2 waiting, 1 prioritized; analytics: 1 waiting; no worker
    const { producer, dashboard } = stack as Stack;
    const hosts = { producer: new URL(producer.url).host, dashboard: new URL(dashboard.url).host };
    const env = { REDIS_URL: redis.url, QUEUE_PREFIX: PREFIX };
    const answer = await withTwoDashboards(env, hosts, async (p) => {
      // both dashboards scraped, each exporting the whole backlog: a plain sum counts it twice
      await eventually(
        async () => {
          const [all] = await p.query(
            'sum(errand_queue_jobs{state=~"waiting|prioritized|active"})',
          );
          return Number(all?.value[1]) === 2 * backlog || undefined;
        },
        { timeoutMs: 20_000, intervalMs: 250, what: 'the backlog exported by two dashboards' },
      );
      return p.query(queries[0] as string);
    });
    expect(answer.map((sample) => Number(sample.value[1]))).toEqual([backlog]);
  }, 60_000);

  // Last: it takes Redis away (and brings it back for the shutdown).
  it('raises ErrandRedisDown when Redis goes away', async () => {
    const redisDown = async () =>
      (await alerts()).filter((alert) => alert.labels.alertname === 'ErrandRedisDown');
    expect(await redisDown()).toEqual([]);
    await redis.kill();
    try {
      const raised = await eventually(async () => (await redisDown())[0], {
        timeoutMs: 20_000,
        intervalMs: 250,
        what: 'ErrandRedisDown',
      });
      expect(raised).toMatchObject({
        labels: { severity: 'critical', job: 'dashboard' },
        state: expect.stringMatching(/^(pending|firing)$/),
      });
      // the dashboard itself stays scrapeable and says why: Redis, not the dashboard
      const p = prometheus as PrometheusProcess;
      const [up] = await p.query('errand_redis_up');
      expect(up?.value[1]).toBe('0');
      expect((await p.query('up{job="dashboard"}'))[0]?.value[1]).toBe('1');
    } finally {
      await redis.restart();
    }
  }, 30_000);
});
