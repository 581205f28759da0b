import { parseEnvParts } from '@errand/config';
import { describe, expect, it } from 'vitest';
import { StorageEnv } from './location.ts';

const parse = (env: Record<string, string>) =>
  parseEnvParts({ storage: StorageEnv }, env, 'worker').storage;
const refused = (env: Record<string, string>) => {
  try {
    parse(env);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('accepted');
};

describe('StorageEnv', () => {
  it('is local files in data/storage unless told otherwise', () => {
    expect(parse({})).toEqual({
      store: { kind: 'local', dir: 'data/storage' },
      urlExpirySeconds: 3600,
    });
    expect(parse({ STORAGE_DIR: '/var/lib/errand' }).store).toEqual({
      kind: 'local',
      dir: '/var/lib/errand',
    });
  });

  it('reads an S3 store from STORAGE_URL and the S3_ settings, credentials from the SDK chain unless given', () => {
    expect(parse({ STORAGE_URL: 's3://images', AWS_REGION: 'eu-west-3' })).toEqual({
      store: {
        kind: 's3',
        bucket: 'images',
        prefix: '',
        endpoint: undefined,
        publicEndpoint: undefined,
        region: 'eu-west-3',
        forcePathStyle: false,
        credentials: undefined,
      },
      urlExpirySeconds: 3600,
    });
    expect(
      parse({
        STORAGE_URL: 's3://my.bucket-1/errand/prod/',
        S3_ENDPOINT: 'http://minio:9000',
        S3_PUBLIC_ENDPOINT: 'https://files.example.com',
        S3_REGION: 'auto',
        S3_FORCE_PATH_STYLE: 'true',
        S3_ACCESS_KEY_ID: 'id',
        S3_SECRET_ACCESS_KEY: 'secret',
        STORAGE_URL_EXPIRY_SECONDS: '600',
      }),
    ).toEqual({
      store: {
        kind: 's3',
        bucket: 'my.bucket-1',
        prefix: 'errand/prod/',
        endpoint: 'http://minio:9000',
        publicEndpoint: 'https://files.example.com',
        region: 'auto',
        forcePathStyle: true,
        credentials: { accessKeyId: 'id', secretAccessKey: 'secret', sessionToken: undefined },
      },
      urlExpirySeconds: 600,
    });
  });

  it('names every bad or conflicting setting', () => {
    expect(refused({ STORAGE_URL: 'file:///tmp' })).toMatch(/STORAGE_URL: expected s3:\/\/bucket/);
    expect(refused({ STORAGE_URL: 's3://key:secret@bucket' })).toMatch(
      /credentials do not go in the URL/,
    );
    expect(refused({ STORAGE_URL: 's3://B_ucket' })).toMatch(/not a bucket name/);
    expect(refused({ STORAGE_URL: 's3://bucket/../x' })).toMatch(/not a plain path/);
    expect(refused({ STORAGE_URL: 's3://bucket/a//b' })).toMatch(/not a plain path/);
    expect(refused({ STORAGE_URL: 's3://bucket', STORAGE_DIR: 'data' })).toMatch(
      /STORAGE_DIR: set together with STORAGE_URL/,
    );
    expect(refused({ S3_ENDPOINT: 'http://minio:9000' })).toMatch(
      /S3_ENDPOINT: set without STORAGE_URL/,
    );
    expect(refused({ STORAGE_URL: 's3://bucket', S3_ACCESS_KEY_ID: 'id' })).toMatch(
      /S3_SECRET_ACCESS_KEY: set both/,
    );
    expect(refused({ STORAGE_URL: 's3://bucket', S3_ENDPOINT: 'ftp://x' })).toMatch(
      /S3_ENDPOINT: expected an http\(s\) URL/,
    );
    expect(refused({ STORAGE_URL: 's3://bucket', S3_ENDPOINT: 'http://u:p@minio' })).toMatch(
      /without credentials/,
    );
    expect(refused({ STORAGE_URL: 's3://bucket', S3_FORCE_PATH_STYLE: 'maybe' })).toMatch(
      /S3_FORCE_PATH_STYLE: expected true or false/,
    );
    for (const expiry of ['0', '604801', '1.5', 'soon'])
      expect(refused({ STORAGE_URL_EXPIRY_SECONDS: expiry })).toMatch(
        /STORAGE_URL_EXPIRY_SECONDS: expected whole seconds from 1 to 604800/,
      );
  });

  it('never repeats a secret in its messages', () => {
    const message = refused({
      STORAGE_URL: 's3://bucket',
      S3_SECRET_ACCESS_KEY: 'very-secret-value',
      S3_ENDPOINT: 'nope',
    });
    expect(message).not.toContain('very-secret-value');
  });
});
