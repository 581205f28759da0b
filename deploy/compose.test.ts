import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BREAKS, type Break, variantOf } from './test/compose.breaks.ts';
import { type Deployment, load, settingsOf } from './test/compose.model.ts';
import { type Rule, rules } from './test/compose.rules.ts';
import {
  composeCommand,
  type DeployFiles,
  MINIO_COMPOSE_FILE,
  ROOT,
  readDeployFiles,
  run,
  S3_COMPOSE_FILE,
  SENTINEL_COMPOSE_FILE,
} from './test/compose.testkit.ts';

/** A service as `docker compose config` prints it, for what the tests read. */
interface ResolvedService {
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
}

/** .env for deploy/compose.s3.yml alone, a bucket on AWS S3: no endpoint, virtual-hosted style. */
const AWS_ENV = {
  STORAGE_URL: 's3://acme-errand-images/production',
  S3_ENDPOINT: '',
  S3_PUBLIC_ENDPOINT: '',
  S3_REGION: 'eu-west-1',
  S3_FORCE_PATH_STYLE: 'false',
  S3_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
};

/**
 * The compose deployment, checked without a Docker engine: each rule (`test/compose.rules.ts`)
 * reads the files as written (docker-compose.yml, Dockerfile, .env.example, .dockerignore, and
 * the Prometheus and Grafana files they mount) and lists what breaks it, in each variant: the
 * main file alone, and with the files of deploy/ laid over it (Sentinel; images on S3, on MinIO
 * or elsewhere). Every rule has cases (test/compose.breaks.ts) that break a file on purpose and
 * must be caught, so no rule passes by checking nothing. Last, docker compose itself validates
 * the files.
 */
let files: DeployFiles;
let deployment: Deployment;
let sentinelDeployment: Deployment;
let minioDeployment: Deployment;
let awsDeployment: Deployment;
beforeAll(async () => {
  files = await readDeployFiles();
  deployment = load(files);
  sentinelDeployment = load(files, 'sentinel');
  minioDeployment = load(files, 'minio');
  awsDeployment = load(files, 's3', AWS_ENV);
});

describe('the compose deployment (docker-compose.yml, Dockerfile, .env.example, .dockerignore)', () => {
  for (const { title, check } of Object.values(rules) as Rule[]) {
    it(title, () => expect([...check(deployment)]).toEqual([]));
    it(`with ${SENTINEL_COMPOSE_FILE}: ${title}`, () =>
      expect([...check(sentinelDeployment)]).toEqual([]));
    it(`with ${S3_COMPOSE_FILE} and ${MINIO_COMPOSE_FILE}: ${title}`, () =>
      expect([...check(minioDeployment)]).toEqual([]));
    it(`with ${S3_COMPOSE_FILE} and a bucket on AWS S3: ${title}`, () =>
      expect([...check(awsDeployment)]).toEqual([]));
  }

  const named = (b: Break) => {
    const change = `${JSON.stringify(b[2])} → ${JSON.stringify(b[3])}`;
    const short = change.length > 90 ? `${change.slice(0, 89)}…` : change;
    return [`${b[0]} catches ${b[1]}: ${short}`, b] as const;
  };
  it.each(BREAKS.map(named))('%s', (_title, [rule, file, from, to, variant]) => {
    expect(files[file], `"${from}" is no longer in ${file}: update this case`).toContain(from);
    const broken = load(
      { ...files, [file]: files[file].replaceAll(from, to) },
      variant ?? variantOf(file),
    );
    expect([...(rules[rule] as Rule).check(broken)]).not.toEqual([]);
  });

  it(`with ${S3_COMPOSE_FILE} alone and the MinIO settings of .env.example, storage finds no minio`, () => {
    expect([...rules.storage.check(load(files, 's3'))]).toEqual([
      'S3_ENDPOINT http://minio:9000: there is no service minio',
    ]);
  });

  it('gives producer and worker the same store: the volume, the MinIO bucket, the AWS bucket', () => {
    const storeOf = (d: Deployment, app: string) => {
      const settings = settingsOf(d, app);
      return typeof settings === 'string' ? settings : settings.storage;
    };
    for (const d of [deployment, sentinelDeployment, minioDeployment, awsDeployment])
      expect(storeOf(d, 'producer')).toEqual(storeOf(d, 'worker'));
    expect(storeOf(deployment, 'producer')).toEqual({
      kind: 'local',
      dir: '/var/lib/errand/storage',
    });
    expect(storeOf(minioDeployment, 'producer')).toMatchObject({
      kind: 's3',
      bucket: 'errand',
      prefix: 'images/',
      endpoint: 'http://minio:9000',
      publicEndpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      credentials: { accessKeyId: 'errand' },
    });
    expect(storeOf(awsDeployment, 'worker')).toMatchObject({
      kind: 's3',
      bucket: 'acme-errand-images',
      prefix: 'production/',
      endpoint: undefined,
      publicEndpoint: undefined,
      region: 'eu-west-1',
      forcePathStyle: false,
    });
  });

  it('has a break for every rule', () => {
    const broken = new Set<string>(BREAKS.map(([rule]) => rule));
    expect(Object.keys(rules).filter((rule) => !broken.has(rule))).toEqual([]);
  });
});

