import { eventually, request } from '@errand/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProducer } from '../test/app.testkit.ts';

const mail = { to: 'a@example.com', subject: 'Hi', text: 'x' };

/** Never 202 for a job Redis did not take: 503 + Retry-After instead, and recovery by itself. */
describe('backpressure', () => {
  let producer: Awaited<ReturnType<typeof startProducer>>;
  beforeAll(async () => {
    producer = await startProducer('pressure', { maxWaiting: { image: 2 } });
  });
  afterAll(() => producer?.stop());

  const post = (type: string, data: unknown) =>
    request(`${producer.api}/v1/jobs/${type}`, { method: 'POST', json: { data } });

  it('answers 503 fast while Redis is down, turns /readyz 503, and recovers without restart', async () => {
    expect((await post('email', mail)).status).toBe(202);
    await producer.redisServer.kill();
    await eventually(() => (producer.redis.status !== 'ready' ? true : undefined));

    const started = performance.now();
    const refused = await post('email', mail);
    // Fail fast: no offline queue, no waiting on reconnects. The bound is loose on purpose;
    // it only has to tell "answered at once" from "held the request until a timeout".
    expect(performance.now() - started).toBeLessThan(250);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.body.type).toMatch(/redis-unavailable$/);
    expect((await request(`${producer.api}/readyz`)).status).toBe(503);
    expect((await request(`${producer.api}/healthz`)).status).toBe(200);

    await producer.redisServer.restart();
    const accepted = await eventually(
      async () => {
        const answer = await post('email', mail);
        return answer.status === 202 ? answer : undefined;
      },
      { timeoutMs: 15_000, what: 'enqueue after Redis came back' },
    );
    expect(await producer.queues.email.getJob(accepted.body.id)).toBeDefined();
    expect((await request(`${producer.api}/readyz`)).status).toBe(200);
    // Two jobs before and after the outage; the refused one was never added.
    expect(await producer.queues.email.getJobCountByTypes('waiting')).toBe(2);
  });

  it('answers 503 queue-full over the depth limit, for single jobs and batches', async () => {
    const image = { source: { key: 'a.png' }, outputs: [{ format: 'png' }] };
    expect((await post('image', image)).status).toBe(202);
    const batch = await request(`${producer.api}/v1/jobs/image/batch`, {
      method: 'POST',
      json: { jobs: [{ data: image }, { data: image }] },
    });
    expect(batch.status).toBe(503);
    expect((await post('image', image)).status).toBe(202);
    const full = await post('image', image);
    expect(full.status).toBe(503);
    expect(full.body.type).toMatch(/queue-full$/);
    expect(full.headers.get('retry-after')).toBe('5');
    expect(await producer.queues.image.getJobCountByTypes('waiting')).toBe(2);
    expect((await post('email', mail)).status).toBe(202); // other queues are not limited
  });

  it('frees the Idempotency-Key of a request refused as queue-full, for another body at once', async () => {
    const image = (format: string) => ({ source: { key: 'b.png' }, outputs: [{ format }] });
    const send = (data: unknown) =>
      request(`${producer.api}/v1/jobs/image`, {
        method: 'POST',
        headers: { 'idempotency-key': 'full-1' },
        json: { data },
      });
    expect((await send(image('png'))).status).toBe(503); // the queue is still full
    await producer.queues.image.drain();
    const other = await send(image('webp'));
    expect(other.status).toBe(202);
    expect((await producer.queues.image.getJob(other.body.id))?.data.outputs[0].format).toBe(
      'webp',
    );
  });

  it('answers 503 redis-full at maxmemory and leaves neither a job nor a key record', async () => {
    const admin = new Redis(producer.redisServer.url);
    const keysBefore = await admin.dbsize();
    await admin.config('SET', 'maxmemory', '1');
    try {
      const refused = await request(`${producer.api}/v1/jobs/email`, {
        method: 'POST',
        headers: { 'idempotency-key': 'oom-1' },
        json: { data: mail },
      });
      expect(refused.status).toBe(503);
      expect(refused.body.type).toMatch(/redis-full$/);
      expect(refused.headers.get('retry-after')).toBe('5');
      const batch = await request(`${producer.api}/v1/jobs/email/batch`, {
        method: 'POST',
        json: { jobs: [{ data: mail }, { data: mail }] },
      });
      expect(batch.status).toBe(503);
      expect(await admin.dbsize()).toBe(keysBefore);
    } finally {
      await admin.config('SET', 'maxmemory', '0');
    }
    const accepted = await request(`${producer.api}/v1/jobs/email`, {
      method: 'POST',
      headers: { 'idempotency-key': 'oom-1' },
      json: { data: mail },
    });
    expect(accepted.status).toBe(202);
    admin.disconnect();
  });

  it('answers 503 instead of hanging while Redis is frozen, then fails fast until it answers again', async () => {
    expect((await post('email', mail)).status).toBe(202);
    await producer.redisServer.freeze();
    try {
      // A frozen Redis keeps its connections open: only the command timeout ends the wait.
      const [first, second] = await Promise.all([post('email', mail), post('email', mail)]);
      for (const answer of [first, second]) {
        expect(answer.status).toBe(503);
        expect(answer.body.detail).toMatch(/did not answer in time/);
        expect(answer.headers.get('retry-after')).toBe('1');
      }
      // From then on the connection counts as silent: the next request is not sent at all.
      const next = await post('email', mail);
      expect(next.status).toBe(503);
      expect(next.body.detail).toMatch(/stopped answering/);
    } finally {
      await producer.redisServer.thaw();
    }
    const accepted = await eventually(
      async () => {
        const answer = await post('email', mail);
        return answer.status === 202 ? answer : undefined;
      },
      { timeoutMs: 15_000, what: 'enqueue after Redis thawed' },
    );
    expect(await producer.queues.email.getJob(accepted.body.id)).toBeDefined();
  });
});
