import {
  type AppSettings,
  appSettings,
  type Deployment,
  environmentOf,
  mounted,
  mounts,
  onObjectStore,
  service,
  services,
  shareNetwork,
} from './compose.model.ts';
import type { Rule } from './compose.rules.ts';
import { interpolate, parsePort } from './compose.testkit.ts';

type Store = NonNullable<AppSettings['storage']>;
type S3Store = Extract<Store, { kind: 's3' }>;

/** The apps that keep images: the producer stores uploads and serves outputs, workers the rest. */
const STORING_APPS = ['producer', 'worker'];
const MINIO = /^(quay\.io\/)?minio\/minio:/;
const MINIO_CLIENT = /^(quay\.io\/)?minio\/mc:/;

/** Host and port of an http(s) URL, the port filled in. */
function hostPort(url: string) {
  const parsed = new URL(url);
  const port = Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
  return { host: parsed.hostname, port };
}

/** The settings (by name, not value: they hold a secret) in which two stores differ. */
function differing(a: Store, b: Store): string[] {
  const fields = new Set([...Object.keys(a), ...Object.keys(b)]);
  const value = (store: Store, field: string) =>
    JSON.stringify((store as unknown as Record<string, unknown>)[field]);
  return [...fields].filter((field) => value(a, field) !== value(b, field));
}

/** Local files: the folder is on one named volume, mounted alike into both apps. */
function* sharedVolume(d: Deployment, stores: [string, Store][]) {
  const volumes = new Set<string>();
  for (const [app, store] of stores) {
    if (store.kind !== 'local') {
      yield `${app}: images in an object store without compose.s3.yml`;
      continue;
    }
    const volume = mounts(d, app).find(
      (m) => m.named && (store.dir === m.target || store.dir.startsWith(`${m.target}/`)),
    );
    if (!volume) yield `${app}: ${store.dir} is on no named volume`;
    else volumes.add(`${volume.source} at ${volume.target}`);
  }
  if (volumes.size > 1) yield `producer and worker keep images apart: ${[...volumes].join(', ')}`;
}

/**
 * A store that is a service of the files: the apps share a network with it, and callers are
 * given presigned URLs of a public endpoint that the service publishes on this host.
 */
function* storeService(d: Deployment, store: S3Store) {
  if (!store.endpoint) return; // AWS S3: the SDK's own endpoint
  const { host, port } = hostPort(store.endpoint);
  if (!d.compose.services?.[host]) {
    if (!host.includes('.')) yield `S3_ENDPOINT ${store.endpoint}: there is no service ${host}`;
    return;
  }
  for (const app of STORING_APPS)
    if (!shareNetwork(d, app, host)) yield `${app} cannot reach ${host}`;
  if (!store.publicEndpoint) {
    yield `no S3_PUBLIC_ENDPOINT: callers get URLs of ${host}, a name only compose resolves`;
    return;
  }
  const published = hostPort(store.publicEndpoint);
  const ports = (service(d, host).ports ?? []).map((spec) =>
    parsePort(interpolate(spec, d.filled)),
  );
  if (!ports.some((p) => Number(p.published) === published.port && p.target === port))
    yield `S3_PUBLIC_ENDPOINT ${store.publicEndpoint}: ${host} publishes no port ${published.port} to ${port}`;
}

/**
 * compose.minio.yml: MinIO healthy, with its data on a volume of its own; a one-shot job
 * makes the apps' bucket and user (the same STORAGE_URL and keys) once it is; the apps start
 * only after that job has succeeded.
 */
function* minio(d: Deployment, store: S3Store) {
  const [server] = services(d).filter(([, s]) => MINIO.test(s.image ?? ''));
  const [setup] = services(d).filter(([, s]) => MINIO_CLIENT.test(s.image ?? ''));
  if (!server || !setup) {
    yield 'no MinIO, or no job that makes its bucket';
    return;
  }
  const [minioName, minioService] = server;
  const [setupName, setupService] = setup;
  if (!minioService.healthcheck?.test?.length) yield `${minioName}: no health check`;
  const data = mounts(d, minioName).find((m) => m.target === '/data');
  if (!data?.named || !(data.source in (d.compose.volumes ?? {})))
    yield `${minioName}: /data is no named volume`;
  if (setupService.depends_on?.[minioName]?.condition !== 'service_healthy')
    yield `${setupName}: starts without waiting for a healthy ${minioName}`;
  for (const app of STORING_APPS) {
    if (service(d, app).depends_on?.[setupName]?.condition !== 'service_completed_successfully')
      yield `${app}: starts before ${setupName} has made the bucket`;
  }
  const env = environmentOf(d, setupName);
  const bucket = /^s3:\/\/([^/]+)/.exec(env.STORAGE_URL ?? '')?.[1];
  if (bucket !== store.bucket)
    yield `${setupName} makes bucket ${bucket}, the apps use ${store.bucket}`;
  const { accessKeyId, secretAccessKey } = store.credentials ?? {};
  if (env.S3_ACCESS_KEY_ID !== accessKeyId || env.S3_SECRET_ACCESS_KEY !== secretAccessKey)
    yield `${setupName} makes another user than the apps log in as`;
  const admin = env.MC_HOST_store ? new URL(env.MC_HOST_store) : undefined;
  if (`${admin?.hostname}:${admin?.port}` !== `${minioName}:${hostPort(store.endpoint ?? '').port}`)
    yield `${setupName}: MC_HOST_store is not ${minioName} at the apps' endpoint`;
  yield* mounted(d, setupName, 'deploy/minio', '/setup');
  if (setupService.entrypoint?.join(' ') !== 'sh /setup/setup.sh')
    yield `${setupName}: does not run deploy/minio/setup.sh`;
}

export const storageRules = {
  storage: {
    title:
      'images: producer and worker keep them in one place, the image-storage volume at the same STORAGE_DIR, or (compose.s3.yml) the same bucket of a store they reach',
    *check(d) {
      const { ok, errors } = appSettings(d);
      yield* errors;
      const stores = ok.flatMap(([app, { storage }]) =>
        STORING_APPS.includes(app) && storage ? [[app, storage] as [string, Store]] : [],
      );
      const [first, second] = stores.map(([, store]) => store);
      if (first && second) {
        const differ = differing(first, second);
        if (differ.length > 0)
          yield `producer and worker differ in their store's ${differ.join(', ')}`;
      }
      if (!onObjectStore(d)) {
        yield* sharedVolume(d, stores);
        return;
      }
      const store = stores[0]?.[1];
      for (const [app, { kind }] of stores)
        if (kind !== 's3') yield `${app}: images in a folder, not in the object store`;
      if (store?.kind !== 's3') return;
      yield* storeService(d, store);
      if (d.variant === 'minio') yield* minio(d, store);
    },
  },
} satisfies Record<string, Rule>;
