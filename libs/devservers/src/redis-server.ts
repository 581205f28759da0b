import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
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
  /**
   * Run Redis as a deployment does: `deploy/redis/entrypoint.sh` renders the shipped ACL users
   * and starts redis-server with the shipped `redis.conf`; from here only port, address and
   * data directory are set (the persistence options above are then the file's). The URL logs
   * in as the apps' user, `errand`; `adminUrl` as `admin`.
   */
  deployed?: DeployedRedis;
  /** TLS only (no plain port): PEM files; the URL is then `rediss://`. Clients are not asked for a certificate. */
  tls?: { cert: string; key: string; ca: string };
  /**
   * More redis-server arguments, after the ones above: `['--replicaof', '127.0.0.1', '7001']`,
   * `['--cluster-enabled', 'yes']`. `SentinelGroup` and `RedisCluster` build their nodes with it.
   */
  args?: readonly string[];
  /**
   * Run as a Sentinel: `redis-server <file> --sentinel`. The file must be this server's own
   * and writable (Sentinel rewrites it with what it learns); persistence and password options
   * do not apply.
   */
  sentinelConfig?: string;
}

/** The secrets `deploy/redis/entrypoint.sh` reads from the environment. */
export interface DeployedRedis {
  prefix: string;
  password: string;
  adminPassword: string;
}

/** The shipped Redis start-up script (which reads `redis.conf` and `users.acl` beside it). */
export const DEPLOYED_REDIS_ENTRYPOINT = join(
  import.meta.dirname,
  '..',
  '..',
  '..',
  'deploy',
  'redis',
  'entrypoint.sh',
);

export const MISSING_REDIS_SERVER =
  'redis-server was not found on PATH. Install it (Debian/Ubuntu: apt install redis-server; macOS: brew install redis), ' +
  'or point REDIS_URL at a Redis you run.';

/**
 * A real redis-server child process on loopback, for tests and for `npm start`.
 * Lifecycle: 1. `start` spawns it and waits for "Ready to accept connections";
 * 2. `stop` shuts it down (SIGTERM: AOF flushed), `kill` ends it with SIGKILL (a crash);
 * 3. `restart` starts it again on the same port and data directory.
 * `freeze`/`thaw` (SIGSTOP/SIGCONT) make it a server that keeps its connections open and
 * answers nothing, as one behind a cut network link does.
 */
export class RedisServer {
  private child: ChildProcess | undefined;
  private frozen = false;
  private exited: Promise<void> = Promise.resolve();

  /** Always loopback. */
  readonly host = '127.0.0.1';
  readonly port: number;
  readonly dir: string;
  private options: RedisServerOptions;

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
    const { deployed, password } = this.options;
    if (deployed) return this.urlAs('errand', deployed.password);
    const auth = password ? `:${encodeURIComponent(password)}@` : '';
    return `${this.scheme}://${auth}127.0.0.1:${this.port}`;
  }

  /** The URL of the `admin` user of a deployed Redis; undefined for any other. */
  get adminUrl(): string | undefined {
    const { deployed } = this.options;
    return deployed && this.urlAs('admin', deployed.adminPassword);
  }

  private get scheme(): string {
    return this.options.tls ? 'rediss' : 'redis';
  }

  private urlAs(user: string, password: string): string {
    return `${this.scheme}://${user}:${encodeURIComponent(password)}@127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private args(): string[] {
    const o = this.options;
    const { tls } = o;
    const where = [
      ...(tls
        ? ['--port', '0', '--tls-port', String(this.port), '--tls-auth-clients', 'no']
        : ['--port', String(this.port)]),
      ...(tls ? ['--tls-cert-file', tls.cert, '--tls-key-file', tls.key] : []),
      ...(tls ? ['--tls-ca-cert-file', tls.ca] : []),
      ...['--bind', '127.0.0.1', '--dir', this.dir],
    ];
    const extra = o.args ?? [];
    if (o.sentinelConfig) return [o.sentinelConfig, ...where, '--sentinel', ...extra];
    if (o.deployed) return [...where, ...extra];
    const args = [
      ...where,
      ...['--appendonly', o.appendonly === false ? 'no' : 'yes'],
      ...['--appendfsync', o.appendfsync ?? 'everysec'],
      ...['--maxmemory-policy', o.maxmemoryPolicy ?? 'noeviction'],
      ...['--save', '', '--logfile', '', '--daemonize', 'no', '--protected-mode', 'yes'],
    ];
    if (o.password) args.push('--requirepass', o.password);
    args.push(...extra);
    return args;
  }

  private spawn(): Promise<void> {
    const { deployed, binary, detached } = this.options;
    const [command, args, env] = deployed
      ? [
          'sh',
          [DEPLOYED_REDIS_ENTRYPOINT, ...this.args()],
          {
            ...process.env,
            ERRAND_REDIS_PASSWORD: deployed.password,
            ERRAND_REDIS_ADMIN_PASSWORD: deployed.adminPassword,
            QUEUE_PREFIX: deployed.prefix,
            ERRAND_ACL_FILE: join(this.dir, 'users.acl'),
          },
        ]
      : [binary ?? 'redis-server', this.args(), process.env];
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: detached ?? false,
      env,
    });
    // A Sentinel logs no "Ready to accept connections"; its ID comes once it listens.
    const readyLine = this.options.sentinelConfig
      ? 'Sentinel ID is'
      : 'Ready to accept connections';
    let output = '';
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    return new Promise((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes(readyLine)) {
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
    // A stopped process acts on SIGTERM only once it runs again.
    if (this.frozen) this.thaw();
    await this.exited;
    this.child = undefined;
  }

  /** SIGSTOP: connections stay open, nothing is answered (a hung or cut-off server). */
  freeze(): void {
    if (!this.child) return;
    this.child.kill('SIGSTOP');
    this.frozen = true;
  }

  /** SIGCONT: a frozen server answers again, everything it was sent meanwhile included. */
  thaw(): void {
    this.frozen = false;
    this.child?.kill('SIGCONT');
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

  /**
   * Start again on the same port and data directory (stops a running server first). `args`
   * replaces the extra arguments: a node that comes back as the replica of a new primary.
   */
  async restart(args?: readonly string[]): Promise<void> {
    await this.stop();
    if (args) this.options = { ...this.options, args };
    await this.spawn();
  }

  /**
   * One command on a short-lived connection, as the server's own admin: a harness probe
   * (`CONFIG GET appendonly`, `ROLE`). Plain TCP only.
   */
  async command(name: string, ...args: (string | number)[]): Promise<unknown> {
    if (this.options.tls) throw new Error('RedisServer.command speaks plain TCP only');
    return commandOnce({ url: this.adminUrl ?? this.url }, name, ...args);
  }
}

/**
 * One command on a short-lived connection that fails fast (a probe of the harness): to a
 * URL, or to a host and port as a given user.
 */
export async function commandOnce(
  to: { url: string } | { host: string; port: number; username: string; password: string },
  name: string,
  ...args: (string | number)[]
): Promise<unknown> {
  const options = {
    lazyConnect: true,
    connectTimeout: 1_000,
    commandTimeout: 2_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    disableClientInfo: true,
  };
  const client = 'url' in to ? new Redis(to.url, options) : new Redis({ ...to, ...options });
  client.on('error', () => {});
  try {
    await client.connect();
    return await client.call(name, ...args);
  } finally {
    client.disconnect();
  }
}
