import { dirname } from 'node:path';
import type { RedisLocation } from '@errand/redis';
import type { StorageSettings } from '@errand/storage';
import { loadEnv as dashboardEnv } from '../../apps/dashboard/src/env.ts';
import { loadEnv as producerEnv } from '../../apps/producer/src/env.ts';
import { loadEnv as workerEnv } from '../../apps/worker/src/env.ts';
import {
  type Compose,
  type DeployFiles,
  dockerfileStages,
  effectiveStage,
  filledEnv,
  interpolate,
  mergeCompose,
  parseCompose,
  parseDotenv,
  parseMount,
  type Service,
  type Stage,
} from './compose.testkit.ts';

/**
 * The compose deployment as the rules of `compose.rules.ts` read it: the files parsed, .env
 * filled in as .env.example says, and each app's settings in its container read through the
 * app's own config schema.
 */

/** What the deployment needs to know of an app, read through the app's own config schema. */
export interface AppSettings {
  host: string;
  port: number;
  shutdownMs: number;
  /** Where the app writes: must be on a named volume. */
  writes: string[];
  /** Where it finds Redis: REDIS_URL, or the sentinels. */
  redis: RedisLocation;
  /** Where it keeps images (producer and worker): a folder, or a bucket of an object store. */
  storage?: StorageSettings['store'];
}
export type Env = Record<string, string | undefined>;
/** The folder local storage writes; none for an object store. */
const storageWrites = ({ store }: StorageSettings) => (store.kind === 'local' ? [store.dir] : []);
export const APPS: Record<string, (env: Env) => AppSettings> = {
  producer: (env) => {
    const e = producerEnv(env);
    return {
      host: e.PRODUCER_HOST,
      port: e.PRODUCER_PORT,
      shutdownMs: e.SHUTDOWN_TIMEOUT_MS,
      writes: storageWrites(e.storage),
      redis: e.redis,
      storage: e.storage.store,
    };
  },
  worker: (env) => {
    const e = workerEnv(env);
    const writes = storageWrites(e.storage);
    const { WORKER_HOST: host, WORKER_PORT: port, SHUTDOWN_TIMEOUT_MS: shutdownMs, redis } = e;
    return { host, port, shutdownMs, writes, redis, storage: e.storage.store };
  },
  dashboard: (env) => {
    const e = dashboardEnv(env);
    const writes = [dirname(e.DASHBOARD_USERS_FILE)];
    return {
      host: e.DASHBOARD_HOST,
      port: e.DASHBOARD_PORT,
      shutdownMs: e.SHUTDOWN_TIMEOUT_MS,
      writes,
      redis: e.redis,
    };
  },
};
export const APP_NAMES = Object.keys(APPS);
export const settingsFor = (app: string, env: Env) => (APPS[app] as (env: Env) => AppSettings)(env);

/** After SHUTDOWN_TIMEOUT_MS an app still closes its connections; the worker's hard stop is 5 s on. */
export const CLOSE_MARGIN_MS = 5_000;
/** `name:1.2.3…`, `name:v1.2.3…` or MinIO's `name:RELEASE.2025-09-07T16-13-09Z…`, a digest allowed. */
export const PINNED =
  /^[a-z0-9./_-]+:(v?\d+\.\d+\.\d+|RELEASE\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ)[\w.-]*(@sha256:[0-9a-f]{64})?$/;
export const SECRET = /PASSWORD|SECRET|TOKEN|API_KEYS/;
/** `${VAR}` or `${VAR:?message}`: from .env, with no default to fall back on. */
export const FROM_ENV = /^\$\{[A-Za-z_][A-Za-z0-9_]*(:?\?[^}]*)?\}$/;
/** What must stay out of the build context, and what the image needs. */
export const LEFT_OUT = [
  '.env',
  '.env.production',
  'config/dashboard-users.yaml',
  'data/redis/appendonlydir/appendonly.aof.1.incr.aof',
  'node_modules/zod/package.json',
  'libs/queues/node_modules/x/index.js',
  'test-artifacts/board.png',
  'bench/results/2026-11-25.json',
  '.git/HEAD',
  'apps/worker/src/runtime.crash.test.ts',
];
export const BUILT_IN = [
  'package.json',
  'package-lock.json',
  'apps/worker/src/main.ts',
  'apps/worker/templates/welcome.html.hbs',
  'apps/dashboard/public/board.js',
  'config/schedules.yaml',
  'libs/analytics/src/ingest.lua',
];

export interface PrometheusConfig {
  rule_files?: string[];
  scrape_configs: {
    static_configs?: { targets: string[] }[];
    dns_sd_configs?: { names: string[]; port: number }[];
  }[];
}

