import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { loadEnv as dashboardEnv } from '../../../apps/dashboard/src/env.ts';
import { loadEnv as producerEnv } from '../../../apps/producer/src/env.ts';
import { loadEnv as workerEnv } from '../../../apps/worker/src/env.ts';
import { dockerfileStages, effectiveStage } from '../../test/compose.testkit.ts';
import { idOf, type K8sObject, ROOT } from './manifests.testkit.ts';

/**
 * The built objects as the house rules read them: the pods of each workload, the labels that
 * select them, and the environment each app container starts with (Dockerfile ENV, then
 * `envFrom`, then `env`), read through the app's own config schema.
 */

export const APPS = ['producer', 'worker', 'dashboard'] as const;
export type App = (typeof APPS)[number];
export const COMPONENT = 'app.kubernetes.io/component';
/** The Secret the app pods read their secrets from; never in the manifests. */
export const APP_SECRET = 'errand-secrets';
/** After SHUTDOWN_TIMEOUT_MS an app still closes its connections; the worker's hard stop is 5 s on. */
export const CLOSE_MARGIN_S = 5;
/** Env names that hold secrets: only from a Secret, never a literal. */
export const SECRET_NAME = /PASSWORD|SECRET|KEY|TOKEN/;

export interface Workload {
  object: K8sObject;
  pod: IPodSpec;
  labels: Record<string, string>;
  component: string | undefined;
}

/** Every Deployment and StatefulSet, with its pod template. */
export const workloads = (objects: K8sObject[]): Workload[] =>
  objects
    .filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')
    .map((object) => {
      const template = (
        object.spec as { template: { metadata?: K8sObject['metadata']; spec: IPodSpec } }
      ).template;
      const labels = template.metadata?.labels ?? {};
      return { object, pod: template.spec, labels, component: labels[COMPONENT] };
    });

/** The workloads of Errand's apps: component producer, worker or dashboard. */
export const appWorkloads = (objects: K8sObject[]) =>
  workloads(objects).filter((w) => (APPS as readonly string[]).includes(w.component ?? ''));

export const containersOf = (pod: IPodSpec): IContainer[] => [
  ...(pod.initContainers ?? []),
  ...pod.containers,
];

interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** Whether a label selector selects these labels (an empty selector selects everything). */
export function selects(selector: Selector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpression = (selector.matchExpressions ?? []).every(({ key, operator, values }) => {
    const value = labels[key];
    if (operator === 'Exists') return value !== undefined;
    if (operator === 'DoesNotExist') return value === undefined;
    const listed = value !== undefined && (values ?? []).includes(value);
    return operator === 'In' ? listed : !listed;
  });
  return byLabel && byExpression;
}

export const find = (objects: K8sObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);

/** The seconds a preStop hook holds the pod: `sleep N` (exec or the sleep action); 0 without one. */
export function preStopSeconds(container: IContainer): number | string {
  const hook = container.lifecycle?.preStop;
  if (!hook) return 0;
  if (hook.sleep) return hook.sleep.seconds;
  const [command, seconds, ...rest] = hook.exec?.command ?? [];
  if (command === 'sleep' && rest.length === 0 && /^\d+$/.test(seconds ?? ''))
    return Number(seconds);
  return `${container.name}: a preStop hook whose length is unknown`;
}

/** `docker build --target <app>`'s ENV: NODE_ENV=production, <APP>_HOST=0.0.0.0 … */
export async function imageEnv(): Promise<Record<App, Record<string, string>>> {
  const stages = dockerfileStages(await readFile(join(ROOT, 'Dockerfile'), 'utf8'));
  return Object.fromEntries(APPS.map((app) => [app, effectiveStage(stages, app).env])) as Record<
    App,
    Record<string, string>
  >;
}

/**
 * A container's environment as the kubelet gives it: the image's ENV, then each `envFrom`
 * source in order, then `env` (with `$(NAME)` references expanded). A Secret's keys are
 * `secrets[name]` (placeholders: the manifests never hold a Secret).
 */
export function containerEnv(
  objects: K8sObject[],
  container: IContainer,
  image: Record<string, string>,
  secrets: Record<string, Record<string, string>>,
): Record<string, string> {
  const configMap = (name: string) =>
    (find(objects, 'ConfigMap', name)?.data ?? {}) as Record<string, string>;
  const env: Record<string, string> = { ...image };
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) Object.assign(env, configMap(source.configMapRef.name ?? ''));
    if (source.secretRef) Object.assign(env, secrets[source.secretRef.name ?? ''] ?? {});
  }
  for (const { name, value, valueFrom } of container.env ?? []) {
    if (value !== undefined)
      env[name] = value.replace(/\$\(([A-Za-z_]\w*)\)/g, (m, v) => env[v] ?? m);
    else if (valueFrom?.configMapKeyRef) {
      const { name: map = '', key } = valueFrom.configMapKeyRef;
      const found = configMap(map)[key];
      if (found !== undefined) env[name] = found;
    } else if (valueFrom?.secretKeyRef) {
      const { name: secret = '', key } = valueFrom.secretKeyRef;
      const found = secrets[secret]?.[key];
      if (found !== undefined) env[name] = found;
    } else env[name] = 'from-the-pod';
  }
  return env;
}

/** What the rules need of an app's settings, read with the app's own `loadEnv`. */
export interface AppSettings {
  port: number;
  shutdownMs: number;
}
const LOADERS: Record<App, (env: Record<string, string>) => AppSettings> = {
  producer: (env) => {
    const e = producerEnv(env);
    return { port: e.PRODUCER_PORT, shutdownMs: e.SHUTDOWN_TIMEOUT_MS };
  },
  worker: (env) => {
    const e = workerEnv(env);
    return { port: e.WORKER_PORT, shutdownMs: e.SHUTDOWN_TIMEOUT_MS };
  },
  dashboard: (env) => {
    const e = dashboardEnv(env);
    return { port: e.DASHBOARD_PORT, shutdownMs: e.SHUTDOWN_TIMEOUT_MS };
  },
};

/** The app's settings, or why its loader refuses the environment. */
export function settingsOf(app: App, env: Record<string, string>): AppSettings | string {
  try {
    return LOADERS[app](env);
  } catch (error) {
    return `${app}: ${(error as Error).message}`;
  }
}

/** Where a failure is: `Deployment errand-worker/worker`. */
export const where = (w: Workload, container?: IContainer) =>
  container ? `${idOf(w.object)}/${container.name}` : idOf(w.object);
