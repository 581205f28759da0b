import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type RedisServer, SentinelGroup, until } from '@errand/devservers';
import { connectRedis, type RedisClient, type SentinelRedis } from '@errand/redis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The shipped users (deploy/redis/users.acl) under Sentinel: a loopback group whose data nodes
 * and sentinels all start through deploy/redis/entrypoint.sh, so replicas log in to their
 * primary as `replica` and sentinels to every node as `sentinel`. The apps' `errand` user
 * connects through the sentinels as the apps do (connectRedis: the durability check reads
 * the primary and each replica), writes, the primary is killed, and after the failover the
 * same client writes again. Then ACL LOG must be empty on every data node: no user was refused
 * a command, and a user that lacked one (`sentinel` without SLAVEOF, `replica` without
 * REPLCONF) would leave the group without its failover or its replicas. Part of `npm run test:ha`.
 */

const PREFIX = 'errand';
const secret = () => randomBytes(32).toString('hex');
const deployed = {
  prefix: PREFIX,
  password: secret(),
  adminPassword: secret(),
  replicaPassword: secret(),
  sentinelPassword: secret(),
};
const SHIPPED_CONF = join(import.meta.dirname, 'redis.conf');

let group: SentinelGroup;
let errand: RedisClient;
const warnings: string[] = [];

beforeAll(async () => {
  group = await SentinelGroup.start({ deployed });
  const location: SentinelRedis = {
    mode: 'sentinel',
    sentinels: [...group.sentinels],
    name: group.name,
    username: 'errand',
    password: deployed.password,
    sentinelTls: false,
  };
  const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) });
  errand = await connectRedis(location, 'worker', { requireDurable: true, logger });
}, 60_000);
afterAll(async () => {
  errand?.disconnect();
  await group?.stop();
});

/** ACL LOG of each data node, by port; an empty list is a node that refused nothing. */
async function aclLogs(nodes: readonly RedisServer[]) {
  const logs: Record<number, unknown> = {};
  for (const node of nodes) logs[node.port] = await group.command(node, 'ACL', 'LOG');
  return logs;
}
const noDenials = (nodes: readonly RedisServer[]) =>
  Object.fromEntries(nodes.map((node) => [node.port, []]));

/** The users connected to a node, one entry per connection (CLIENT LIST's `user=`). */
async function usersOn(node: RedisServer): Promise<string[]> {
  const list = String(await group.command(node, 'CLIENT', 'LIST'));
  return [...list.matchAll(/ user=(\S+)/g)].map((match) => match[1] ?? '');
}

describe('the shipped users under Sentinel', () => {
  it('lets errand write through the sentinels before and after a failover, with no denial on any node', async () => {
    expect(warnings).toEqual([]); // primary and both replicas read as errand, all durable
    expect(await errand.set(`${PREFIX}:before`, 'queued')).toBe('OK');
    await group.synced();
    const first = await group.primary();
    const users = await usersOn(first);
    expect(users.filter((user) => user === 'replica')).toHaveLength(2); // each replica's link
    expect(users.filter((user) => user === 'sentinel').length).toBeGreaterThanOrEqual(3);
    expect(await aclLogs(group.nodes)).toEqual(noDenials(group.nodes));
    const shipped = await readFile(SHIPPED_CONF, 'utf8');

    const old = await group.killPrimary();
    const promoted = await group.waitForNewPrimary(old);
    expect(await errand.set(`${PREFIX}:after`, 'queued')).toBe('OK'); // the same client
    expect(await group.command(promoted, 'GET', `${PREFIX}:before`)).toBe('queued');
    expect(await group.command(promoted, 'GET', `${PREFIX}:after`)).toBe('queued');

    // The sentinels turn the other replica to the new primary (SLAVEOF, CONFIG REWRITE, CLIENT
    // KILL as `sentinel`), and it syncs with it as `replica`.
    const other = group.nodes.find((node) => node !== old && node !== promoted);
    if (!other) throw new Error('the group has no third data node');
    await until('the other replica to follow the new primary', Date.now() + 20_000, async () => {
      const role = (await group.command(other, 'ROLE')) as [string, string, number, string];
      return (role[2] === promoted.port && role[3] === 'connected') || undefined;
    });
    // CONFIG REWRITE wrote the node's own file, which includes the shipped one, left as it was.
    expect(await readFile(join(other.dir, 'redis.conf'), 'utf8')).toContain(
      `replicaof 127.0.0.1 ${promoted.port}`,
    );
    expect(await readFile(SHIPPED_CONF, 'utf8')).toBe(shipped);

    await group.restart(old); // back as a replica of the new primary, logging in as `replica`
    // The sentinels turn it to the new primary once they see it back: its link comes a moment
    // after it answers (its own AOF has the keys already).
    await until('the old primary to follow the new one', Date.now() + 20_000, async () => {
      const role = (await group.command(old, 'ROLE')) as [string, string, number, string];
      return (role[2] === promoted.port && role[3] === 'connected') || undefined;
    });
    expect(await group.command(old, 'GET', `${PREFIX}:after`)).toBe('queued');
    expect((await usersOn(promoted)).filter((user) => user === 'replica')).toHaveLength(2);
    expect(await aclLogs(group.nodes)).toEqual(noDenials(group.nodes));
  });
});
