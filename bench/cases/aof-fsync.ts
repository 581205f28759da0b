import { jobs } from '@errand/contract';
import { RedisServer } from '@errand/devservers';
import { queuePrefix } from '@errand/queues';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { BenchCase, BenchContext, Figure, Row } from '../case.ts';
import { perSecond, pooled } from '../measure.ts';

const IN_FLIGHT = 64;

/** Jobs added per second by `Queue.add`, 64 in flight, to the Redis of `connection`. */
async function addRate(connection: Redis, prefix: string, count: number): Promise<number> {
  const queue = new Queue(jobs.email.queue, {
    connection,
    prefix: queuePrefix(prefix, jobs.email.queue),
  });
  const data = { to: ['ada@example.com'], subject: 'bench', text: 'x' };
  try {
    const started = performance.now();
    await pooled(Array.from({ length: count }), IN_FLIGHT, async () => {
      await queue.add('bench', data, jobs.email.defaults);
    });
    return perSecond(count, started, performance.now());
  } finally {
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

/**
 * What `appendfsync always` (deploy/redis/redis.conf's documented alternative) costs an
 * enqueue against `everysec` (what it ships), and what AOF costs at all: raw `Queue.add`, 64
 * in flight, the same jobs, alternately, best of runs. `everysec` and `always` on the run's
 * Redis (its fsync policy switched), `appendonly no` on a second redis-server beside it.
 * A figure of Redis and its disk, not of Errand: no target, only the ratio to `everysec`.
 */
export const aofFsync: BenchCase = {
  name: 'aof-fsync',
  async run(ctx) {
    const count = Math.round(20_000 * ctx.scale);
    const bare = await RedisServer.start({ appendonly: false });
    const withoutAof = new Redis(bare.url);
    const sides: [string, () => Promise<Redis>][] = [
      ['everysec', () => fsync(ctx, 'everysec')],
      ['always', () => fsync(ctx, 'always')],
      ['no AOF', async () => withoutAof],
    ];
    const best = new Map<string, number>();
    const notes: string[] = [];
    try {
      for (let run = 0; run < ctx.runs; run++) {
        for (const [name, use] of sides) {
          const rate = await addRate(await use(), `aof-${run}-${name.replace(' ', '-')}`, count);
          notes.push(`run ${run + 1}, ${name}: ${rate} jobs/s`);
          best.set(name, Math.max(best.get(name) ?? 0, rate));
        }
      }
    } finally {
      await fsync(ctx, 'everysec');
      withoutAof.disconnect();
      await bare.dispose();
    }
    const figure = (name: string): Figure => ({
      value: best.get(name) ?? 0,
      unit: 'jobs/s',
      what: `Queue.add, ${IN_FLIGHT} in flight, ${name}`,
    });
    const row = (name: string): Row => ({
      case: `enqueue, ${name} vs everysec`,
      baseline: figure('everysec'),
      errand: figure(name),
      ratio: (best.get(name) ?? 0) / (best.get('everysec') ?? 1),
      notes,
    });
    return [row('always'), row('no AOF')];
  },
};

async function fsync(ctx: BenchContext, policy: 'everysec' | 'always'): Promise<Redis> {
  await ctx.redis.call('CONFIG', 'SET', 'appendfsync', policy);
  return ctx.redis;
}
