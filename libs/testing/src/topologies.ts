import { RedisCluster, SentinelGroup } from '@errand/devservers';
import type { RedisLocation } from '@errand/redis';

/**
 * A replicated Redis for tests that must hold on either kind: a Sentinel group (1 primary,
 * 2 replicas, 3 sentinels) or a Cluster (3 masters, 3 replicas), both loopback processes.
 * The apps find it through `env`; `failover` crashes the node that holds `key` (the primary,
 * or the master of the key's slot) once the replicas hold its writes, and resolves when
 * another node serves the key.
 */
export interface ReplicatedRedis {
  kind: 'sentinel' | 'cluster';
  /** The apps' settings for it (REDIS_SENTINELS… or REDIS_CLUSTER_NODES). */
  env: Record<string, string>;
  /** The same, for a test's own clients: `createRedis(location, 'worker')`. */
  location: RedisLocation;
  failover(key: string): Promise<{ killedAt: number; promotedAt: number }>;
  stop(): Promise<void>;
}

const list = (nodes: readonly { host: string; port: number }[]) =>
  nodes.map(({ host, port }) => `${host}:${port}`).join(',');

export async function startReplicatedRedis(
  kind: ReplicatedRedis['kind'],
): Promise<ReplicatedRedis> {
  if (kind === 'sentinel') {
    const group = await SentinelGroup.start();
    return {
      kind,
      env: { REDIS_SENTINELS: list(group.sentinels), REDIS_SENTINEL_NAME: group.name },
      location: {
        mode: 'sentinel',
        sentinels: [...group.sentinels],
        name: group.name,
        sentinelTls: false,
      },
      async failover() {
        await group.synced();
        const killed = await group.killPrimary();
        const killedAt = Date.now();
        await group.waitForNewPrimary(killed);
        return { killedAt, promotedAt: Date.now() };
      },
      stop: () => group.stop(),
    };
  }
  const cluster = await RedisCluster.start();
  return {
    kind,
    env: { REDIS_CLUSTER_NODES: list(cluster.nodes) },
    location: { mode: 'cluster', nodes: [...cluster.nodes] },
    async failover(key) {
      await cluster.synced();
      const killed = await cluster.killMaster((await cluster.masterOf(key)).node);
      const killedAt = Date.now();
      await cluster.waitForFailover(killed);
      return { killedAt, promotedAt: Date.now() };
    },
    stop: () => cluster.stop(),
  };
}
