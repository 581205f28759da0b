import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  commandAsAdmin,
  type DeployedGroup,
  writeNodeLauncher,
  writeSentinelLauncher,
} from './deployed-group.ts';
import { errorMessage, until } from './poll.ts';
import { distinctFreePorts } from './ports.ts';
import { RedisServer } from './redis-server.ts';

export type { DeployedGroup } from './deployed-group.ts';

export interface SentinelGroupOptions {
  /** The master group name clients ask the sentinels for. */
  name?: string;
  /**
   * `requirepass` and `masterauth` on every data node (the first primary included: it comes
   * back as a replica), `sentinel auth-pass` for the sentinels. The sentinels ask for none.
   */
  password?: string;
  /**
   * Run every process as deployed, through `deploy/redis/entrypoint.sh`: the data nodes with
   * the shipped redis.conf and users (`default` off; `errand`, `admin`, `replica` for their
   * links to the primary, `sentinel` for the sentinels' links), the sentinels with the shipped
   * sentinel.conf, logging in as `sentinel`. `password` does not apply. A node's own `url` and
   * `command` do not log in then: `group.command(node, …)` runs a command as `admin`.
   */
  deployed?: DeployedGroup;
  /** `down-after-milliseconds`: how long the primary may be silent before a sentinel calls it down. */
  downAfterMs?: number;
  /** `failover-timeout`: a failed or stuck failover is retried only after twice this. */
  failoverTimeoutMs?: number;
  /** How long `start` waits for the whole group to know itself. */
  startTimeoutMs?: number;
  /** Six ports: primary, two replicas, three sentinels. Free ones when omitted. */
  ports?: readonly number[];
  /** The redis-server binary (data nodes and sentinels); `redis-server` on PATH by default. */
  binary?: string;
}

/** Test values: a SIGKILLed primary is replaced within a few seconds. */
const DEFAULTS = {
  name: 'errand',
  downAfterMs: 1_000,
  failoverTimeoutMs: 3_000,
  startTimeoutMs: 20_000,
} satisfies SentinelGroupOptions;

/** Sentinels that must agree that the primary is down (2 of 3), and on the new one. */
const QUORUM = 2;

/**
 * A loopback Sentinel group of real processes: 1 primary and 2 replicas (AOF on, noeviction,
 * as `RedisServer`) watched by 3 sentinels, each in its own directory of one temp dir.
 * Lifecycle: 1. `start` starts the data nodes, waits for both replicas to sync, starts the
 * sentinels and waits until each knows the primary, both replicas and the other two;
 * 2. `killPrimary` crashes the primary, `waitForNewPrimary` waits for the promotion,
 * `restart` brings a node back as a replica of whichever primary the sentinels name;
 * 3. `stop` SIGKILLs every process and deletes the temp dir (also when `start` fails).
 */
export class SentinelGroup {
  readonly name: string;
  /** For ioredis: `new Redis({ sentinels, name })`. */
  readonly sentinels: readonly { host: string; port: number }[];
  private readonly dataNodes: RedisServer[] = [];
  private readonly sentinelServers: RedisServer[] = [];
  private stopped: Promise<void> | undefined;
  private readonly root: string;
  private readonly ports: readonly number[];
  private readonly options: SentinelGroupOptions & typeof DEFAULTS;

  private constructor(
    root: string,
    ports: readonly number[],
    options: SentinelGroupOptions & typeof DEFAULTS,
  ) {
    this.root = root;
    this.ports = ports;
    this.options = options;
    this.name = options.name;
    this.sentinels = ports.slice(3).map((port) => ({ host: '127.0.0.1', port }));
  }

  static async start(options: SentinelGroupOptions = {}): Promise<SentinelGroup> {
    const o = { ...DEFAULTS, ...options };
    if (!/^[\w.-]+$/.test(o.name))
      throw new Error(`Sentinel master name "${o.name}" is not a word`);
    const ports = options.ports ?? (await distinctFreePorts(6));
    if (ports.length !== 6) throw new Error(`SentinelGroup needs 6 ports, got ${ports.length}`);
    const root = await mkdtemp(join(tmpdir(), 'errand-sentinel-'));
    const group = new SentinelGroup(root, ports, o);
    try {
      await group.boot();
    } catch (error) {
      await group.stop();
      throw error;
    }
    return group;
  }

  /** The data nodes; the first was the first primary. */
  get nodes(): readonly RedisServer[] {
    return this.dataNodes;
  }

