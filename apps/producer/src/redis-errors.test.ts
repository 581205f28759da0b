import { HttpProblem } from '@errand/http';
import { startTestRedis, type TestRedis } from '@errand/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisProblem } from './redis-errors.ts';

/** The errors of a real Redis at maxmemory, as the producer's commands meet them. */
describe('redisProblem at maxmemory', () => {
  let server: TestRedis;
  let redis: Redis;
  beforeAll(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url);
    await redis.config('SET', 'maxmemory', '1');
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  const problemOf = async (command: Promise<unknown>) => {
    const error = await command.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    return redisProblem(redis, error) as HttpProblem;
  };

  it('maps a write refused for memory to 503 redis-full', async () => {
    const problem = await problemOf(redis.set('k', 'v'));
    expect(problem).toBeInstanceOf(HttpProblem);
    expect(problem.type).toBe('redis-full');
  });

  it('maps a MULTI aborted because Redis refused a write in it (EXECABORT) to redis-full', async () => {
    const problem = await problemOf(redis.multi().get('a').set('k', 'v').exec());
    expect(problem).toBeInstanceOf(HttpProblem);
    expect(problem.type).toBe('redis-full');
  });

  it('leaves other errors of a command Redis answered as they are', async () => {
    const error = await redis.call('nosuchcommand').catch((e: Error) => e);
    expect(redisProblem(redis, error)).toBe(error);
  });
});
