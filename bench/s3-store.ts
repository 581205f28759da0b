import { mkdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { freePort } from '@errand/devservers';
import { openStorage, type Storage, StorageEnv } from '@errand/storage';
import { S3_TEST_CREDENTIALS } from '@errand/testing';
import { type BenchProcess, startProcess } from './processes.ts';

const S3RVER = join(
  dirname(createRequire(import.meta.url).resolve('s3rver/package.json')),
  'bin',
  's3rver.js',
);
const BUCKET = 'errand-bench';

/** The run's object store: where it listens, its process (for its CPU), the settings to use it. */
export interface S3Store {
  process: BenchProcess;
  /** The settings that point an app at the bucket, under `prefix`. */
  env(prefix: string): Record<string, string>;
  /** The bucket under `prefix`, as the apps see it, for the bench to put fixtures in. */
  open(prefix: string): Storage;
  stop(): Promise<void>;
}

/**
 * s3rver (a JavaScript S3 server keeping objects in files) in a process of its own on
 * loopback, one bucket made at start, the way `S3Server` of @errand/testing runs it, but
 * silent (its request log would cost it CPU that no real store spends on this machine) and
 * started as a bench process: its output to `<dir>/s3rver.log`, its CPU read from /proc,
 * killed with the rest when a case fails. Not a real S3: no network between the worker and
 * its store, no replication, a disk write per object on the same machine.
 */
export async function startS3Store(dir: string): Promise<S3Store> {
  const port = await freePort();
  const data = join(dir, 's3rver');
  await mkdir(data, { recursive: true });
  const args = ['-d', data, '-a', '127.0.0.1', '-p', String(port), '-s'];
  const child = await startProcess(S3RVER, {}, join(dir, 's3rver.log'), 'S3rver listening', [
    ...args,
    '--configure-bucket',
    BUCKET,
  ]);
  const env = (prefix: string) => ({
    STORAGE_URL: `s3://${BUCKET}/${prefix}`,
    S3_ENDPOINT: `http://127.0.0.1:${port}`,
    S3_FORCE_PATH_STYLE: 'true',
    S3_REGION: 'us-east-1',
    S3_ACCESS_KEY_ID: S3_TEST_CREDENTIALS.accessKeyId,
    S3_SECRET_ACCESS_KEY: S3_TEST_CREDENTIALS.secretAccessKey,
  });
  return {
    process: child,
    env,
    open: (prefix) => openStorage(StorageEnv.parse(env(prefix))),
    async stop() {
      await child.stop();
      await rm(data, { recursive: true, force: true });
    },
  };
}