/**
 * docker-compose.yml alone (one Redis, images in a volume), or with files laid over it: the
 * Sentinel group of deploy/compose.sentinel.yml; images on an S3-compatible store named by
 * .env (deploy/compose.s3.yml); the same on the MinIO of deploy/compose.minio.yml.
 */
export type Variant = 'single' | 'sentinel' | 's3' | 'minio';
/** The files each variant lays over docker-compose.yml, in order. */
export const LAID_OVER: Record<Variant, (keyof DeployFiles)[]> = {
  single: [],
  sentinel: ['composeSentinel'],
  s3: ['composeS3'],
  minio: ['composeS3', 'composeMinio'],
};
/** The variants whose images are in an object store rather than the image-storage volume. */
export const onObjectStore = (d: Deployment) => LAID_OVER[d.variant].includes('composeS3');

export interface Deployment {
  files: DeployFiles;
  variant: Variant;
  /** docker-compose.yml, with the Sentinel file laid over it in that variant. */
  compose: Compose;
  example: Map<string, string>;
  /** .env.example filled in as its comments say (and as `load` was told): what an operator runs with. */
  filled: Map<string, string>;
  stages: Stage[];
}

/** The deployment of `variant`, with .env as .env.example says but for the values of `env`. */
export function load(
  files: DeployFiles,
  variant: Variant = 'single',
  env: Record<string, string> = {},
): Deployment {
  const example = parseDotenv(files.envExample);
  const compose = LAID_OVER[variant].reduce(
    (merged, file) => mergeCompose(merged, parseCompose(files[file])),
    parseCompose(files.compose),
  );
  const stages = dockerfileStages(files.dockerfile);
  const filled = new Map([...filledEnv(example), ...Object.entries(env)]);
  return { files, variant, compose, example, filled, stages };
}

export const services = (d: Deployment) => Object.entries(d.compose.services ?? {});
export const service = (d: Deployment, name: string) => d.compose.services?.[name] ?? {};
export const mounts = (d: Deployment, name: string) =>
  (service(d, name).volumes ?? []).map(parseMount);
export const networksOf = (d: Deployment, name: string) => service(d, name).networks ?? ['default'];
export const shareNetwork = (d: Deployment, a: string, b: string) =>
  networksOf(d, a).some((network) => networksOf(d, b).includes(network));

/** The services that run Redis (its image): the data nodes and the sentinels. */
export const redisServices = (d: Deployment) =>
  services(d).filter(([, s]) => /^redis:/.test(s.image ?? ''));
/** A sentinel: deploy/redis/entrypoint.sh run as `entrypoint.sh sentinel`. */
export const isSentinel = (s: Service) => s.command?.[0] === 'sentinel';
export const dataNodes = (d: Deployment) => redisServices(d).filter(([, s]) => !isSentinel(s));
export const sentinelServices = (d: Deployment) =>
  redisServices(d).filter(([, s]) => isSentinel(s));
/** A service's environment as compose gives it, with .env filled in as .env.example says. */
export const environmentOf = (d: Deployment, name: string): Record<string, string> =>
  Object.fromEntries(
    Object.entries(service(d, name).environment ?? {}).map(([key, value]) => [
      key,
      interpolate(String(value), d.filled),
    ]),
  );

/** An app's settings in its container: the Dockerfile's ENV, then the compose environment. */
export function settingsOf(d: Deployment, app: string): AppSettings | string {
  const { build } = service(d, app);
  try {
    return settingsFor(app, {
      ...effectiveStage(d.stages, build?.target).env,
      ...environmentOf(d, app),
    });
  } catch (error) {
    return `${app}: ${(error as Error).message}`;
  }
}

/** The apps whose settings read, and why the others' do not: a problem of every rule using them. */
export function appSettings(d: Deployment) {
  const read = APP_NAMES.map((app) => [app, settingsOf(d, app)] as const);
  return {
    ok: read.filter((pair): pair is [string, AppSettings] => typeof pair[1] === 'object'),
    errors: read.flatMap(([, settings]) => (typeof settings === 'string' ? [settings] : [])),
  };
}

/** `from` shares a network with the host of `target`, which listens on the target's port. */
export function* reach(d: Deployment, from: string, target: string) {
  const [host = '', port] = target.replace(/^https?:\/\//, '').split(':');
  if (!d.compose.services?.[host] || !shareNetwork(d, from, host)) {
    yield `${from} cannot reach ${target}`;
    return;
  }
  const settings = APP_NAMES.includes(host) ? settingsOf(d, host) : undefined;
  if (typeof settings === 'object' && settings.port !== Number(port))
    yield `${target}: ${host} listens on ${settings.port}`;
}

export function* mounted(d: Deployment, name: string, file: string, at: string) {
  if (!mounts(d, name).some((m) => m.source === `./${file}` && m.target === at && m.readOnly))
    yield `${name}: ${file} is not mounted read-only at ${at}`;
}
