import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type Manifests, problems, type Rule, rules } from './kubernetes.rules.ts';
import {
  build,
  idOf,
  type K8sObject,
  overlays,
  ROOT,
  validateStrict,
} from './manifests.testkit.ts';
import { placeholderSecrets } from './secrets.testkit.ts';
import {
  APP_SECRET,
  appWorkloads,
  containerEnv,
  find,
  imageEnv,
  settingsOf,
} from './workloads.testkit.ts';

/**
 * Every overlay of deploy/kubernetes/overlays, built by the real kustomize: each object valid
 * for its kind with no unknown field, the house rules of `kubernetes.rules.ts` kept by every
 * workload, the copies of deploy/ files (alert rules, Grafana dashboard, Redis config) equal to
 * their originals, and the KEDA ScaledObject shaped so that a blind Prometheus cannot scale
 * the workers to nothing.
 */

const OVERLAYS = await overlays();
const read = (path: string) => readFile(join(ROOT, path), 'utf8');
/** The files deploy/kubernetes carries copies of, byte for byte: ConfigMap → key → original. */
const COPIES: Record<string, Record<string, string>> = {
  'errand-grafana-dashboard': { 'errand.json': 'deploy/grafana/dashboards/errand.json' },
  'errand-redis': {
    'redis.conf': 'deploy/redis/redis.conf',
    'users.acl': 'deploy/redis/users.acl',
    'entrypoint.sh': 'deploy/redis/entrypoint.sh',
  },
};
/** The overlays that run a Redis of their own. */
const WITH_REDIS = ['single-redis'];

interface ScaledObjectSpec {
  scaleTargetRef?: { name?: string; kind?: string };
  minReplicaCount?: number;
  fallback?: { failureThreshold?: number; replicas?: number };
  triggers?: { type?: string; metricType?: string; metadata?: Record<string, string> }[];
}

it('finds the overlays to build', () => {
  expect(OVERLAYS).toEqual(expect.arrayContaining(['sentinel', 'single-redis']));
});

describe.each(OVERLAYS)('overlay %s', (overlay) => {
  let m: Manifests;
  let secretKeys: string[];
  beforeAll(async () => {
    const { keys, secrets } = await placeholderSecrets(overlay);
    secretKeys = keys;
    m = { overlay, objects: await build(overlay), image: await imageEnv(), secrets };
  });

  it('builds, every object in the namespace errand', () => {
    expect(m.objects.length).toBeGreaterThan(10);
    const elsewhere = m.objects.filter((o) => o.metadata.namespace !== 'errand').map(idOf);
    expect(elsewhere).toEqual([]);
  });

  it('holds only objects valid for their kind, with no unknown field', async () => {
    const failures: string[] = [];
    for (const object of m.objects) {
      await validateStrict(object).catch((error: Error) => failures.push(error.message));
      if (!object.metadata?.name) failures.push(`${object.kind} without a name`);
    }
    expect(failures).toEqual([]);
  });

  for (const [name, { title }] of Object.entries(rules) as [keyof typeof rules, Rule][]) {
    it(title, () => {
      expect(problems(m, name)).toEqual([]);
    });
  }

  it('reads the Secret’s keys from docs/kubernetes.md, and the producer needs them', () => {
    expect(secretKeys).toContain('API_KEYS');
    // without the Secret, production refuses an open API: the settings rule is not vacuous
    const producer = appWorkloads(m.objects).find((w) => w.component === 'producer');
    const container = producer?.pod.containers[0];
    expect(container?.envFrom?.some((s) => s.secretRef?.name === APP_SECRET)).toBe(true);
    const bare = containerEnv(m.objects, container ?? { name: '' }, m.image.producer, {});
    expect(settingsOf('producer', bare)).toMatch(/API_KEYS: required when NODE_ENV=production/);
  });

  it('carries deploy/prometheus/alerts.yml as the PrometheusRule’s spec, unchanged', async () => {
    const rule = find(m.objects, 'PrometheusRule', 'errand');
    expect(rule?.spec).toEqual(parse(await read('deploy/prometheus/alerts.yml')));
  });

  it('carries the Grafana dashboard and (with its Redis) the Redis files byte for byte', async () => {
    const wanted = { ...COPIES };
    if (!WITH_REDIS.includes(overlay)) delete wanted['errand-redis'];
    for (const [map, files] of Object.entries(wanted)) {
      const data = (find(m.objects, 'ConfigMap', map)?.data ?? {}) as Record<string, string>;
      expect(Object.keys(data).sort(), map).toEqual(Object.keys(files).sort());
      for (const [key, path] of Object.entries(files)) {
        expect(data[key] === (await read(path)), `${map} ${key} equals ${path}`).toBe(true);
      }
    }
    expect(find(m.objects, 'StatefulSet', 'errand-redis') !== undefined).toBe(
      WITH_REDIS.includes(overlay),
    );
  });

  it('names the scrape jobs producer, dashboard and worker, as the alert rules expect', () => {
    const monitors = m.objects.filter((o) => /^(Service|Pod)Monitor$/.test(o.kind));
    const jobs = monitors.flatMap((monitor) => {
      const { jobLabel, selector } = monitor.spec as { jobLabel?: string; selector: object };
      const targets = m.objects.filter(
        (o) => o.kind === (monitor.kind === 'ServiceMonitor' ? 'Service' : 'Pod'),
      );
      const selected = targets.filter((t) =>
        Object.entries((selector as { matchLabels?: object }).matchLabels ?? {}).every(
          ([k, v]) => t.metadata.labels?.[k] === v,
        ),
      );
      return selected.map((t) => (jobLabel ? t.metadata.labels?.[jobLabel] : t.metadata.name));
    });
    expect(jobs.sort()).toEqual(['dashboard', 'producer', 'worker']);
  });

  it('scales the workers with KEDA on the backlog, never to zero and never blind', () => {
    const scaled = m.objects.filter((o) => o.kind === 'ScaledObject');
    expect(scaled.map(idOf)).toEqual(['ScaledObject errand-worker']);
    const spec = (scaled[0] as K8sObject).spec as ScaledObjectSpec;
    const target = spec.scaleTargetRef ?? {};
    expect(target.kind ?? 'Deployment').toBe('Deployment');
    expect(find(m.objects, 'Deployment', target.name ?? '')?.metadata.name).toBe('errand-worker');
    // only workers promote delayed jobs, retries and schedules: at zero they would wait for ever
    expect(spec.minReplicaCount).toBeGreaterThanOrEqual(1);
    expect(spec.fallback?.replicas).toBeGreaterThanOrEqual(1);
    expect(spec.fallback?.failureThreshold).toBeGreaterThanOrEqual(1);
    expect(spec.triggers?.length).toBeGreaterThanOrEqual(1);
    for (const trigger of spec.triggers ?? []) {
      expect(trigger).toMatchObject({ type: 'prometheus', metricType: 'AverageValue' });
      const { ignoreNullValues, query = '' } = trigger.metadata ?? {};
      expect(ignoreNullValues).toBe('false'); // no series is an error (then fallback), not 0
      expect(query).toContain('max by (queue'); // every dashboard replica exports the gauge
      expect(query).not.toMatch(/or\s+vector\(/); // that would hide a blind Prometheus
    }
  });
});
