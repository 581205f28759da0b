import { RedisCluster, type RedisServer, randomSecrets, until } from '@errand/devservers';
import { queuePrefix } from '@errand/queues';
import { type ClusterRedis, connectRedis, type RedisClient } from '@errand/redis';
import { Queue, Worker } from 'bullmq';
import { Cluster } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The shipped users (deploy/redis/users.acl) on a Redis Cluster: a loopback cluster (3 masters,
 * 3 replicas) whose nodes all start through deploy/redis/entrypoint.sh with
 * ERRAND_REDIS_REPLICATION=cluster, so replicas log in to their masters as `replica`. The apps'
 * `errand` user connects as the apps do (connectRedis: the Cluster client reads the slot map,
 * and the durability check reads every master and replica), BullMQ queues in two slots on two
 * masters take and run jobs, a key of a slot being moved is written, the master of one queue is
 * killed, and after its replica took over the same clients add and run jobs again; then the
 * whole cluster restarts and every job is still there. After each step ACL LOG must be empty on
 * every node: no user was refused a command. A user that lacked one (`errand` without CLUSTER
 * SLOTS, ASKING or READONLY, `replica` without PSYNC, `default` without the rights the AOF
 * replay is checked against) would leave the apps without their cluster, a master without its
 * replica, or a restarted node without its jobs. Part of `npm run test:ha`.
 */

const PREFIX = 'errand';
const deployed = randomSecrets(PREFIX);
/** Two of the apps' queues, whose hash tags fall on different masters (checked below). */
const QUEUES = ['email', 'analytics'] as const;
type QueueName = (typeof QUEUES)[number];

let cluster: RedisCluster;
let producer: RedisClient;
let worker: RedisClient;
const queues = new Map<QueueName, Queue>();
const workers: Worker[] = [];
const completed: string[] = [];
const warnings: string[] = [];

beforeAll(async () => {
  cluster = await RedisCluster.start({ deployed });
  // CLUSTER SLOTS names a replica only once its replication offset moved: until then the
  // client's slot map, and so the durability check, would leave the replicas out.
  await until('every node to name every replica in its slot map', Date.now() + 20_000, async () => {
    for (const node of cluster.processes) {
      const ranges = (await cluster.command(node, 'CLUSTER', 'SLOTS')) as unknown[][];
      if (ranges.some((range) => range.length !== 4)) return undefined;
    }
    return true;
  });
  const location: ClusterRedis = {
    mode: 'cluster',
    nodes: [...cluster.nodes],
    username: 'errand',
    password: deployed.password,
  };
  const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) });
  producer = await connectRedis(location, 'producer', { requireDurable: true, logger });
  worker = await connectRedis(location, 'worker', { requireDurable: true, logger });
  for (const name of QUEUES) {
    const prefix = queuePrefix(PREFIX, name);
    const added = new Queue(name, { connection: producer, prefix });
    const consumer = new Worker(name, async (job) => `${job.name} done`, {
      connection: worker,
      prefix,
    });
    consumer.on('completed', (job) => completed.push(`${name}/${job.name}`));
    // While a master is away their commands fail (MOVED, CLUSTERDOWN) and are tried again.
    added.on('error', () => {});
    consumer.on('error', () => {});
    queues.set(name, added);
    workers.push(consumer);
  }
}, 60_000);
afterAll(async () => {
  await Promise.all(workers.map((consumer) => consumer.close(true)));
  await Promise.all([...queues.values()].map((queue) => queue.close()));
  producer?.disconnect();
  worker?.disconnect();
  await cluster?.stop();
});

function queue(name: QueueName): Queue {
  const found = queues.get(name);
  if (!found) throw new Error(`no queue ${name}`);
  return found;
}

/**
 * Add a job (again after a refusal, as a client of the API does after a 503 while a master is
 * away) and wait until a worker has completed it.
 */
async function run(name: QueueName, job: string) {
  await until(`${name} to take ${job}`, Date.now() + 20_000, () => queue(name).add(job, {}));
  await until(`${name}/${job} to complete`, Date.now() + 20_000, () =>
    completed.includes(`${name}/${job}`) ? true : undefined,
  );
}

/** ACL LOG of each running node, by port; an empty list is a node that refused nothing. */
async function aclLogs() {
  const logs: Record<number, unknown> = {};
  for (const node of cluster.processes.filter((n) => n.running)) {
    logs[node.port] = await cluster.command(node, 'ACL', 'LOG');
  }
  return logs;
}
const noDenials = (nodes: readonly RedisServer[]) =>
  Object.fromEntries(nodes.filter((n) => n.running).map((node) => [node.port, []]));

