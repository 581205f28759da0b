import { jobs } from '@errand/contract';
import { startTestRedis, type TestRedis } from '@errand/testing';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeQueues, openQueues, type Queues } from './queues.ts';
import { type Alongside, addAlongside } from './transactional-adds.ts';

const mails = (count: number, tag: string) =>
  Array.from({ length: count }, (_, n) => ({
    name: 'test',
    data: { to: `u${n}@example.com`, subject: `${tag} ${n}`, text: 'x'.repeat(400) },
    opts: {},
  }));

/**
 * Count the queue's waiting jobs from another connection, as fast as Redis answers, while
 * `adding` runs; resolves with every count seen.
 */
async function countsDuring(redis: Redis, queue: Queue, adding: Promise<unknown>) {
  const seen = new Set<number>();
  let done = false;
  const finished = adding.finally(() => {
    done = true;
  });
  while (!done) seen.add(await redis.llen(`${queue.opts.prefix}:${queue.name}:wait`));
  await finished;
  return seen;
}

describe('the queues of openQueues', () => {
  let server: TestRedis;
  let redis: Redis;
  let observer: Redis;
  let queues: Queues;
  beforeAll(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url, { enableAutoPipelining: true });
    observer = new Redis(server.url);
    queues = openQueues(redis, 'atomic');
  });
  afterAll(async () => {
    await closeQueues(queues);
    redis.disconnect();
    observer.disconnect();
    await server?.stop();
  });

  it('addBulk adds a batch as one transaction: no other client ever sees part of it', async () => {
    const queue = queues.email;
    for (const round of [1, 2, 3]) {
      const seen = await countsDuring(
        observer,
        queue,
        queue.addBulk(mails(1000, `round ${round}`)),
      );
      const before = (round - 1) * 1000;
      // Only "none yet" and "all of it"; BullMQ 6's addBulk (a pipeline) shows counts between.
      expect([...seen].filter((count) => count !== before && count !== before + 1000)).toEqual([]);
    }
    expect(await queue.getJobCountByTypes('waiting')).toBe(3000);
  });

  it('addBulk applies the queue defaults, keeps given ids, and reports ids as BullMQ does', async () => {
    const queue = queues.image;
    const image = { source: { key: 'a.png' }, outputs: [{ format: 'png' }] };
    const added = await queue.addBulk([
      { name: 'test', data: image, opts: {} },
      { name: 'test', data: image, opts: { jobId: 'mine-1', attempts: 9 } },
      { name: 'test', data: image, opts: { delay: 60_000 } },
    ]);
    const ids = added.map((job) => String(job.id));
    expect(ids[1]).toBe('mine-1');
    expect(ids[0]).toMatch(/^\d+$/); // BullMQ's own sequence, as a single add gets
    expect(new Set(ids).size).toBe(3);
    const [first, mine, later] = await Promise.all(ids.map((id) => queue.getJob(id)));
    expect(first?.opts.attempts).toBe(jobs.image.defaults.attempts);
    expect(first?.opts.backoff).toEqual(jobs.image.defaults.backoff);
    expect(mine?.opts.attempts).toBe(9);
    expect(await later?.getState()).toBe('delayed');
    // The same id again adds nothing new
    await queue.addBulk([{ name: 'test', data: image, opts: { jobId: 'mine-1' } }]);
    expect(await queue.getJobCountByTypes('waiting', 'delayed')).toBe(3);
  });

  it('addAlongside runs its commands in the MULTI of the add: replies before, writes after', async () => {
    const queue = queues.analytics;
    const data = {
      events: [{ id: 'e1', name: 'signup', userId: 'u1', timestamp: new Date().toISOString() }],
    };
    const run = async (marker: string) => {
      const alongside: Alongside = {
        before: [['exists', queue.toKey('along-1')]],
        after: [['set', 'atomic:marker', marker]],
      };
      const job = await addAlongside(alongside, () =>
        queue.add('test', data, { jobId: 'along-1' }),
      );
      return { id: job.id, existed: alongside.replies?.[0] };
    };
    expect(await run('first')).toEqual({ id: 'along-1', existed: 0 });
    expect(await run('second')).toEqual({ id: 'along-1', existed: 1 });
    expect(await observer.get('atomic:marker')).toBe('second');
    expect(await queue.getJobCountByTypes('waiting')).toBe(1);
    // Outside addAlongside a single add is BullMQ's own script call, as before.
    const plain = await queue.add('test', data);
    expect(await queue.getJobState(String(plain.id))).toBe('waiting');
  });
});