  private async boot(): Promise<void> {
    const [primary, ...replicas] = this.ports.slice(0, 3) as [number, number, number];
    const replicaOf = ['--replicaof', '127.0.0.1', String(primary)];
    const nodes = [primary, ...replicas].map((port) =>
      this.startNode(port, port === primary ? [] : replicaOf),
    );
    await startAll(nodes, this.dataNodes);
    const deadline = Date.now() + this.options.startTimeoutMs;
    const first = this.node(primary);
    await until('both replicas in sync with the primary', deadline, async () => {
      const info = String(await this.command(first, 'INFO', 'replication'));
      return (info.match(/state=online/g)?.length ?? 0) === 2 || undefined;
    });
    const sentinels = this.sentinels.map(({ port }) => this.startSentinel(port, primary));
    await startAll(sentinels, this.sentinelServers);
    for (const sentinel of this.sentinelServers) {
      await until(`sentinel ${sentinel.port} to know the group`, deadline, async () => {
        const master = pairs(await sentinel.command('SENTINEL', 'MASTER', this.name));
        const ready =
          master.flags === 'master' &&
          master['num-slaves'] === '2' &&
          master['num-other-sentinels'] === '2';
        return ready || undefined;
      });
    }
  }

  private async startNode(port: number, replicaOf: string[]): Promise<RedisServer> {
    const { deployed, binary } = this.options;
    const password = this.nodePassword;
    const dir = join(this.root, `node-${port}`);
    const args = [...nodeArgs(password), ...replicaOf];
    try {
      await mkdir(dir);
      const launcher = deployed ? await writeNodeLauncher(dir, deployed) : binary;
      return await RedisServer.start({
        port,
        dir,
        args,
        ...(password ? { password } : {}),
        ...(launcher ? { binary: launcher } : {}),
      });
    } catch (error) {
      throw new Error(
        `Sentinel group: data node 127.0.0.1:${port} did not start: ${errorMessage(error)}`,
      );
    }
  }