/**
 * A slot half moved from its master to another (resharding): the master answers ASK for a key
 * it does not hold, and the client sends ASKING, then the command, to the other. The slot is
 * given back afterwards.
 */
async function writeWhileMoving(client: Cluster) {
  const key = `${PREFIX}:{moving}:probe`;
  const from = (await cluster.masterOf(key)).node;
  const slot = Number(await cluster.command(from, 'CLUSTER', 'KEYSLOT', key));
  const to = (await cluster.masters()).find((master) => master.node !== from)?.node;
  if (!to) throw new Error('the cluster has one master');
  const id = async (node: RedisServer) => String(await cluster.command(node, 'CLUSTER', 'MYID'));
  await cluster.command(to, 'CLUSTER', 'SETSLOT', slot, 'IMPORTING', await id(from));
  await cluster.command(from, 'CLUSTER', 'SETSLOT', slot, 'MIGRATING', await id(to));
  try {
    expect(await client.set(key, 'moving')).toBe('OK');
    expect(await client.get(key)).toBe('moving');
    expect(await client.del(key)).toBe(1);
  } finally {
    for (const node of [from, to])
      await cluster.command(node, 'CLUSTER', 'SETSLOT', slot, 'STABLE');
  }
}

describe('the shipped users on a Redis Cluster', () => {
  it('lets errand run BullMQ queues on two masters before and after a failover, with no denial on any node', async ({
    annotate,
  }) => {
    expect(warnings).toEqual([]); // every master and replica read as errand, all durable
    if (!(producer instanceof Cluster)) throw new Error('connectRedis made no Cluster client');
    expect(producer.nodes('master')).toHaveLength(3);
    expect(producer.nodes('slave')).toHaveLength(3); // so the durability check read them
    const [emailMaster, analyticsMaster] = await Promise.all(
      QUEUES.map((name) => cluster.masterOf(queuePrefix(PREFIX, name))),
    );
    if (!emailMaster || !analyticsMaster) throw new Error('a queue has no master');
    expect(emailMaster.node.port).not.toBe(analyticsMaster.node.port);

    for (const name of QUEUES) await run(name, 'before');
    for (const { node } of await cluster.masters()) {
      const clients = String(await cluster.command(node, 'CLIENT', 'LIST'));
      expect(clients.match(/ user=replica /g)).toHaveLength(1); // its replica's link
    }
    await writeWhileMoving(producer);
    expect(await aclLogs()).toEqual(noDenials(cluster.processes));

    await cluster.synced();
    const killedAt = Date.now();
    const killed = await cluster.killMaster(emailMaster.node);
    const promoted = await cluster.waitForFailover(killed);
    const promotedAfter = Date.now() - killedAt;
    for (const name of QUEUES) await run(name, 'after'); // the same clients and workers
    await annotate(
      `kill -9 → replica promoted ${promotedAfter} ms, → both queues ran a new job ${Date.now() - killedAt} ms`,
    );
    expect(await queue('email').getJobCounts('completed')).toEqual({ completed: 2 });
    expect(await aclLogs()).toEqual(noDenials(cluster.processes));

    // The killed master replays its AOF and comes back as a replica of the node that took its
    // slots, logging in to it as `replica`.
    await cluster.restart(killed.node);
    const clients = String(await cluster.command(promoted, 'CLIENT', 'LIST'));
    expect(clients.match(/ user=replica /g)).toHaveLength(1);
    await run('email', 'rejoined');
    expect(await aclLogs()).toEqual(noDenials(cluster.processes));
  });

  it('keeps every job when the whole cluster restarts and each master replays its AOF', async () => {
    const counts = async () =>
      Promise.all(QUEUES.map((name) => queue(name).getJobCounts('completed', 'delayed')));
    for (const name of QUEUES) await queue(name).add('later', {}, { delay: 60_000 });
    const before = await counts();
    expect(before.map((count) => count.delayed)).toEqual([1, 1]);
    await cluster.synced();
    const nodes = cluster.processes;
    await Promise.all(nodes.map((node) => node.stop())); // SIGTERM: each flushes its AOF
    await Promise.all(nodes.map((node) => cluster.restart(node)));
    // Each BullMQ script's writes are a transaction in the AOF, replayed as Redis's own client.
    expect(await until('the producer to be back', Date.now() + 20_000, counts)).toEqual(before);
    expect(await aclLogs()).toEqual(noDenials(nodes));
    await run('analytics', 'restarted');
  });
});
