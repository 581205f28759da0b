import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  commandAsAdmin,
  type DeployedCluster,
  writeClusterNodeLauncher,
} from './deployed-group.ts';
import { errorMessage, until } from './poll.ts';
import { freeClusterPorts } from './ports.ts';
import { RedisServer } from './redis-server.ts';

export { type DeployedCluster, randomSecrets } from './deployed-group.ts';

export interface RedisClusterOptions {
  /** `requirepass` and `masterauth` on every node; `redis-cli --cluster create` logs in with it. */
  password?: string;
  /**
   * Run every node as deployed, through `deploy/redis/entrypoint.sh` with
   * `ERRAND_REDIS_REPLICATION=cluster`: the shipped redis.conf and users (`default` off;
   * `errand`, `admin`, and `replica`, as which a replica logs in to its master), plus the
   * cluster arguments. `password` does not apply. `redis-cli --cluster create` and the
   * harness's own commands log in as `admin`; a node's own `url` and `command` do not log in
   * then: `cluster.command(node, …)` runs a command as `admin`.
   */
  deployed?: DeployedCluster;
  /** `cluster-node-timeout`: how long a master may be silent before its replica takes over. */
  nodeTimeoutMs?: number;
  /** How long `start` waits for the cluster to form. */
  startTimeoutMs?: number;
  /** Six ports; free ones (with free bus ports) when omitted. */
  ports?: readonly number[];
  /** The redis-server binary; `redis-server` on PATH by default. */
  binary?: string;
  /** The redis-cli binary; `redis-cli` on PATH by default. */
  cliBinary?: string;
}

/** Test values: a SIGKILLed master's replica takes over in a few seconds. */
const DEFAULTS = {
  nodeTimeoutMs: 1_000,
  startTimeoutMs: 30_000,
} satisfies RedisClusterOptions;

const NODES = 6;
const SLOTS = 16_384;

/** A master and the slot ranges it serves. */
export interface ClusterMaster {
  node: RedisServer;
  slots: [number, number][];
}

/** One range of CLUSTER SLOTS: start, end, then [host, port, id] for the master and each replica. */
type SlotNode = [host: string, port: number, id: string];
type SlotRange = [start: number, end: number, master: SlotNode, ...replicas: SlotNode[]];

/**
 * A loopback Redis Cluster of real processes: 3 masters and 3 replicas (AOF on, noeviction,
 * `cluster-require-full-coverage no`), each with its own directory and `nodes.conf` in one
 * temp dir, on ports whose bus port (+10000) is free too.
 * Lifecycle: 1. `start` starts the nodes, runs `redis-cli --cluster create … --cluster-replicas
 * 1` and waits until every node says `cluster_state:ok`, every slot is served and every
 * replica is in sync; 2. `killMaster` crashes a master, `waitForFailover` waits for its
 * replica to take its slots, `restart` brings a node back (a killed master as a replica);
 * 3. `stop` SIGKILLs every process and deletes the temp dir (also when `start` fails).
 */
export class RedisCluster {
  /** Startup nodes for ioredis: `new Cluster(nodes)`. */
  readonly nodes: readonly { host: string; port: number }[];
  private readonly servers: RedisServer[] = [];
  private stopped: Promise<void> | undefined;
  private readonly root: string;
  private readonly ports: readonly number[];
  private readonly options: RedisClusterOptions & typeof DEFAULTS;

  private constructor(
    root: string,
    ports: readonly number[],
    options: RedisClusterOptions & typeof DEFAULTS,
  ) {
    this.root = root;
    this.ports = ports;
    this.options = options;
    this.nodes = ports.map((port) => ({ host: '127.0.0.1', port }));
  }

