import { jobs } from '@errand/contract';
import type { ClusterMaster, RedisCluster } from '@errand/devservers';
import { queuePrefix } from '@errand/queues';
import { type FailoverSide, runFailover } from '../failover.ts';
import { Platform } from '../platform.ts';
import type { Scenario } from '../scenario.ts';

/**
 * `cluster-node-timeout`: 2 s, above RedisCluster's 1 s test value, which a node busy
 * fsyncing every write (`always`) on this 2-core machine could miss. Not 5 s as R8's Sentinel:
 * a replica's first election then timed out and the next came only after twice the timeout
 * (`failover-auth-timeout`), the master replaced 21 s after the kill.
 */
const NODE_TIMEOUT_MS = 2_000;

/** The master killed on each platform: its slots tell which node took them. */
const killedMasters = new WeakMap<Platform<RedisCluster>, ClusterMaster>();

const cluster: FailoverSide<Platform<RedisCluster>> = {
  id: 'R9',
  run: 'r9',
  node: 'master',
  stops: 'analytics',
  start: (options) => Platform.startOnCluster('r9', options, { nodeTimeoutMs: NODE_TIMEOUT_MS }),
  /**
   * The master of the analytics queue, most of the run's jobs. Its event name's counts may be
   * on another master; there they survive the kill, counted once (the dedupe set is beside
   * them), so what the run judges of events holds either way.
   */
  async target(platform) {
    const key = `${queuePrefix(platform.prefix, jobs.analytics.queue)}:x`;
    const master = await platform.redis.masterOf(key);
    killedMasters.set(platform, master);
    return { primary: master.node, replicas: await platform.redis.replicasOf(master.node) };
  },
  async promoted(platform) {
    const killed = killedMasters.get(platform);
    if (!killed) throw new Error('R9: no master was killed');
    return platform.redis.waitForFailover(killed, 30_000);
  },
  /** One failover: the killed master's slots went to one node, which still holds them. */
  async switches(platform) {
    const killed = killedMasters.get(platform);
    if (!killed) return [];
    const [slot] = killed.slots[0] ?? [0];
    const owners = (await platform.redis.masters())
      .filter((m) => m.slots.some(([start, end]) => start <= slot && slot <= end))
      .map((m) => m.node.port);
    return owners.map((port) => `slot ${slot} of ${killed.node.port} held by ${port}`);
  },
  stop: (platform) => platform.stop(),
};

/**
 * R9: `kill -9` the master of the analytics queue's slot in a Cluster (3 masters, a replica
 * each, every node under `appendfsync always`) halfway through a mixed run; its replica takes
 * its slots. The other masters' queues go on meanwhile. What is promised and how losses are
 * told apart: `runFailover` (chaos/failover.ts). Full run: 20,000 jobs; --quick: 2,000.
 */
export const clusterFailover: Scenario = {
  id: 'R9',
  title: 'kill -9 a Cluster master (appendfsync always) during a mixed run',
  run: (ctx) => runFailover(cluster, ctx),
};
