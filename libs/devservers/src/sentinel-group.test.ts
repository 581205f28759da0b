import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { freePort, isListening } from './ports.ts';
import { SentinelGroup } from './sentinel-group.ts';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The harness itself: a real Sentinel group whose primary can crash and be replaced. */
describe('SentinelGroup', () => {
  it('takes writes through Sentinel, keeps a synced write across kill -9 of the primary, and stops every process', async ({
    annotate,
  }) => {
    const password = 's3cret "quoted"';
    const group = await SentinelGroup.start({ password });
    const client = new Redis({ sentinels: [...group.sentinels], name: group.name, password });
    client.on('error', () => {});
    try {
      for (const node of group.nodes) {
        expect(await node.command('CONFIG', 'GET', 'appendonly')).toEqual(['appendonly', 'yes']);
        expect(await node.command('CONFIG', 'GET', 'maxmemory-policy')).toEqual([
          'maxmemory-policy',
          'noeviction',
        ]);
      }
      await client.set('job:1', 'queued');
      expect(await client.wait(1, 1_000)).toBeGreaterThanOrEqual(1);

      const killedAt = Date.now();
      const old = await group.killPrimary();
      expect(group.nodes).toContain(old);
      const promoted = await group.waitForNewPrimary(old);
      const promotedAfter = Date.now() - killedAt;
      await client.set('job:2', 'queued'); // the same client, not recreated
      const writingAfter = Date.now() - killedAt;
      await annotate(
        `kill -9 → new primary ${promotedAfter} ms, → client writes ${writingAfter} ms`,
      );
      expect(promoted).not.toBe(old);
      expect(await client.get('job:1')).toBe('queued');
      expect(await promoted.command('GET', 'job:2')).toBe('queued');

      await group.restart(old);
      expect(((await old.command('ROLE')) as string[])[0]).toBe('slave');
      expect(await old.command('GET', 'job:2')).toBe('queued');
      expect(await group.primary()).toBe(promoted);
    } finally {
      client.disconnect();
      const pids = group.pids();
      expect(pids).toHaveLength(6);
      await group.stop();
      await group.stop();
      expect(pids.filter(alive)).toEqual([]);
    }
  });

  it('runs as deployed: the shipped users, replicas and sentinels logging in as their own', async () => {
    const secret = (c: string) => c.repeat(32);
    const deployed = {
      prefix: 'errand',
      password: secret('e'),
      adminPassword: secret('a'),
      replicaPassword: secret('r'),
      sentinelPassword: secret('s'),
    };
    const group = await SentinelGroup.start({ deployed });
    try {
      const primary = await group.primary();
      const [, flags] = (await group.command(primary, 'ACL', 'GETUSER', 'default')) as unknown[];
      expect(flags).toContain('off');
      const clients = String(await group.command(primary, 'CLIENT', 'LIST'));
      expect(clients.match(/ user=replica /g)).toHaveLength(2);
      expect(clients).toMatch(/ user=sentinel /);
      expect(await group.command(primary, 'ACL', 'WHOAMI')).toBe('admin');
      for (const node of group.nodes) {
        const users = (await group.command(node, 'ACL', 'USERS')) as string[];
        expect(users.sort()).toEqual(['admin', 'default', 'errand', 'replica', 'sentinel']);
      }
    } finally {
      await group.stop();
    }
  });

  it('says how to get redis-server when the binary is missing', async () => {
    await expect(SentinelGroup.start({ binary: '/nonexistent/redis-server' })).rejects.toThrow(
      /apt install redis-server/,
    );
  });

  it('names a clashing port and kills every process it had started', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const clash = (blocker.address() as { port: number }).port;
    const ports = new Set<number>();
    while (ports.size < 5) ports.add(await freePort());
    const started = [...ports];
    try {
      // The last sentinel's port: the three data nodes and two sentinels start first.
      await expect(SentinelGroup.start({ ports: [...started, clash] })).rejects.toThrow(
        new RegExp(`sentinel 127.0.0.1:${clash} did not start.*Address already in use`, 's'),
      );
      for (const port of started) expect(await isListening(port)).toBe(false);
    } finally {
      blocker.close();
    }
  });
});
