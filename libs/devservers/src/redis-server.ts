import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';

export interface RedisServerOptions {
  /** TCP port; a free one when omitted. */
  port?: number;
  /** Data directory (AOF and RDB files); a new temp dir when omitted. */
  dir?: string;
  /** AOF persistence; on by default, since that is what production runs. */
  appendonly?: boolean;
  appendfsync?: 'always' | 'everysec' | 'no';
  maxmemoryPolicy?: string;
  /** `requirepass`; the URL then carries it. */
  password?: string;
  /** The redis-server binary; `redis-server` on PATH by default. */
  binary?: string;
  /**
   * Own process group, so a terminal's Ctrl-C reaches only the parent, which can then stop
   * the apps before Redis. Used by `npm start`.
   */
  detached?: boolean;
}

export const MISSING_REDIS_SERVER =
  'redis-server was not found on PATH. Install it (Debian/Ubuntu: apt install redis-server; macOS: brew install redis), ' +
  'or point REDIS_URL at a Redis you run.';

/**
 * A real redis-server child process on loopback, for tests and for `npm start`.
 * Lifecycle: 1. `start` spawns it and waits for "Ready to accept connections";
 * 2. `stop` shuts it down (SIGTERM: AOF flushed), `kill` ends it with SIGKILL (a crash);
 * 3. `restart` starts it again on the same port and data directory.
 */
export class RedisServer {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  readonly port: number;
  readonly dir: string;
  private readonly options: RedisServerOptions;

  private constructor(port: number, dir: string, options: RedisServerOptions) {
    this.port = port;
    this.dir = dir;
    this.options = options;
  }

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'errand-redis-')));
    await mkdir(dir, { recursive: true });
    const server = new RedisServer(options.port ?? (await freePort()), dir, options);
    try {
      await server.spawn();
    } catch (error) {
      await server.dispose();
      throw error;
    }
    return server;
  }

  get url(): string {
    const auth = this.options.password ? `:${encodeURIComponent(this.options.password)}@` : '';
    return `redis://${auth}127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private args(): string[] {
    const o = this.options;
    const args = [
      ...['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir],
      ...['--appendonly', o.appendonly === false ? 'no' : 'yes'],
      ...['--appendfsync', o.appendfsync ?? 'everysec'],
      ...['--maxmemory-policy', o.maxmemoryPolicy ?? 'noeviction'],
      ...['--save', '', '--logfile', '', '--daemonize', 'no', '--protected-mode', 'yes'],
    ];
    if (o.password) args.push('--requirepass', o.password);
    return args;
  }

  private spawn(): Promise<void> {
    const child = spawn(this.options.binary ?? 'redis-server', this.args(), {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: this.options.detached ?? false,
    });
    let output = '';
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    return new Promise((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          child.stdout?.off('data', onData);
          this.child = child;
          child.once('exit', () => {
            if (this.child === child) this.child = undefined;
          });
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.once('error', (error: NodeJS.ErrnoException) => {
        const missing = this.options.binary
          ? `${this.options.binary} does not exist. ${MISSING_REDIS_SERVER}`
          : MISSING_REDIS_SERVER;
        reject(error.code === 'ENOENT' ? new Error(missing) : error);
      });
      child.once('exit', (code) => {
        if (!this.child)
          reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`));
      });
    });
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill(signal);
    await this.exited;
    this.child = undefined;
  }

  /** Graceful shutdown: Redis flushes the AOF and exits. Safe to call twice. */
  stop(): Promise<void> {
    return this.signal('SIGTERM');
  }

  /** A crash: SIGKILL, no chance to flush anything beyond what fsync already wrote. */
  kill(): Promise<void> {
    return this.signal('SIGKILL');
  }

  /** Stop for good, and delete the data directory if it was a temp dir made by `start`. */
  async dispose(): Promise<void> {
    await this.stop();
    if (this.options.dir === undefined) await rm(this.dir, { recursive: true, force: true });
  }

  /** Start again on the same port and data directory (stops a running server first). */
  async restart(): Promise<void> {
    await this.stop();
    await this.spawn();
  }
}
