/**
 * `npm run kubernetes:sync`: rewrite the Kubernetes copies of files that live elsewhere in the
 * repo, so each has one source: Redis's config, ACL and entrypoint (deploy/redis/) as the
 * ConfigMap the Redis pod mounts, the alert rules (deploy/prometheus/alerts.yml) as a
 * PrometheusRule, the Grafana dashboard as a ConfigMap for Grafana's sidecar.
 * deploy/kubernetes/test checks that the copies match; this makes them match.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';

const root = join(import.meta.dirname, '..');
const at = (path: string) => join(root, path);
const read = (path: string) => readFileSync(at(path), 'utf8');
const SYNCED = 'npm run kubernetes:sync writes this file; deploy/kubernetes/test checks it';

function write(path: string, about: string, object: unknown) {
  const text = stringify(object, { lineWidth: 0, blockQuote: 'literal' });
  writeFileSync(at(path), `# ${about}\n# ${SYNCED}.\n${text}`);
}

const files = (paths: string[]) =>
  Object.fromEntries(paths.map((path) => [path.split('/').pop() as string, read(path)]));

export const COPIES = {
  redis: 'deploy/kubernetes/components/redis/redis-files.yaml',
  rules: 'deploy/kubernetes/components/monitoring/prometheus-rule.yaml',
  dashboard: 'deploy/kubernetes/components/monitoring/grafana-dashboard.yaml',
} as const;

export const REDIS_FILES = [
  'deploy/redis/redis.conf',
  'deploy/redis/users.acl',
  'deploy/redis/entrypoint.sh',
];
export const ALERTS = 'deploy/prometheus/alerts.yml';
export const DASHBOARD = 'deploy/grafana/dashboards/errand.json';

if (import.meta.main) {
  write(COPIES.redis, 'deploy/redis/ as the Redis pod mounts it, byte for byte', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'errand-redis' },
    data: files(REDIS_FILES),
  });
  write(COPIES.rules, `${ALERTS} as a Prometheus Operator rule, the same groups and rules`, {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'errand' },
    spec: parse(read(ALERTS)),
  });
  write(COPIES.dashboard, `${DASHBOARD} for Grafana's dashboard sidecar, byte for byte`, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'errand-grafana-dashboard', labels: { grafana_dashboard: '1' } },
    data: files([DASHBOARD]),
  });
  console.log(`written: ${Object.values(COPIES).join(', ')}`);
}
