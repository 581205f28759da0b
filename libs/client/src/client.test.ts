import { DEFAULT_DEDUPE_WINDOW_S, DEFAULT_RETENTION_S, makeIngest } from '@errand/analytics';
import { type JobType, jobs } from '@errand/contract';
import { queuePrefix } from '@errand/queues';
import {
  eventually,
  type ProducerProcess,
  startProducerProcess,
  startTestRedis,
  type TestRedis,
} from '@errand/testing';
import { type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, ErrandApiError, type JobEvent } from './index.ts';

const KEY = 'client-test-key-0123456789';
const TINY = 'tiny-test-key-0123456789ab';
const event = (id: string) => ({ id, name: 'signup', timestamp: '2026-01-01T00:00:00Z' });

/** The typed client against a real producer process, a real Redis and a real BullMQ Worker. */
describe('@errand/client', () => {
  let redis: TestRedis;
  let producer: ProducerProcess;
  let api: string;
  let connection: Redis;
  let worker: Worker;
  let analytics: Queue;

  beforeAll(async () => {
    redis = await startTestRedis();
    producer = await startProducerProcess({
      REDIS_URL: redis.url,
      QUEUE_PREFIX: 'client',
      API_KEYS: JSON.stringify([
        { name: 'svc', key: KEY, scopes: ['enqueue', 'read', 'admin'] },
        { name: 'tiny', key: TINY, scopes: ['enqueue'], rateLimit: 1 },
      ]),
    });
    api = producer.api;
    connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    connection.on('error', () => {}); // Redis is killed on purpose below
    analytics = new Queue(jobs.analytics.queue, {
      connection,
      prefix: queuePrefix('client', jobs.analytics.queue),
    });
    // Image jobs report progress, then succeed, or fail for the source key "broken.png".
    worker = new Worker(
      jobs.image.queue,
      async (job: Job) => {
        // Long enough for the test's event stream to be open before the progress, even on a
        // machine busy with other test files: the stream does not replay past events.
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        await job.updateProgress(50);
        if (job.data.source.key === 'broken.png') throw new UnrecoverableError('undecodable');
        return { outputs: [{ key: 'out.png', format: 'png', bytes: 1, width: 1, height: 1 }] };
      },
      { connection, prefix: queuePrefix('client', jobs.image.queue) },
    );
    worker.on('error', () => {});
  });
  afterAll(async () => {
    await worker?.close();
    await analytics?.close();
    connection?.disconnect();
    await producer?.stop();
    await redis?.stop();
  });

  const client = () => createClient({ baseUrl: api, apiKey: KEY });
  const image = (key: string) => ({ source: { key }, outputs: [{ format: 'png' as const }] });
  const drain = async <T extends JobType>(iterator: AsyncIterable<JobEvent<T>>) => {
    const seen: JobEvent<T>[] = [];
    for await (const e of iterator) seen.push(e);
    return seen;
  };

  it('enqueues and reads a job, typed by the contract', async () => {
    const job = await client().enqueue('analytics', { events: [event('e1')] }, { priority: 3 });
    expect(job).toMatchObject({ type: 'analytics', state: 'prioritized', replayed: false });
    const view = await client().get('analytics', job.id);
    expect(view).toMatchObject({ id: job.id, state: 'prioritized', producer: 'svc' });
  });

  it('makes one job of repeats with the same Idempotency-Key, single and batch', async () => {
    const c = client();
    const first = await c.enqueue(
      'analytics',
      { events: [event('k1')] },
      { idempotencyKey: 'k-1' },
    );
    const again = await c.enqueue(
      'analytics',
      { events: [event('k1')] },
      { idempotencyKey: 'k-1' },
    );
    expect(again).toEqual({ ...first, replayed: true });
    const items = [1, 2, 3].map((n) => ({ data: { events: [event(`b${n}`)] }, delay: 60_000 }));
    const batch = await c.enqueueBatch('analytics', items, { idempotencyKey: 'b-1' });
    expect(batch.map((j) => j.state)).toEqual(['delayed', 'delayed', 'delayed']);
    expect(await c.enqueueBatch('analytics', items, { idempotencyKey: 'b-1' })).toEqual(batch);
    expect(await analytics.getJobCountByTypes('delayed')).toBe(3);
  });

  it('iterates the events of a job that completes and of one that fails', async () => {
    const c = client();
    const ok = await c.enqueue('image', image('a.png'));
    const okEvents = await drain(c.events('image', ok.id));
    expect(okEvents.map((e) => e.event)).toEqual(['state', 'progress', 'completed']);
    const done = okEvents.at(-1);
    if (done?.event !== 'completed') throw new Error('no completed event');
    expect(done.data.result?.outputs[0]?.key).toBe('out.png'); // typed as ImageResult

    const bad = await c.enqueue('image', image('broken.png'));
    const badEvents = await drain(c.events('image', bad.id));
    expect(badEvents.at(-1)).toMatchObject({
      event: 'failed',
      data: { failedReason: 'undecodable' },
    });
  });

  it('cancels a delayed job, retries a failed one, and throws problems as ErrandApiError', async () => {
    const c = client();
    const later = await c.enqueue('analytics', { events: [event('c1')] }, { delay: 60_000 });
    await c.cancel('analytics', later.id);
    const gone = await c.get('analytics', later.id).catch((error: unknown) => error);
    expect(gone).toBeInstanceOf(ErrandApiError);
    expect(gone).toMatchObject({ status: 404, code: 'job-not-found' });

    const failing = await c.enqueue('image', image('broken.png'));
    await drain(c.events('image', failing.id));
    expect(await c.retry('image', failing.id)).toMatchObject({ id: failing.id, state: 'waiting' });
    await eventually(async () =>
      (await c.get('image', failing.id)).state === 'failed' ? true : undefined,
    );
    const conflict = await c.cancel('image', failing.id).catch((error: unknown) => error);
    expect(conflict).toMatchObject({ status: 409, code: 'conflict' });
    const denied = await createClient({ baseUrl: api, apiKey: TINY })
      .queues()
      .catch((e: unknown) => e);
    expect(denied).toMatchObject({ status: 403, code: 'forbidden' });
  });

  it('reads analytics reports and event names, typed; a bad query throws its problem', async () => {
    const ingest = makeIngest(connection, {
      prefix: 'client',
      retentionS: DEFAULT_RETENTION_S,
      dedupeWindowS: DEFAULT_DEDUPE_WINDOW_S,
      topProperties: undefined,
    });
    const day = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const at = (hour: number) => `${day}T${String(hour).padStart(2, '0')}:30:00Z`;
    await ingest([
      { id: 'r1', name: 'purchase', userId: 'u1', timestamp: at(9), properties: { plan: 'pro' } },
      { id: 'r2', name: 'purchase', userId: 'u2', timestamp: at(9), properties: { plan: 'pro' } },
      { id: 'r3', name: 'purchase', userId: 'u1', timestamp: at(23), properties: { plan: 'team' } },
    ]);
    const c = client();
    const report = await c.analytics('purchase', {
      from: new Date(`${day}T00:00:00Z`),
      to: `${day}T23:59:00Z`,
      granularity: 'hour',
      top: ['plan'],
      limit: 1,
    });
    expect(report.buckets).toHaveLength(24);
    expect(report.buckets[9]).toEqual({ start: `${day}T09:00:00Z`, count: 2, uniqueUsers: 2 });
    expect(report.total).toEqual({ count: 3, uniqueUsers: 2 });
    expect(report.top.plan).toEqual([{ value: 'pro', count: 2 }]);
    const names = await c.analyticsEvents({ limit: 5 });
    expect(names.events.map((e) => e.name)).toEqual(['purchase']);

    const bad = await c
      .analytics('purchase', { granularity: 'minute', from: `${day}` })
      .catch((e: unknown) => e);
    expect(bad).toMatchObject({ status: 400, code: 'invalid-parameter' });
    expect((bad as ErrandApiError).problem?.errors?.[0]?.path).toBe('to');
  });

  it('waits out a 429 as Retry-After says, and then succeeds', async () => {
    const statuses: number[] = [];
    const tiny = createClient({
      baseUrl: api,
      apiKey: TINY,
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        statuses.push(response.status);
        return response;
      },
    });
    const jobsMade = await Promise.all(
      ['t1', 't2', 't3'].map((id) => tiny.enqueue('analytics', { events: [event(id)] })),
    );
    expect(new Set(jobsMade.map((j) => j.id)).size).toBe(3);
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s === 202)).toHaveLength(3);
  });

  it('retries through a Redis outage with one Idempotency-Key: exactly one job', async () => {
    const statuses: number[] = [];
    const patient = createClient({
      baseUrl: api,
      apiKey: KEY,
      retries: 30,
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        statuses.push(response.status);
        return response;
      },
    });
    await redis.kill();
    const enqueued = patient.enqueue('analytics', { events: [event('outage-1')] });
    await eventually(() => (statuses.includes(503) ? true : undefined));
    await redis.restart();
    const job = await enqueued;
    expect(statuses[0]).toBe(503);
    expect(statuses.at(-1)).toBe(202);
    const all = await eventually(async () =>
      analytics.getJobs(['waiting', 'prioritized', 'delayed']),
    );
    expect(all.filter((j) => j.data.events[0].id === 'outage-1').map((j) => j.id)).toEqual([
      job.id,
    ]);
  });
});
