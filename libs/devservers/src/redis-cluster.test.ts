import { createServer } from 'node:net';
import { Cluster } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { randomSecrets } from './deployed-group.ts';
import { freeClusterPorts, isListening } from './ports.ts';
import { RedisCluster } from './redis-cluster.ts';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The harness itself: a real Redis Cluster whose masters can crash and be replaced. */
describe('RedisCluster', () => {
  it('takes writes through a Cluster client, keeps a synced write across kill -9 of its master, and stops every process', async ({
    annotate,
  }) => {
    const password = 's3cret';
    const cluster = await RedisCluster.start({ password });
    const client = new Cluster([...cluster.nodes], { redisOptions: { password } });
    client.on('error', () => {});
    try {
      for (const node of cluster.processes) {
        expect(await node.command('CONFIG', 'GET', 'appendonly')).toEqual(['appendonly', 'yes']);
        expect(await node.command('CONFIG', 'GET', 'cluster-enabled')).toEqual([
          'cluster-enabled',
          'yes',
        ]);
      }
      const masters = await cluster.masters();
      expect(masters).toHaveLength(3);

      // WAIT goes on the connection that took the write: the pipeline keeps both on one node.
      const written = await client.pipeline().set('{email}:1', 'queued').wait(1, 1_000).exec();
      expect(written).toEqual([
        [null, 'OK'],
        [null, expect.any(Number)],
      ]);
      expect(written?.[1]?.[1]).toBeGreaterThanOrEqual(1);

      const slot = Number(await client.cluster('KEYSLOT', '{email}:1'));
      const owner = masters.find((m) => m.slots.some(([from, to]) => from <= slot && slot <= to));
      const killedAt = Date.now();
      const killed = await cluster.killMaster(owner?.node);
      expect(killed.node).toBe(owner?.node);
      const promoted = await cluster.waitForFailover(killed);
      const promotedAfter = Date.now() - killedAt;
      await client.set('{email}:2', 'queued'); // the same client, not recreated
      const writingAfter = Date.now() - killedAt;
      await annotate(
        `kill -9 → replica promoted ${promotedAfter} ms, → client writes ${writingAfter} ms`,
      );
      expect(await client.get('{email}:1')).toBe('queued');
      expect(await promoted.command('GET', '{email}:2')).toBe('queued');

      await cluster.restart(killed.node);
      expect(((await killed.node.command('ROLE')) as string[])[0]).toBe('slave');
    } finally {
      client.disconnect();
      const pids = cluster.pids();
      expect(pids).toHaveLength(6);
      await cluster.stop();
      await cluster.stop();
      expect(pids.filter(alive)).toEqual([]);
    }
  });

  it('runs as deployed: the shipped users, replicas logging in to their masters as replica, its own commands as admin', async () => {
    const deployed = randomSecrets();
    const cluster = await RedisCluster.start({ deployed });
    try {
      const masters = await cluster.masters();
      expect(masters).toHaveLength(3);
      for (const { node } of masters) {
        const clients = String(await cluster.command(node, 'CLIENT', 'LIST'));
        expect(clients.match(/ user=replica /g)).toHaveLength(1);
      }
      for (const node of cluster.processes) {
        expect(await cluster.command(node, 'ACL', 'WHOAMI')).toBe('admin');
        const users = (await cluster.command(node, 'ACL', 'USERS')) as string[];
        expect(users.sort()).toEqual(['admin', 'default', 'errand', 'replica']);
        const [, flags] = (await cluster.command(node, 'ACL', 'GETUSER', 'default')) as unknown[];
        expect(flags).toContain('off');
      }
    } finally {
      await cluster.stop();
    }
  });

  it('says how to get redis-server or redis-cli when one is missing, and kills the nodes it started', async () => {
    await expect(RedisCluster.start({ binary: '/nonexistent/redis-server' })).rejects.toThrow(
      /apt install redis-server/,
    );
    const ports = await freeClusterPorts(6);
    await expect(
      RedisCluster.start({ ports, cliBinary: '/nonexistent/redis-cli' }),
    ).rejects.toThrow(/redis-cli was not found/);
    for (const port of ports) expect(await isListening(port)).toBe(false);
  });

  it('names a clashing port and kills every process it had started', async () => {
    const ports = await freeClusterPorts(6);
    const clash = ports[5] as number;
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(clash, '127.0.0.1', resolve));
    try {
      await expect(RedisCluster.start({ ports })).rejects.toThrow(
        new RegExp(`node 127.0.0.1:${clash} did not start.*Address already in use`, 's'),
      );
      for (const port of ports.slice(0, 5)) expect(await isListening(port)).toBe(false);
    } finally {
      blocker.close();
    }
  });
});
