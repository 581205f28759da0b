import { jobs } from '@errand/contract';
import { queuePrefix } from '@errand/queues';
import {
  eventually,
  type ProducerProcess,
  request,
  startProducerProcess,
  startTestRedis,
  type TestRedis,
} from '@errand/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Redis killed under a running producer process: fast 503s, then recovery without a restart. */
describe('producer process through a Redis outage', () => {
  let redis: TestRedis;
  let producer: ProducerProcess;
  let api: string;

  beforeAll(async () => {
    redis = await startTestRedis();
    producer = await startProducerProcess({
      REDIS_URL: redis.url,
      QUEUE_PREFIX: 'outage',
    });
    api = producer.api;
  });
  afterAll(async () => {
    await producer?.stop();
    await redis?.stop();
  });

  const post = (subject: string) =>
    request(`${api}/v1/jobs/email`, {
      method: 'POST',
      json: { data: { to: 'a@example.com', subject, text: 'x' } },
    });

  it('answers 503 at once while Redis is down and takes jobs again once it is back', async () => {
    expect((await post('before')).status).toBe(202);
    await redis.kill();
    await eventually(async () =>
      (await request(`${api}/readyz`)).status === 503 ? true : undefined,
    );

    for (const path of ['/v1/jobs/email', '/v1/jobs/email/batch']) {
      const started = performance.now();
      const body = path.endsWith('batch')
        ? { jobs: [{ data: { to: 'a@example.com', subject: 'during', text: 'x' } }] }
        : { data: { to: 'a@example.com', subject: 'during', text: 'x' } };
      const refused = await request(`${api}${path}`, { method: 'POST', json: body });
      // The issue asks for 503 within 100 ms; 250 ms leaves room for a loaded test machine
      // while still telling "refused at once" from "held until a Redis timeout" (2 s).
      expect(performance.now() - started).toBeLessThan(250);
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(refused.body.type).toMatch(/redis-unavailable$/);
    }
    expect((await request(`${api}/v1/queues`)).status).toBe(503);
    expect((await request(`${api}/healthz`)).status).toBe(200);

    await redis.restart();
    await eventually(async () => ((await post('after')).status === 202 ? true : undefined), {
      timeoutMs: 15_000,
      what: 'an enqueue accepted after Redis came back',
    });
    expect((await request(`${api}/readyz`)).status).toBe(200);

    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue(jobs.email.queue, {
      connection,
      prefix: queuePrefix('outage', jobs.email.queue),
    });
    try {
      const subjects = (await queue.getJobs(['waiting'])).map((job) => job.data.subject);
      expect(subjects.sort()).toEqual(['after', 'before']); // nothing from the outage
    } finally {
      await queue.close();
      connection.disconnect();
    }
  });

  it('ends open event streams on SIGTERM and exits 0', async () => {
    const created = await request(`${api}/v1/jobs/email`, {
      method: 'POST',
      json: { data: { to: 'a@example.com', subject: 'watched', text: 'x' }, delay: 60_000 },
    });
    const stream = await fetch(`${api}/v1/jobs/email/${created.body.id}/events`);
    expect(stream.status).toBe(200);
    const body = stream.text();
    expect(await producer.stop()).toBe(0);
    expect(await body).toContain('event: state'); // ended by the server, not left hanging
    expect(producer.output()).toContain('stopped');
  });
});
