import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jobs } from '@errand/contract';
import {
  freePort,
  RedisCluster,
  type RedisClusterOptions,
  RedisServer,
  SentinelGroup,
  type SentinelGroupOptions,
  SmtpSink,
} from '@errand/devservers';
import { queuePrefix } from '@errand/queues';
import { createRedis, type RedisClient, type RedisLocation } from '@errand/redis';
import { type AppProcess, S3Server, startApp } from '@errand/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { Intended } from './load.ts';

/**
 * Where a platform's Redis is: one redis-server, a Sentinel group (1 primary, 2 replicas,
 * 3 sentinels), or a Cluster (3 masters, a replica each).
 */
export type RedisTopology = RedisServer | SentinelGroup | RedisCluster;
type Replicated = SentinelGroup | RedisCluster;

/** An app process of the run, with the port it serves on. */
export type Served = AppProcess & { port: number; url: string };

export interface PlatformOptions {
  workers: number;
  /** Extra environment of every worker (retention, lock duration…). */
  workerEnv?: Record<string, string>;
  producerEnv?: Record<string, string>;
  /**
   * `everysec` (the shipped default) unless a scenario kills Redis: see CRASH_SAFE_FSYNC. On a
   * Sentinel group it is set on every data node once the group runs (CONFIG SET: SentinelGroup
   * takes no fsync option).
   */
  appendfsync?: 'everysec' | 'always';
  /**
   * Image sources and outputs in an S3-protocol server (s3rver in its own process, `store`)
   * rather than a folder, for the producer and every worker, as `STORAGE_URL=s3://…` deployments.
   */
  objectStore?: boolean;
}

/**
 * Zero acknowledged loss through `kill -9` is the promise of `appendfsync always`. Under
 * `everysec` Redis may reply before it has written: while a background fsync is still running
 * it holds its writes back for up to 2 s, so a crash then loses what it acknowledged (a CI run
 * of R1 under `everysec` lost 1 job and sent 3 mails twice, their ledger entries lost).
 */
export const CRASH_SAFE_FSYNC = 'always';

/**
 * Worker settings that keep every completed job (the default keeps 10,000 a queue): `settle`
 * counts an acknowledged job gone from Redis as lost, so one removed to keep the queue short
 * would count as lost too.
 */
export const KEEP_COMPLETED = { COMPLETED_RETENTION_COUNT: '10000000' };

/** Every process of every platform the run started: a failed run leaves none behind. */
const everyProcess = new Set<AppProcess>();
/** Every Sentinel group or Cluster not yet stopped: its redis-server processes go with the run too. */
const everyGroup = new Set<Replicated>();
/** Every object store not yet stopped. */
const everyStore = new Set<S3Server>();
export const killEverything = () => {
  for (const app of everyProcess) app.child.kill('SIGKILL');
  // Like stop(), kill() sends its SIGKILL before its first await.
  for (const store of everyStore) void store.kill();
  // stop() sends its SIGKILLs before its first await: enough in an exit handler.
  for (const group of everyGroup) void group.stop();
};

/**
 * The whole platform on loopback, as deployed: redis-server with AOF in a temp dir, the SMTP
 * sink, an S3-protocol server if asked (`objectStore`), one producer on a fixed port (so a
 * restarted one is the same address), and worker processes serving the email and analytics
 * queues (or those `workerEnv` names). `observer` is the run's own connection,
 * which reads job states and analytics counts; it waits through outages. `R` is where Redis
 * is: one redis-server (`start`), or a Sentinel group (`startOnSentinel`), whose primary the
 * apps and the observer ask the sentinels for, as `REDIS_SENTINELS` deployments do.
 */
export class Platform<R extends RedisTopology = RedisServer> {
  readonly workers: Served[] = [];
  producer!: Served;
  /** Every app process this platform started, ended ones included: their logs stay readable. */
  private readonly started: AppProcess[] = [];
  readonly observer: RedisClient;
  readonly queues: { email: Queue; analytics: Queue };
  readonly name: string;
  readonly redis: R;
  readonly sink: SmtpSink;
  /** The object store, with `objectStore`; the apps keep their files in `dir` otherwise. */
  readonly store: S3Server | undefined;
  readonly dir: string;
  private readonly options: PlatformOptions;
  private readonly producerPort: number;

