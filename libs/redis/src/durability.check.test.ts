import { RedisServer } from '@errand/devservers';
import { createLogger } from '@errand/observability';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, RedisUnreachableError } from './connect.ts';
import { checkDurability, inspectDurability, RedisNotDurableError } from './durability.ts';

/** The start-up check every app runs, against real redis-servers configured each way. */
describe('Redis durability check', () => {
  const servers: Record<string, RedisServer> = {};
  const clients: Redis[] = [];
  const client = (name: string) => {
    const redis = new Redis((servers[name] as RedisServer).url);
    clients.push(redis);
    return redis;
  };

  beforeAll(async () => {
    servers.durable = await RedisServer.start({});
    servers.volatile = await RedisServer.start({ appendonly: false });
    servers.evicting = await RedisServer.start({ maxmemoryPolicy: 'allkeys-lru' });
  });
  afterAll(async () => {
    for (const redis of clients) redis.disconnect();
    await Promise.all(Object.values(servers).map((server) => server.dispose()));
  });

  it('passes AOF with noeviction, and reports the fsync policy', async () => {
    const report = await inspectDurability(client('durable'));
    expect(report).toMatchObject({ appendonly: true, maxmemoryPolicy: 'noeviction', problems: [] });
  });

  it('names the fix for AOF off and for an evicting policy', async () => {
    expect((await inspectDurability(client('volatile'))).problems.join()).toContain(
      'appendonly yes',
    );
    expect((await inspectDurability(client('evicting'))).problems.join()).toContain(
      'maxmemory-policy noeviction',
    );
  });

  it('refuses, or only warns when durability is not required', async () => {
    const refused = checkDurability(client('volatile'), { require: true, warn: () => {} });
    await expect(refused).rejects.toThrow(RedisNotDurableError);
    await expect(refused).rejects.toThrow(/REDIS_REQUIRE_DURABLE=false/);
    const warnings: string[] = [];
    await checkDurability(client('volatile'), { require: false, warn: (m) => warnings.push(m) });
    expect(warnings.join()).toContain('appendonly yes');
  });

  it('says what to do when nothing answers', async () => {
    const { freePort } = await import('@errand/devservers');
    const url = `redis://127.0.0.1:${await freePort()}`;
    const attempt = connectRedis(url, 'producer', {
      requireDurable: true,
      logger: createLogger('test', 'silent'),
    });
    await expect(attempt).rejects.toThrow(RedisUnreachableError);
    await expect(attempt).rejects.toThrow(/REDIS_URL/);
  });
});