  private async startSentinel(port: number, primary: number): Promise<RedisServer> {
    const { name, password, downAfterMs, failoverTimeoutMs, binary, deployed } = this.options;
    const dir = join(this.root, `sentinel-${port}`);
    await mkdir(dir);
    const config = join(dir, 'sentinel.conf');
    if (deployed) {
      const settings = { name, primaryPort: primary, downAfterMs, failoverTimeoutMs };
      const launcher = await writeSentinelLauncher(dir, deployed, settings);
      return this.startSentinelProcess(port, dir, config, launcher);
    }
    const lines = [
      `sentinel monitor ${name} 127.0.0.1 ${primary} ${QUORUM}`,
      `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
      `sentinel failover-timeout ${name} ${failoverTimeoutMs}`,
      `sentinel parallel-syncs ${name} 1`,
      ...(password ? [`sentinel auth-pass ${name} ${quote(password)}`] : []),
    ];
    await writeFile(config, `${lines.join('\n')}\n`);
    return this.startSentinelProcess(port, dir, config, binary);
  }

  private async startSentinelProcess(
    port: number,
    dir: string,
    config: string,
    binary: string | undefined,
  ): Promise<RedisServer> {
    try {
      return await RedisServer.start({
        port,
        dir,
        sentinelConfig: config,
        ...(binary ? { binary } : {}),
      });
    } catch (error) {
      throw new Error(
        `Sentinel group: sentinel 127.0.0.1:${port} did not start: ${errorMessage(error)}`,
      );
    }
  }

  private node(port: number): RedisServer {
    const node = this.nodes.find((n) => n.port === port);
    if (!node) throw new Error(`127.0.0.1:${port} is no data node of this Sentinel group`);
    return node;
  }

  /** The primary the first answering sentinel names (SENTINEL GET-MASTER-ADDR-BY-NAME). */
  async primary(): Promise<RedisServer> {
    let last: unknown;
    for (const sentinel of this.sentinelServers) {
      try {
        const [, port] = (await sentinel.command(
          'SENTINEL',
          'GET-MASTER-ADDR-BY-NAME',
          this.name,
        )) as [string, string];
        return this.node(Number(port));
      } catch (error) {
        last = error;
      }
    }
    throw new Error(`No sentinel named the primary: ${errorMessage(last)}`);
  }

  /**
   * A manual failover (SENTINEL FAILOVER): a replica is promoted and the old primary, still
   * running with its clients connected, is turned into its replica; returns the old primary.
   */
  async failover(): Promise<RedisServer> {
    const primary = await this.primary();
    const [sentinel] = this.sentinelServers;
    await until('a sentinel to start a failover', Date.now() + 20_000, () =>
      (sentinel as RedisServer).command('SENTINEL', 'FAILOVER', this.name).then(() => true),
    );
    return primary;
  }

  /**
   * Until every replica has what the primary has written so far (their offsets in its INFO
   * replication reach its own): what was acknowledged then survives a kill of the primary.
   */
  async synced(timeoutMs = 10_000): Promise<void> {
    const primary = await this.primary();
    const offset = (info: string) => Number(/master_repl_offset:(\d+)/.exec(info)?.[1]);
    const written = offset(String(await this.command(primary, 'INFO', 'replication')));
    await until('the replicas to catch up', Date.now() + timeoutMs, async () => {
      const info = String(await this.command(primary, 'INFO', 'replication'));
      const replicas = [...info.matchAll(/slave\d+:[^\r\n]*offset=(\d+)/g)].map((m) =>
        Number(m[1]),
      );
      return replicas.length > 0 && replicas.every((at) => at >= written) ? true : undefined;
    });
  }

  /** SIGKILL the current primary (a crash); returns it. */
  async killPrimary(): Promise<RedisServer> {
    const primary = await this.primary();
    await primary.kill();
    return primary;
  }

  /**
   * Wait until a quorum of sentinels names a primary other than `old` and that node answers
   * ROLE as master; returns it.
   */
  async waitForNewPrimary(old: { port: number }, timeoutMs = 20_000): Promise<RedisServer> {
    return until(`a primary other than ${old.port}`, Date.now() + timeoutMs, async () => {
      const named = await Promise.all(
        this.sentinelServers.map((s) =>
          s.command('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.name).then(
            (reply) => Number((reply as string[])[1]),
            () => undefined,
          ),
        ),
      );
      const port = named.find(
        (p) => p !== undefined && p !== old.port && named.filter((q) => q === p).length >= QUORUM,
      );
      if (port === undefined) return undefined;
      const node = this.node(port);
      const [role] = (await this.command(node, 'ROLE')) as [string];
      return role === 'master' ? node : undefined;
    });
  }

  /**
   * Start a stopped (or killed) data node again on its port and data, as a replica of the
   * primary the sentinels name (or as the primary, if they still name it); resolves once a
   * replica's link to the primary is up.
   */
  async restart(node: RedisServer, timeoutMs = 10_000): Promise<void> {
    const primary = await this.primary();
    const replicaOf = primary === node ? [] : ['--replicaof', '127.0.0.1', String(primary.port)];
    await node.restart([...nodeArgs(this.nodePassword), ...replicaOf]);
    if (primary === node) return;
    await until(`${node.port} to sync with ${primary.port}`, Date.now() + timeoutMs, async () => {
      const role = (await this.command(node, 'ROLE')) as string[];
      return (role[0] === 'slave' && role[3] === 'connected') || undefined;
    });
  }

  /** The `requirepass` of the data nodes: none where the deployed users log in instead. */
  private get nodePassword(): string | undefined {
    return this.options.deployed ? undefined : this.options.password;
  }

  /**
   * One command on a short-lived connection to a data node or a sentinel, as its admin: the
   * deployed `admin` user on a data node of a deployed group, else what `RedisServer.command`
   * logs in as (the sentinels ask for no password).
   */
  async command(server: RedisServer, name: string, ...args: (string | number)[]): Promise<unknown> {
    const { deployed } = this.options;
    if (!deployed || this.sentinelServers.includes(server)) return server.command(name, ...args);
    return commandAsAdmin(server, deployed, name, ...args);
  }

  /** The process ids of every running node and sentinel. */
  pids(): number[] {
    return [...this.dataNodes, ...this.sentinelServers].flatMap((s) => (s.pid ? [s.pid] : []));
  }

  /** SIGKILL everything and delete the temp dir. Safe to call twice. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      await Promise.all([...this.sentinelServers, ...this.dataNodes].map((s) => s.kill()));
      await rm(this.root, { recursive: true, force: true });
    })();
    return this.stopped;
  }
}

/**
 * Data node arguments: the replication password, and full syncs at once (the default waits
 * 5 s for more replicas to share a diskless transfer).
 */
function nodeArgs(password: string | undefined): string[] {
  return ['--repl-diskless-sync-delay', '0', ...(password ? ['--masterauth', password] : [])];
}

/**
 * Wait for every start; push what started into `started` (in order, so a failure leaves
 * nothing that `stop` cannot find), then throw the first failure.
 */
async function startAll<T>(starts: Promise<T>[], started: T[]): Promise<void> {
  const results = await Promise.allSettled(starts);
  for (const result of results) if (result.status === 'fulfilled') started.push(result.value);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** A flat [field, value, …] reply as an object. */
function pairs(reply: unknown): Record<string, string> {
  const list = reply as string[];
  const object: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) object[String(list[i])] = String(list[i + 1]);
  return object;
}

/** A value for a Redis config file line (double-quoted, backslash escapes). */
function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