  private constructor(
    name: string,
    parts: { redis: R; sink: SmtpSink; store?: S3Server; dir: string; producerPort: number },
    options: PlatformOptions,
  ) {
    this.name = name;
    this.redis = parts.redis;
    this.sink = parts.sink;
    this.store = parts.store;
    this.dir = parts.dir;
    this.producerPort = parts.producerPort;
    this.options = options;
    const where = locationOf(this.redis);
    this.observer =
      where === undefined
        ? new Redis((this.redis as RedisServer).url, { maxRetriesPerRequest: null })
        : // As the workers connect: it follows a failover to the new primary or master.
          createRedis(where, 'worker');
    this.observer.on('error', () => {}); // Redis is killed on purpose; it reconnects
    const queue = (queueName: string) =>
      new Queue(queueName, {
        connection: this.observer,
        prefix: queuePrefix(this.prefix, queueName),
      });
    this.queues = { email: queue(jobs.email.queue), analytics: queue(jobs.analytics.queue) };
    for (const q of Object.values(this.queues)) q.on('error', () => {});
  }

  static async start(name: string, options: PlatformOptions): Promise<Platform> {
    const dir = await mkdtemp(join(tmpdir(), `errand-chaos-${name}-`));
    const redis = await RedisServer.start({
      dir: join(dir, 'redis'),
      appendfsync: options.appendfsync ?? 'everysec',
    });
    return Platform.assemble(name, redis, dir, options);
  }

  /**
   * The platform on a loopback Sentinel group (`timings`: SentinelGroup's test values unless
   * given), each data node with the `appendfsync` of the options.
   */
  static async startOnSentinel(
    name: string,
    options: PlatformOptions,
    timings: Pick<SentinelGroupOptions, 'downAfterMs' | 'failoverTimeoutMs'> = {},
  ): Promise<Platform<SentinelGroup>> {
    const dir = await mkdtemp(join(tmpdir(), `errand-chaos-${name}-`));
    const group = await SentinelGroup.start({ ...timings, name: `chaos-${name}` });
    return Platform.onReplicated(name, group, group.nodes, dir, options);
  }

  /** The platform on a loopback Cluster, each node with the `appendfsync` of the options. */
  static async startOnCluster(
    name: string,
    options: PlatformOptions,
    timings: Pick<RedisClusterOptions, 'nodeTimeoutMs'> = {},
  ): Promise<Platform<RedisCluster>> {
    const dir = await mkdtemp(join(tmpdir(), `errand-chaos-${name}-`));
    const cluster = await RedisCluster.start(timings);
    return Platform.onReplicated(name, cluster, cluster.processes, dir, options);
  }

  /** Set the fsync policy on every data node once it runs (CONFIG SET: the topologies take none). */
  private static async onReplicated<T extends Replicated>(
    name: string,
    redis: T,
    nodes: readonly RedisServer[],
    dir: string,
    options: PlatformOptions,
  ): Promise<Platform<T>> {
    everyGroup.add(redis);
    const appendfsync = options.appendfsync ?? 'everysec';
    await Promise.all(
      nodes.map((node) => node.command('CONFIG', 'SET', 'appendfsync', appendfsync)),
    );
    return Platform.assemble(name, redis, dir, options);
  }

  private static async assemble<T extends RedisTopology>(
    name: string,
    redis: T,
    dir: string,
    options: PlatformOptions,
  ): Promise<Platform<T>> {
    const sink = await SmtpSink.start();
    const store = options.objectStore
      ? await S3Server.start({ bucket: 'errand-chaos' })
      : undefined;
    if (store) everyStore.add(store);
    const producerPort = await freePort();
    const platform = new Platform(name, { redis, sink, store, dir, producerPort }, options);
    await platform.startProducer();
    await Promise.all(Array.from({ length: options.workers }, () => platform.startWorker()));
    return platform;
  }

  get prefix() {
    return `chaos-${this.name}`;
  }

  get api() {
    return this.producer.url;
  }

  private common(): Record<string, string> {
    const list = (nodes: readonly { host: string; port: number }[]) =>
      nodes.map(({ host, port }) => `${host}:${port}`).join(',');
    const where: Record<string, string> =
      this.redis instanceof SentinelGroup
        ? { REDIS_SENTINELS: list(this.redis.sentinels), REDIS_SENTINEL_NAME: this.redis.name }
        : this.redis instanceof RedisCluster
          ? { REDIS_CLUSTER_NODES: list(this.redis.nodes) }
          : { REDIS_URL: this.redis.url };
    return { ...where, QUEUE_PREFIX: this.prefix, LOG_LEVEL: 'warn' };
  }

