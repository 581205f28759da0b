import { z } from 'zod';
import type { Storage } from './storage.ts';
import { LocalStorage } from './storages/local.ts';
import { type S3Location, S3Storage } from './storages/s3.ts';

/** Where image sources and outputs live, and how long a presigned URL lasts. */
export interface StorageSettings {
  store: { kind: 'local'; dir: string } | ({ kind: 's3' } & S3Location);
  /** `STORAGE_URL_EXPIRY_SECONDS`: how long a presigned GET or PUT works. */
  urlExpirySeconds: number;
}

export const DEFAULT_STORAGE_DIR = 'data/storage';
/** SigV4's own limit: a presigned URL cannot last longer than seven days. */
const MAX_EXPIRY_SECONDS = 7 * 24 * 3600;

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const PREFIX = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,255}$/;
const S3_ONLY = [
  'S3_ENDPOINT',
  'S3_PUBLIC_ENDPOINT',
  'S3_REGION',
  'S3_FORCE_PATH_STYLE',
  'S3_ACCESS_KEY_ID',
  'S3_SECRET_ACCESS_KEY',
  'S3_SESSION_TOKEN',
] as const;

/**
 * The storage settings, read from the environment as one part of an app's configuration
 * (`parseEnvParts({ …, storage: StorageEnv })`):
 * - `STORAGE_DIR` (default `data/storage`): files in a folder, the default;
 * - `STORAGE_URL=s3://bucket/prefix`: an S3-compatible store, with `S3_ENDPOINT` (unset for
 *   AWS), `S3_PUBLIC_ENDPOINT`, `S3_REGION` (else `AWS_REGION`, else us-east-1),
 *   `S3_FORCE_PATH_STYLE`, and credentials from `S3_ACCESS_KEY_ID`/`S3_SECRET_ACCESS_KEY` or
 *   else the AWS SDK's own chain (`AWS_ACCESS_KEY_ID`, `AWS_PROFILE`, web identity…).
 * Every bad or conflicting setting is an issue that names it.
 */
export const StorageEnv = z.looseObject({}).transform((env, ctx): StorageSettings => {
  const text = (name: string) => {
    const value = env[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const issue = (name: string, message: string) => {
    ctx.addIssue({ code: 'custom', path: [name], message });
  };
  const expiryText = text('STORAGE_URL_EXPIRY_SECONDS') ?? '3600';
  const urlExpirySeconds = Number(expiryText);
  if (!/^\d+$/.test(expiryText) || urlExpirySeconds < 1 || urlExpirySeconds > MAX_EXPIRY_SECONDS)
    issue('STORAGE_URL_EXPIRY_SECONDS', `expected whole seconds from 1 to ${MAX_EXPIRY_SECONDS}`);

  const url = text('STORAGE_URL');
  if (url === undefined) {
    for (const name of S3_ONLY)
      if (text(name) !== undefined) issue(name, 'set without STORAGE_URL=s3://bucket/prefix');
    return {
      store: { kind: 'local', dir: text('STORAGE_DIR') ?? DEFAULT_STORAGE_DIR },
      urlExpirySeconds,
    };
  }
  if (text('STORAGE_DIR') !== undefined)
    issue('STORAGE_DIR', 'set together with STORAGE_URL: choose one store');
  const match = /^s3:\/\/([^/?#@]+)(?:\/([^?#]*))?$/.exec(url);
  const bucket = match?.[1] ?? '';
  const prefix = (match?.[2] ?? '').replace(/\/+$/, '');
  if (!match) {
    issue(
      'STORAGE_URL',
      url.includes('@')
        ? 'credentials do not go in the URL: use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY'
        : 'expected s3://bucket or s3://bucket/prefix',
    );
  } else if (!BUCKET.test(bucket)) {
    issue('STORAGE_URL', `"${bucket.slice(0, 80)}" is not a bucket name (3–63 of a-z 0-9 . -)`);
  } else if (
    prefix !== '' &&
    (!PREFIX.test(prefix) || prefix.split('/').some((part) => ['', '.', '..'].includes(part)))
  ) {
    issue('STORAGE_URL', `the prefix "${prefix.slice(0, 80)}" is not a plain path`);
  }

  const endpointOf = (name: string) => {
    const value = text(name);
    if (value === undefined) return undefined;
    try {
      const parsed = new URL(value);
      if (!['http:', 'https:'].includes(parsed.protocol) || parsed.username || parsed.password)
        throw new Error();
      return value;
    } catch {
      issue(name, 'expected an http(s) URL without credentials, such as http://minio:9000');
      return undefined;
    }
  };
  const accessKeyId = text('S3_ACCESS_KEY_ID');
  const secretAccessKey = text('S3_SECRET_ACCESS_KEY');
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined))
    issue(
      accessKeyId ? 'S3_SECRET_ACCESS_KEY' : 'S3_ACCESS_KEY_ID',
      'set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or neither',
    );
  const pathStyle = text('S3_FORCE_PATH_STYLE') ?? 'false';
  if (!['true', 'false', '1', '0', 'yes', 'no'].includes(pathStyle))
    issue('S3_FORCE_PATH_STYLE', 'expected true or false');
  return {
    store: {
      kind: 's3',
      bucket,
      prefix: prefix === '' ? '' : `${prefix}/`,
      endpoint: endpointOf('S3_ENDPOINT'),
      publicEndpoint: endpointOf('S3_PUBLIC_ENDPOINT'),
      region: text('S3_REGION') ?? text('AWS_REGION') ?? 'us-east-1',
      forcePathStyle: ['true', '1', 'yes'].includes(pathStyle),
      credentials:
        accessKeyId && secretAccessKey
          ? { accessKeyId, secretAccessKey, sessionToken: text('S3_SESSION_TOKEN') }
          : undefined,
    },
    urlExpirySeconds,
  };
});

/** The store the settings name; `check()` it before use. */
export function openStorage({ store }: StorageSettings): Storage {
  if (store.kind === 'local') return new LocalStorage(store.dir);
  const { kind: _, ...location } = store;
  return new S3Storage(location);
}
