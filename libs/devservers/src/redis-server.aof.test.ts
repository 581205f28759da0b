import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisServer } from './redis-server.ts';

/** The harness itself: a real redis-server that can crash and come back on its data. */
describe('RedisServer', () => {
  const servers: RedisServer[] = [];
  const clients: Redis[] = [];
  const start = async (options: Parameters<typeof RedisServer.start>[0]) => {
    const server = await RedisServer.start(options);
    servers.push(server);
    return server;
  };
  const connect = (url: string) => {
    const client = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => null });
    client.on('error', () => {});
    clients.push(client);
    return client;
  };
  afterEach(async () => {
    for (const client of clients.splice(0)) client.disconnect();
    for (const server of servers.splice(0)) await server.dispose();
  });

  it('keeps AOF data across kill -9 and restart, on the same port', async () => {
    const server = await start({ appendfsync: 'always' });
    await connect(server.url).set('job:1', 'queued');
    await server.kill();
    expect(server.running).toBe(false);
    await server.restart();
    expect(await connect(server.url).get('job:1')).toBe('queued');
  });

  it('loses the data without AOF (so the test above can fail)', async () => {
    const server = await start({ appendonly: false });
    await connect(server.url).set('job:1', 'queued');
    await server.kill();
    await server.restart();
    expect(await connect(server.url).get('job:1')).toBeNull();
  });

  it('requires the password it was given; its URL carries it', async () => {
    const server = await start({ password: 's3cret/with:chars' });
    await expect(connect(`redis://127.0.0.1:${server.port}`).ping()).rejects.toThrow(/NOAUTH/);
    expect(await connect(server.url).ping()).toBe('PONG');
  });

  it('deletes the temp dir it made once disposed of, not before', async () => {
    const server = await start({});
    await server.stop();
    expect(existsSync(server.dir)).toBe(true); // restart() needs it
    await server.dispose();
    expect(existsSync(server.dir)).toBe(false);
  });

  it('stops twice safely, and says how to get redis-server when the binary is missing', async () => {
    const server = await start({});
    await server.stop();
    await server.stop();
    await expect(RedisServer.start({ binary: '/nonexistent/redis-server' })).rejects.toThrow(
      /apt install redis-server/,
    );
  });
});