  /** Where images are: the store's bucket under the platform's prefix, or else a folder. */
  private storage(): Record<string, string> {
    return this.store ? this.store.env(this.prefix) : { STORAGE_DIR: join(this.dir, 'storage') };
  }

  private track(app: AppProcess, port: number): Served {
    everyProcess.add(app);
    this.started.push(app);
    void app.exited.then(() => everyProcess.delete(app));
    return Object.assign(app, { port, url: `http://127.0.0.1:${port}` });
  }

  async startProducer(): Promise<Served> {
    const app = startApp('producer', {
      ...this.common(),
      PRODUCER_PORT: String(this.producerPort),
      LOG_LEVEL: 'info', // the line it waits for is at info
      API_RATE_LIMIT: '1000000',
      EMAIL_MAX_WAITING: '0',
      ANALYTICS_MAX_WAITING: '0',
      ...this.storage(),
      ...this.options.producerEnv,
    });
    this.producer = this.track(app, this.producerPort);
    await app.waitForLine('producer listening', 30_000);
    return this.producer;
  }

  async startWorker(): Promise<Served> {
    const port = await freePort();
    const app = startApp('worker', {
      ...this.common(),
      LOG_LEVEL: 'info',
      WORKER_PORT: String(port),
      WORKER_QUEUES: 'email,analytics',
      SMTP_URL: this.sink.url,
      ...this.storage(),
      ...this.options.workerEnv,
    });
    const worker = this.track(app, port);
    this.workers.push(worker);
    await app.waitForLine('worker running', 30_000);
    return worker;
  }

  /** Replace worker `i` after it ended (or was ended): the fleet keeps its size. */
  async replaceWorker(i: number): Promise<Served> {
    const fresh = await this.startWorker();
    this.workers.splice(this.workers.indexOf(fresh), 1);
    this.workers[i] = fresh;
    return fresh;
  }

  /** `kill -9` Redis, and start it again from the same AOF `downMs` later. */
  async killRedis(this: Platform<RedisServer>, downMs = 500): Promise<void> {
    await this.redis.kill();
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.redis.restart();
  }

  /**
   * `kill -9` the object store, and start it again on the same port and data `downMs` later;
   * resolves once it listens again.
   */
  async killStore(downMs: number): Promise<void> {
    if (!this.store) throw new Error('killStore: the platform has no object store');
    await this.store.kill();
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.store.restart();
  }

  /** The sink takes `ms` to accept each mail of `intended`, so a fault finds sends in flight. */
  slowMails(intended: Intended[], ms: number): void {
    for (const job of intended) {
      if (job.type === 'email') this.sink.slowToAccept((job.data as { to: string }).to, ms);
    }
  }

  /** The app processes that ended (or were ended) since the platform started. */
  ended(): AppProcess[] {
    return this.started.filter(
      (app) => app.child.exitCode !== null || app.child.signalCode !== null,
    );
  }

  /** What each app process of the platform logged, ended ones included. */
  logs(): string[] {
    return this.started.map((app) => app.output());
  }

  async stop(): Promise<void> {
    await Promise.all([this.producer, ...this.workers].map((app) => app.stop('SIGKILL')));
    await Promise.all(Object.values(this.queues).map((q) => q.close().catch(() => {})));
    this.observer.disconnect();
    await this.sink.close();
    if (this.store) {
      await this.store.stop();
      everyStore.delete(this.store);
    }
    if (this.redis instanceof RedisServer) await this.redis.dispose();
    else {
      await this.redis.stop();
      everyGroup.delete(this.redis);
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Where a replicated Redis is, as the apps' settings say it; undefined for one redis-server. */
function locationOf(redis: RedisTopology): RedisLocation | undefined {
  if (redis instanceof SentinelGroup) {
    return {
      mode: 'sentinel',
      sentinels: [...redis.sentinels],
      name: redis.name,
      sentinelTls: false,
    };
  }
  if (redis instanceof RedisCluster) return { mode: 'cluster', nodes: [...redis.nodes] };
  return undefined;
}
