import { startTestRedis, type TestRedis } from '@errand/testing';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis } from './connection.ts';

/** Auto-pipelining while busy only (`pipelineWhenBusy`), on a real redis-server. */
describe('auto-pipelining while busy', () => {
  let server: TestRedis;
  const clients: Redis[] = [];
  const connect = async (enableAutoPipelining: boolean) => {
    const redis = createRedis(server.url, 'producer', { enableAutoPipelining, lazyConnect: true });
    clients.push(redis);
    await redis.connect();
    return redis;
  };

  beforeAll(async () => {
    server = await startTestRedis({ appendonly: false });
  });
  afterAll(async () => {
    for (const redis of clients) redis.disconnect();
    await server?.stop();
  });

  it('writes a command at once when nothing else is held or in flight', async () => {
    const redis = await connect(true);
    expect(redis.options.enableAutoPipelining).toBe(false);
    const reply = redis.ping();
    // written, not held for the end of the turn
    expect(redis.autoPipelineQueueSize).toBe(0);
    expect(redis.commandQueue.length).toBe(1);
    expect(await reply).toBe('PONG');
  });

  it('batches the commands issued behind one in flight, and answers each in order', async () => {
    const redis = await connect(true);
    await redis.del('count');
    const replies = Array.from({ length: 10 }, () => redis.incr('count'));
    // the first went out alone; the nine behind it wait for the end of the turn, in one batch
    expect(redis.commandQueue.length).toBe(1);
    expect(redis.autoPipelineQueueSize).toBe(9);
    expect(redis.options.enableAutoPipelining).toBe(true);
    expect(await Promise.all(replies)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(redis.options.enableAutoPipelining).toBe(false);
  });

  it('keeps the order of commands issued alone, in bursts and from replies, scripts included', async () => {
    const redis = await connect(true);
    // BullMQ's 64 scripts defined on the connection, as on the producer's
    const queue = new Queue('order', { connection: redis, prefix: 'pipelining' });
    await queue.waitUntilReady();
    await redis.del('order');
    const issued: Promise<number>[] = [];
    const incr = () => issued.push(redis.incr('order'));
    const later: Promise<unknown>[] = [];
    for (let round = 0; round < 40; round++) {
      incr();
      if (round % 3 === 0) for (let i = 0; i < 5; i++) incr();
      // issued from the reply of one still being answered, with others held or in flight
      later.push(
        (issued.at(-1) as Promise<number>).then(() => {
          incr();
          incr();
        }),
      );
      if (round % 4 === 0) await new Promise((resolve) => setImmediate(resolve));
      if (round % 5 === 0) await issued.at(-1);
      if (round % 7 === 0) await queue.add('job', { round });
    }
    await Promise.all(later);
    const replies = await Promise.all(issued);
    expect(replies).toEqual(replies.map((_, i) => i + 1));
    expect(await queue.count()).toBe(6);
    await queue.obliterate({ force: true });
    await queue.close();
  });

  it('takes a script defined while a batch waits into that batch, and answers every call', async () => {
    const redis = await connect(true);
    const first = redis.ping('first');
    // a batch waits behind the command in flight; then a script is defined and called at once
    const second = redis.ping('second');
    redis.defineCommand('echoKey', { numberOfKeys: 1, lua: 'return KEYS[1]' });
    const defined = redis as unknown as { echoKey(key: string): Promise<string> };
    const scripted = defined.echoKey('late');
    const third = redis.ping('third');
    expect(await Promise.all([first, second, scripted, third])).toEqual([
      'first',
      'second',
      'late',
      'third',
    ]);
    // the connection still matches replies to callers
    expect(await Promise.all([redis.ping('after'), defined.echoKey('again')])).toEqual([
      'after',
      'again',
    ]);
  });

  it('leaves a connection without auto-pipelining as it was', async () => {
    const redis = await connect(false);
    const replies = Array.from({ length: 3 }, () => redis.ping());
    expect(redis.autoPipelineQueueSize).toBe(0);
    expect(redis.commandQueue.length).toBe(3);
    expect(redis.options.enableAutoPipelining).toBe(false);
    await Promise.all(replies);
  });
});