  static async start(options: RedisClusterOptions = {}): Promise<RedisCluster> {
    const ports = options.ports ?? (await freeClusterPorts(NODES));
    if (ports.length !== NODES) throw new Error(`RedisCluster needs 6 ports, got ${ports.length}`);
    const root = await mkdtemp(join(tmpdir(), 'errand-cluster-'));
    const cluster = new RedisCluster(root, ports, { ...DEFAULTS, ...options });
    try {
      await cluster.boot();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** Every node process (masters and replicas). */
  get processes(): readonly RedisServer[] {
    return this.servers;
  }

  private async boot(): Promise<void> {
    const deadline = Date.now() + this.options.startTimeoutMs;
    const results = await Promise.allSettled(this.ports.map((port) => this.startNode(port)));
    for (const r of results) if (r.status === 'fulfilled') this.servers.push(r.value);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    await this.create(deadline);
    await Promise.all(
      this.servers.map((node) => until(`${node.port} to join`, deadline, () => this.joined(node))),
    );
  }

  private async startNode(port: number): Promise<RedisServer> {
    const { deployed, binary, nodeTimeoutMs } = this.options;
    const password = deployed ? undefined : this.options.password;
    const dir = join(this.root, `node-${port}`);
    try {
      // The launcher renders the shipped users and the node's redis.conf into its directory.
      const launcher = deployed
        ? await mkdir(dir).then(() => writeClusterNodeLauncher(dir, deployed))
        : binary;
      return await RedisServer.start({
        port,
        dir,
        args: [
          ...['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'],
          ...['--cluster-node-timeout', String(nodeTimeoutMs)],
          ...['--cluster-require-full-coverage', 'no'],
          // Full syncs at once (the default waits 5 s for more replicas to share one).
          ...['--repl-diskless-sync-delay', '0'],
          ...(password ? ['--masterauth', password] : []),
        ],
        ...(password ? { password } : {}),
        ...(launcher ? { binary: launcher } : {}),
      });
    } catch (error) {
      throw new Error(
        `Redis Cluster: node 127.0.0.1:${port} did not start: ${errorMessage(error)}`,
      );
    }
  }

  /**
   * `redis-cli --cluster create`, as `admin` on a deployed cluster; the password goes in the
   * environment, not the command line.
   */
  private create(deadline: number): Promise<void> {
    const { password, deployed, cliBinary = 'redis-cli' } = this.options;
    const args = ['--cluster', 'create', ...this.ports.map((p) => `127.0.0.1:${p}`)];
    args.push('--cluster-replicas', '1', '--cluster-yes');
    if (deployed) args.push('--user', 'admin');
    const auth = deployed ? deployed.adminPassword : password;
    const env = auth ? { ...process.env, REDISCLI_AUTH: auth } : process.env;
    const child = spawn(cliBinary, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), Math.max(0, deadline - Date.now()));
    return new Promise<void>((resolve, reject) => {
      child.once('error', (error: NodeJS.ErrnoException) => {
        reject(
          error.code === 'ENOENT'
            ? new Error(
                `${cliBinary} was not found: it ships with redis-server (Debian/Ubuntu: apt install redis-tools).`,
              )
            : error,
        );
      });
      child.once('exit', (code, signal) => {
        if (code === 0) resolve();
        else
          reject(new Error(`${cliBinary} --cluster create failed (${code ?? signal}):\n${output}`));
      });
    }).finally(() => clearTimeout(timer));
  }

  /**
   * In the cluster: state ok, every slot served, every node known and reachable with a replica
   * for each master (so that a failover finds its votes), and a replica in sync.
   * (CLUSTER SLOTS lists a replica only once its offset moved, which takes the first
   * replication ping, ~10 s, on an empty cluster: CLUSTER NODES says it at once.)
   */
  private async joined(node: RedisServer): Promise<true | undefined> {
    if (!(await this.stateOk(node))) return undefined;
    const ranges = await this.slots(node);
    const served = ranges.reduce((sum, [start, end]) => sum + end - start + 1, 0);
    if (served !== SLOTS) return undefined;
    const known = String(await this.command(node, 'CLUSTER', 'NODES'))
      .trim()
      .split('\n');
    const healthy = known.filter(
      (line) => / connected/.test(line) && !/fail|handshake|noaddr/.test(line),
    );
    const replicas = known.filter((line) => line.split(' ')[2]?.includes('slave'));
    if (healthy.length !== NODES || replicas.length !== NODES / 2) return undefined;
    const [role, , , state] = (await this.command(node, 'ROLE')) as string[];
    return role === 'master' || state === 'connected' || undefined;
  }

  /** The masters and their slots, as the first answering node sees them (CLUSTER SLOTS). */
  async masters(): Promise<ClusterMaster[]> {
    let last: unknown;
    for (const node of this.servers.filter((s) => s.running)) {
      try {
        const byPort = new Map<number, ClusterMaster>();
        for (const [start, end, [, port]] of await this.slots(node)) {
          const master = byPort.get(port) ?? { node: this.server(port), slots: [] };
          master.slots.push([start, end]);
          byPort.set(port, master);
        }
        return [...byPort.values()];
      } catch (error) {
        last = error;
      }
    }
    throw new Error(`No cluster node answered CLUSTER SLOTS: ${errorMessage(last)}`);
  }

  /** The running replicas of `master`, by ROLE (each replica names its master's port). */
  async replicasOf(master: RedisServer): Promise<RedisServer[]> {
    const running = this.servers.filter((node) => node.running);
    const roles = await Promise.all(
      running.map(async (node) => (await this.command(node, 'ROLE')) as [string, string, number]),
    );
    return running.filter((_, i) => {
      const [role, , port] = roles[i] ?? [];
      return role === 'slave' && Number(port) === master.port;
    });
  }

  /** The master serving `key`'s slot (a queue's keys: any key with its hash tag). */
  async masterOf(key: string): Promise<ClusterMaster> {
    const [node] = this.servers.filter((s) => s.running);
    if (!node) throw new Error('No cluster node is running');
    const slot = Number(await this.command(node, 'CLUSTER', 'KEYSLOT', key));
    const master = (await this.masters()).find((m) =>
      m.slots.some(([start, end]) => start <= slot && slot <= end),
    );
    if (!master) throw new Error(`No master serves slot ${slot} (${key})`);
    return master;
  }

  /**
   * Wait until every master's replica holds what the master wrote so far (its offset, as the
   * replica acknowledges it about once a second): before a kill whose test needs the writes.
   */
  async synced(timeoutMs = 10_000): Promise<void> {
    const offset = (info: string) => Number(/master_repl_offset:(\d+)/.exec(info)?.[1]);
    for (const { node } of await this.masters()) {
      const written = offset(String(await this.command(node, 'INFO', 'replication')));
      await until(`the replicas of ${node.port} to catch up`, Date.now() + timeoutMs, async () => {
        const info = String(await this.command(node, 'INFO', 'replication'));
        const acked = [...info.matchAll(/slave\d+:[^\r\n]*offset=(\d+)/g)].map((m) => Number(m[1]));
        return acked.length > 0 && acked.every((at) => at >= written) ? true : undefined;
      });
    }
  }

  /** SIGKILL a master (the one on `which`'s port, else the first); returns it with its slots. */
  async killMaster(which?: { port: number }): Promise<ClusterMaster> {
    const masters = await this.masters();
    const master = which ? masters.find((m) => m.node.port === which.port) : masters[0];
    if (!master) throw new Error(`No master on port ${which?.port}`);
    await master.node.kill();
    return master;
  }

  /**
   * Wait until every running node says `cluster_state:ok` and names one other node, which
   * answers ROLE as master, for the killed master's slots; returns that node.
   */
  async waitForFailover(killed: ClusterMaster, timeoutMs = 20_000): Promise<RedisServer> {
    const [slot] = killed.slots[0] ?? [0];
    const { port } = killed.node;
    return until(`a replica to take over from ${port}`, Date.now() + timeoutMs, async () => {
      const owners = new Set<number>();
      for (const node of this.servers.filter((s) => s.running)) {
        if (!(await this.stateOk(node))) return undefined;
        const range = (await this.slots(node)).find(([start, end]) => start <= slot && slot <= end);
        if (range) owners.add(range[2][1]);
      }
      const [owner] = owners;
      if (owners.size !== 1 || owner === undefined || owner === port) return undefined;
      const promoted = this.server(owner);
      const [role] = (await this.command(promoted, 'ROLE')) as string[];
      return role === 'master' ? promoted : undefined;
    });
  }

  /**
   * Start a stopped (or killed) node again on its port and data (`nodes.conf` included);
   * resolves once it is back in the cluster: a killed master that lost its slots comes back as
   * a replica of the node that took them.
   */
  async restart(node: RedisServer, timeoutMs = 15_000): Promise<void> {
    await node.restart();
    await until(`${node.port} to rejoin`, Date.now() + timeoutMs, async () => {
      if (!(await this.stateOk(node))) return undefined;
      const [role, , , state] = (await this.command(node, 'ROLE')) as string[];
      if (role === 'slave') return state === 'connected' || undefined;
      return (await this.slots(node)).some((r) => r[2][1] === node.port) || undefined;
    });
  }

  /** The process ids of every running node. */
  pids(): number[] {
    return this.servers.flatMap((s) => (s.pid ? [s.pid] : []));
  }

  /** SIGKILL every node and delete the temp dir. Safe to call twice. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      await Promise.all(this.servers.map((s) => s.kill()));
      await rm(this.root, { recursive: true, force: true });
    })();
    return this.stopped;
  }

  /**
   * One command on a short-lived connection to a node, as its admin: the deployed `admin` user
   * on a deployed cluster, else what `RedisServer.command` logs in as (the password).
   */
  command(node: RedisServer, name: string, ...args: (string | number)[]): Promise<unknown> {
    const { deployed } = this.options;
    return deployed ? commandAsAdmin(node, deployed, name, ...args) : node.command(name, ...args);
  }

  private server(port: number): RedisServer {
    const server = this.servers.find((s) => s.port === port);
    if (!server) throw new Error(`127.0.0.1:${port} is no node of this cluster`);
    return server;
  }

  private async stateOk(node: RedisServer): Promise<boolean> {
    return String(await this.command(node, 'CLUSTER', 'INFO')).includes('cluster_state:ok');
  }

  private async slots(node: RedisServer): Promise<SlotRange[]> {
    return (await this.command(node, 'CLUSTER', 'SLOTS')) as SlotRange[];
  }
}
