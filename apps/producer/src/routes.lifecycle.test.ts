import { jobs, jobTypes } from '@errand/contract';
import { queuePrefix, retriesOf } from '@errand/queues';
import { eventually, request } from '@errand/testing';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProducer } from '../test/app.testkit.ts';

const email = (n: number | string) => ({ to: `u${n}@example.com`, subject: `S ${n}`, text: 'x' });

/** Batch, cancel, retry and queue depth, against the app and a real Redis (and a real Worker). */
describe('job lifecycle endpoints', () => {
  let producer: Awaited<ReturnType<typeof startProducer>>;
  let api: string;
  beforeAll(async () => {
    producer = await startProducer('lifecycle');
    api = producer.api;
  });
  afterAll(() => producer?.stop());

  const post = (path: string, json: unknown) => request(`${api}${path}`, { method: 'POST', json });
  const waiting = () =>
    producer.queues.email.getJobCountByTypes('waiting', 'delayed', 'prioritized');

  it('adds a batch of 1,000 at once, refuses 1,001, and is all-or-none on a bad item', async () => {
    const before = await waiting();
    const ok = await post('/v1/jobs/email/batch', {
      jobs: Array.from({ length: 1000 }, (_, n) => ({ data: email(n) })),
    });
    expect(ok.status).toBe(202);
    expect(ok.body.jobs).toHaveLength(1000);
    expect(new Set(ok.body.jobs.map((j: { id: string }) => j.id)).size).toBe(1000);
    expect(await waiting()).toBe(before + 1000);

    const tooMany = await post('/v1/jobs/email/batch', {
      jobs: Array.from({ length: 1001 }, (_, n) => ({ data: email(n) })),
    });
    expect(tooMany.status).toBe(400);
    const oneBad = Array.from({ length: 10 }, (_, n) => ({ data: email(n) }));
    oneBad[5] = { data: { ...email(5), to: 'not an address' } };
    const bad = await post('/v1/jobs/email/batch', { jobs: oneBad });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toEqual(['jobs.5.data.to']);
    expect(await waiting()).toBe(before + 1000);
    await producer.queues.email.drain(true);
  });

  it('cancels waiting, delayed and prioritized jobs; a cancelled job is gone', async () => {
    const now = await post('/v1/jobs/email', { data: email('c1') });
    const later = await post('/v1/jobs/email', { data: email('c2'), delay: 60_000 });
    const urgent = await post('/v1/jobs/email', { data: email('c3'), priority: 1 });
    expect(later.body.state).toBe('delayed');
    expect(urgent.body.state).toBe('prioritized');
    for (const id of [now.body.id, later.body.id, urgent.body.id]) {
      const cancelled = await request(`${api}/v1/jobs/email/${id}`, { method: 'DELETE' });
      expect(cancelled).toMatchObject({ status: 200, body: { id, state: 'cancelled' } });
      expect((await request(`${api}/v1/jobs/email/${id}`)).status).toBe(404);
      expect((await request(`${api}/v1/jobs/email/${id}`, { method: 'DELETE' })).status).toBe(404);
    }
  });

  it('refuses to cancel a running job (409), retries only failed ones', async () => {
    let release: () => void = () => {};
    const connection = new Redis(producer.redisServer.url, { maxRetriesPerRequest: null });
    const worker = new Worker(
      jobs.email.queue,
      async (job: Job) => {
        if (job.data.subject === 'S fail') throw new UnrecoverableError('boom');
        await new Promise<void>((resolve) => {
          release = resolve;
        });
      },
      { connection, prefix: queuePrefix('lifecycle', jobs.email.queue) },
    );
    try {
      const running = await post('/v1/jobs/email', { data: email('run') });
      await eventually(async () =>
        (await producer.queues.email.getJobState(running.body.id)) === 'active' ? true : undefined,
      );
      const conflict = await request(`${api}/v1/jobs/email/${running.body.id}`, {
        method: 'DELETE',
      });
      expect(conflict.status).toBe(409);
      expect(conflict.body.type).toMatch(/conflict$/);
      expect((await post(`/v1/jobs/email/${running.body.id}/retry`, {})).status).toBe(409);
      release();

      const failing = await post('/v1/jobs/email', { data: email('fail') });
      await eventually(async () =>
        (await producer.queues.email.getJobState(failing.body.id)) === 'failed' ? true : undefined,
      );
      const retried = await post(`/v1/jobs/email/${failing.body.id}/retry`, {});
      expect(retried).toMatchObject({
        status: 202,
        body: { id: failing.body.id, state: 'waiting' },
      });
      await eventually(async () =>
        (await producer.queues.email.getJobState(failing.body.id)) === 'failed' ? true : undefined,
      );
      // It ran again (a second try in all), with a fresh budget of attempts.
      expect((await request(`${api}/v1/jobs/email/${failing.body.id}`)).body.attemptsMade).toBe(2);
      // Counted as retried by hand, so its next outcome is a new webhook event.
      const job = await producer.queues.email.getJob(failing.body.id);
      expect(await retriesOf(producer.redis, job as NonNullable<typeof job>)).toBe(1);
      expect((await post('/v1/jobs/email/999999/retry', {})).status).toBe(404);
    } finally {
      await worker.close();
      connection.disconnect();
    }
  });

  it('reports queue depth by state, paused, and the age of the oldest waiting job', async () => {
    await post('/v1/jobs/image', {
      data: { source: { key: 'a.png' }, outputs: [{ format: 'png' }] },
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const { status, body } = await request(`${api}/v1/queues`);
    expect(status).toBe(200);
    // every job type of the contract, in its order (the contract test pins the list)
    expect(body.queues.map((q: { type: string }) => q.type)).toEqual(jobTypes);
    const image = body.queues[1];
    expect(image).toMatchObject({
      queue: 'image',
      paused: false,
      counts: { waiting: 1, active: 0 },
    });
    expect(image.oldestWaitingSeconds).toBeGreaterThan(0);
    expect(body.queues[2].oldestWaitingSeconds).toBe(0);
  });
});
