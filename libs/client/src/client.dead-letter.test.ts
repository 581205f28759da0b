import { jobs } from '@errand/contract';
import { queuePrefix } from '@errand/queues';
import {
  eventually,
  type ProducerProcess,
  startProducerProcess,
  startTestRedis,
  type TestRedis,
} from '@errand/testing';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, ErrandApiError } from './index.ts';

const KEY = 'dead-letter-key-0123456789';
const READER = 'dead-letter-reader-0123456';
const mail = (subject: string) => ({ to: 'a@example.com', subject, text: 'x' });

/** The client's dead-letter calls against a real producer process, Redis and BullMQ Worker. */
describe('@errand/client dead letter', () => {
  let redis: TestRedis;
  let producer: ProducerProcess;
  let connection: Redis;
  let worker: Worker;

  beforeAll(async () => {
    redis = await startTestRedis();
    producer = await startProducerProcess({
      REDIS_URL: redis.url,
      QUEUE_PREFIX: 'clientdl',
      API_KEYS: JSON.stringify([
        { name: 'ops', key: KEY, scopes: ['enqueue', 'read', 'admin'] },
        { name: 'reader', key: READER, scopes: ['read'] },
      ]),
    });
    connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    // Every email job fails for good, with its subject as the reason.
    worker = new Worker(
      jobs.email.queue,
      async (job: Job) => {
        throw new UnrecoverableError(job.data.subject);
      },
      { connection, prefix: queuePrefix('clientdl', jobs.email.queue) },
    );
    worker.on('error', () => {});
  });
  afterAll(async () => {
    await worker?.close();
    connection?.disconnect();
    await producer?.stop();
    await redis?.stop();
  });

  const client = (apiKey = KEY) => createClient({ baseUrl: producer.api, apiKey });

  it('lists failed jobs, retries some by reason and discards the rest', async () => {
    for (const subject of ['smtp: 1', 'bounce: 2', 'smtp: 3']) {
      await client().enqueue('email', mail(subject));
    }
    const failed = await eventually(async () => {
      const page = await client().listJobs('email', { state: 'dead' });
      return page.jobs.length === 3 ? page : undefined;
    });
    expect(failed.jobs.map((job) => job.failedReason).sort()).toEqual([
      'bounce: 2',
      'smtp: 1',
      'smtp: 3',
    ]);
    const first = await client().listJobs('email', { limit: 2, until: new Date() });
    expect(first.jobs).toHaveLength(2);
    const second = await client().listJobs('email', { limit: 2, cursor: first.cursor as string });
    expect(second).toMatchObject({ jobs: [{ state: 'failed' }], cursor: null });

    await worker.pause(); // so the retried jobs stay waiting
    const retried = await client().retryJobs('email', {
      reasonPrefix: 'smtp',
      since: '2020-01-01T00:00:00Z',
    });
    expect(retried).toEqual({ matched: 2, retried: 2, skipped: 0, cursor: null });
    expect((await client().listJobs('email', { state: 'waiting' })).jobs).toHaveLength(2);

    const discarded = await client().discardJobs('email', { reasonPrefix: 'bounce' });
    expect(discarded).toEqual({ matched: 1, removed: 1, skipped: 0, cursor: null });
    expect((await client().listJobs('email')).jobs).toEqual([]);
  });

  it('throws the problem of a refused call: a read key cannot retry', async () => {
    const refused = await client(READER)
      .retryJobs('email')
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ErrandApiError);
    expect((refused as ErrandApiError).code).toBe('forbidden');
    const bad = await client()
      .listJobs('email', { limit: 0 })
      .catch((e: unknown) => e);
    expect((bad as ErrandApiError).status).toBe(400);
  });
});