describe('docker compose on the file (no engine needed)', () => {
  let compose: Promise<string[]> | undefined;
  let dir: string | undefined;
  /** .env as an operator writes it from .env.example. */
  let filled = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'errand-compose-'));
    filled = join(dir, '.env');
    const lines = [...deployment.filled].map(([key, value]) => `${key}='${value}'`);
    await writeFile(filled, `${lines.join('\n')}\n`);
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Each test fails by itself, saying how to install it, where there is no docker compose. */
  const configOf = async (composeFiles: string[], envFile: string, ...args: string[]) => {
    compose ??= composeCommand();
    const [binary = '', ...rest] = await compose;
    const fileArgs = composeFiles.flatMap((file) => ['-f', join(ROOT, file)]);
    return run(binary, [...rest, '--env-file', envFile, ...fileArgs, 'config', ...args]);
  };
  const config = (envFile: string, ...args: string[]) =>
    configOf(['docker-compose.yml'], envFile, ...args);
  const sentinelConfig = (envFile: string, ...args: string[]) =>
    configOf(['docker-compose.yml', SENTINEL_COMPOSE_FILE], envFile, ...args);
  const s3Config = (envFile: string, ...args: string[]) =>
    configOf(['docker-compose.yml', S3_COMPOSE_FILE], envFile, ...args);
  const minioConfig = (envFile: string, ...args: string[]) =>
    configOf(['docker-compose.yml', S3_COMPOSE_FILE, MINIO_COMPOSE_FILE], envFile, ...args);
  /** An .env file of the filled-in values with `changes` made; its path. */
  const envWith = async (name: string, changes: Record<string, string>) => {
    const file = join(dir ?? '', name);
    const values = new Map([...deployment.filled, ...Object.entries(changes)]);
    await writeFile(file, [...values].map(([key, value]) => `${key}='${value}'\n`).join(''));
    return file;
  };
  /** The services as docker compose resolves them (files merged, .env interpolated). */
  const resolved = async (answer: Promise<{ code: number | null; output: string }>) => {
    const { code, output } = await answer;
    expect(code, output).toBe(0);
    return (parse(output) as { services: Record<string, ResolvedService> }).services;
  };

  it('accepts the file with .env filled in as .env.example says', async () => {
    expect(await config(filled, '-q')).toEqual({ code: 0, output: '' });
  });

  it('refuses to start while a secret of .env is empty, and names it', async () => {
    const answer = await config(join(ROOT, '.env.example'), '-q');
    expect(answer.code).not.toBe(0);
    expect(answer.output).toMatch(/set (ERRAND_REDIS_|API_KEYS|SMTP_URL|MAIL_FROM|GRAFANA_)/);
  });

  it('sees the dev profile', async () => {
    expect(await config(filled, '--profiles')).toEqual({ code: 0, output: 'dev\n' });
  });

  it(`accepts ${SENTINEL_COMPOSE_FILE} over it: three data nodes and three sentinels besides the rest`, async () => {
    expect(await sentinelConfig(filled, '-q')).toEqual({ code: 0, output: '' });
    const listed = await sentinelConfig(filled, '--services');
    expect(listed.code).toBe(0);
    expect(listed.output.split('\n').filter(Boolean).sort()).toEqual(
      [
        ...['redis', 'redis-2', 'redis-3', 'sentinel-1', 'sentinel-2', 'sentinel-3'],
        ...['producer', 'worker', 'dashboard', 'prometheus', 'grafana', 'mailpit'],
      ].sort(),
    );
  });

  it('refuses the Sentinel variant while a password of its own is empty, and names it', async () => {
    const withOut = await envWith('no-sentinel-password.env', {
      ERRAND_REDIS_SENTINEL_PASSWORD: '',
    });
    const answer = await sentinelConfig(withOut, '-q');
    expect(answer.code).not.toBe(0);
    expect(answer.output).toMatch(/set ERRAND_REDIS_SENTINEL_PASSWORD in \.env/);
    expect(await config(withOut, '-q')).toEqual({ code: 0, output: '' }); // the one Redis needs none
  });

  it('mounts the image-storage volume into the producer and the workers at the same STORAGE_DIR', async () => {
    const services = await resolved(config(filled));
    for (const app of ['producer', 'worker']) {
      expect(services[app]?.environment?.STORAGE_DIR).toBe('/var/lib/errand/storage');
      expect(services[app]?.volumes).toContain('image-storage:/var/lib/errand/storage:rw');
    }
  });

  it(`accepts ${S3_COMPOSE_FILE} and ${MINIO_COMPOSE_FILE} over it: MinIO and the job that makes its bucket besides the rest`, async () => {
    expect(await minioConfig(filled, '-q')).toEqual({ code: 0, output: '' });
    const services = await resolved(minioConfig(filled));
    expect(Object.keys(services).sort()).toEqual(
      [
        ...['redis', 'producer', 'worker', 'dashboard', 'prometheus', 'grafana', 'mailpit'],
        ...['minio', 'minio-setup'],
      ].sort(),
    );
    for (const app of ['producer', 'worker']) {
      expect(services[app]?.depends_on?.['minio-setup']).toEqual({
        condition: 'service_completed_successfully',
      });
    }
  });

  it(`gives producer and worker the same store with ${S3_COMPOSE_FILE} alone (AWS S3), and no STORAGE_DIR`, async () => {
    const services = await resolved(s3Config(await envWith('aws.env', AWS_ENV)));
    const storage = (app: string) =>
      Object.entries(services[app]?.environment ?? {}).filter(([key]) =>
        /^(STORAGE_|S3_)/.test(key),
      );
    expect(storage('producer')).toEqual(storage('worker'));
    expect(Object.fromEntries(storage('worker'))).toMatchObject({
      STORAGE_DIR: '',
      STORAGE_URL: 's3://acme-errand-images/production',
      S3_ENDPOINT: '',
      S3_REGION: 'eu-west-1',
      S3_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    });
    expect(Object.keys(services)).not.toContain('minio');
  });

  it('refuses the S3 variant while its secret is empty, MinIO while its password is, and names them', async () => {
    const noSecret = await envWith('no-s3-secret.env', { S3_SECRET_ACCESS_KEY: '' });
    const answer = await s3Config(noSecret, '-q');
    expect(answer.code).not.toBe(0);
    expect(answer.output).toMatch(/set S3_SECRET_ACCESS_KEY in \.env/);
    const noRoot = await envWith('no-minio-password.env', { MINIO_ROOT_PASSWORD: '' });
    const refused = await minioConfig(noRoot, '-q');
    expect(refused.code).not.toBe(0);
    expect(refused.output).toMatch(/set MINIO_ROOT_PASSWORD in \.env/);
    expect(await s3Config(noRoot, '-q')).toEqual({ code: 0, output: '' }); // a store elsewhere needs none
    expect(await config(noSecret, '-q')).toEqual({ code: 0, output: '' }); // the volume needs neither
  });
});
