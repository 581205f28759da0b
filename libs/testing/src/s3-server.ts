import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort } from '@errand/devservers';
import { StorageEnv, type StorageSettings } from '@errand/storage';

const S3RVER = join(
  dirname(createRequire(import.meta.url).resolve('s3rver/package.json')),
  'bin',
  's3rver.js',
);

/** The only credentials the test server knows. */
export const S3_TEST_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/**
 * An S3-protocol server for one test file: s3rver as its own process over HTTP, with its own
 * folder, one bucket made at start. `kill` and `restart` take it away and bring it back on the
 * same port and data, as a store that goes down mid-job would.
 */
export class S3Server {
  private child?: ChildProcess;

  readonly port: number;
  readonly dir: string;
  readonly bucket: string;

  private constructor(port: number, dir: string, bucket: string) {
    this.port = port;
    this.dir = dir;
    this.bucket = bucket;
  }

  static async start({ bucket = 'errand-test' } = {}): Promise<S3Server> {
    const server = new S3Server(
      await freePort(),
      await mkdtemp(join(tmpdir(), 'errand-s3-')),
      bucket,
    );
    await server.spawn();
    return server;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The settings that point an app at this server's bucket, under `prefix`. */
  env(prefix = 'errand', overrides: Record<string, string> = {}): Record<string, string> {
    return {
      STORAGE_URL: `s3://${this.bucket}/${prefix}`,
      S3_ENDPOINT: this.endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      S3_REGION: 'us-east-1',
      S3_ACCESS_KEY_ID: S3_TEST_CREDENTIALS.accessKeyId,
      S3_SECRET_ACCESS_KEY: S3_TEST_CREDENTIALS.secretAccessKey,
      ...overrides,
    };
  }

  /** `env` as parsed settings, for `openStorage`. */
  settings(prefix = 'errand', overrides: Record<string, string> = {}): StorageSettings {
    return StorageEnv.parse(this.env(prefix, overrides));
  }

  private spawn(): Promise<void> {
    const args = [S3RVER, '-d', this.dir, '-a', '127.0.0.1', '-p', String(this.port)];
    args.push('--configure-bucket', this.bucket);
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let output = '';
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`s3rver did not start:\n${output}`)), 15_000);
      const collect = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('S3rver listening')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', collect);
      child.stderr?.on('data', collect);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`s3rver exited (${code}) before listening:\n${output}`));
      });
    });
  }

  /** Crash: SIGKILL, so connections drop and new ones are refused. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Start again on the same port and data. */
  async restart(): Promise<void> {
    await this.kill();
    await this.spawn();
  }

  /** Shut down for good and delete its data. */
  async stop(): Promise<void> {
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }
}
