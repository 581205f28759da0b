import { createLogger } from '@errand/observability';
import { readEvents, subscriptionStore } from '@errand/outbound';
import { closeQueues, jobKeyOf, openQueues, type Queues, RETRIES_FIELD } from '@errand/queues';
import { createRedis, type RedisClient } from '@errand/redis';
import { startTestRedis, type TestRedis } from '@errand/testing';
import type { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJobOutcomes } from './job-outcomes.ts';

/** The deliveries of a job's outcome, as the runner adds them before BullMQ records it. */
describe('job outcomes', () => {
  const prefix = 'outcomes';
  let server: TestRedis;
  let redis: RedisClient;
  let queues: Queues;
  let record: ReturnType<typeof makeJobOutcomes>;

  beforeAll(async () => {
    server = await startTestRedis();
    redis = createRedis(server.url, 'worker');
    queues = openQueues(redis, prefix);
    const store = subscriptionStore(redis, prefix);
    await store.put(
      'all',
      {
        url: 'https://hooks.example.com/a',
        events: ['job.completed', 'job.dead'],
      },
      'ops',
    );
    await store.put(
      'mail',
      {
        url: 'https://hooks.example.com/m',
        events: ['job.completed'],
        types: ['email'],
      },
      'ops',
    );
    record = makeJobOutcomes({
      redis,
      prefix,
      deliveries: queues.webhook,
      subscriptions: async () => (await store.list()).map((s) => s.subscription),
      logger: createLogger('test', 'silent'),
    });
  });
  afterAll(async () => {
    await closeQueues(queues);
    redis.disconnect();
    await server.stop();
  });

  const deliveryIds = async () =>
    (await queues.webhook.getJobs(['waiting'])).map((job) => String(job.id)).sort();
  const added = async (callbackUrl?: string): Promise<Job> =>
    queues.analytics.add(
      'svc',
      { events: [] },
      callbackUrl ? ({ meta: { callbackUrl } } as never) : {},
    );

  it('adds one delivery per wanting target, and the same ones again when the job runs again', async () => {
    const job = await added('https://svc.example.com/cb');
    await record('analytics', job, { type: 'job.completed', result: { counted: 0 } });
    const first = await deliveryIds();
    expect(first).toHaveLength(2); // `all` and the callback; `mail` wants email jobs only
    expect(first.some((id) => id.startsWith('wh-all-msg_'))).toBe(true);
    expect(first.some((id) => id.startsWith('cb-msg_'))).toBe(true);
    // A worker killed before the job was acknowledged: its lock expires, the job runs again;
    // and again, after waiting once for a limit (a snooze starts it without an attempt made).
    job.attemptsStarted += 1;
    job.stalledCounter += 1;
    await record('analytics', job, { type: 'job.completed', result: { counted: 0 } });
    job.attemptsStarted += 2;
    job.stalledCounter += 1;
    await record('analytics', job, { type: 'job.completed', result: { counted: 0 } });
    expect(await deliveryIds()).toEqual(first);
    const { events } = await readEvents(redis, prefix, { since: 0, until: Date.now(), limit: 10 });
    expect(new Set(events.map((e) => e.eventId)).size).toBe(1);
  });

  it('makes a new event of a job retried by hand that ends the same way again', async () => {
    await queues.webhook.obliterate({ force: true });
    const job = await added();
    job.attemptsMade = 2;
    await record('analytics', job, { type: 'job.dead', reason: 'boom' });
    // Retried by hand (the API's retry counts it; BullMQ resets attemptsMade), and dead again.
    await redis.hincrby(jobKeyOf(job), RETRIES_FIELD, 1);
    await record('analytics', job, { type: 'job.dead', reason: 'boom' });
    // Retried from the board (no reset), and dead again one attempt later.
    job.attemptsMade = 3;
    await record('analytics', job, { type: 'job.dead', reason: 'boom' });
    expect(await deliveryIds()).toHaveLength(3);
  });

  it('adds nothing for a job nobody listens to, nor for a delivery itself', async () => {
    await queues.webhook.obliterate({ force: true });
    await record('analytics', await added(), { type: 'job.failed', reason: 'bad' });
    await record('webhook', await added('https://svc.example.com/cb'), {
      type: 'job.completed',
      result: null,
    });
    expect(await deliveryIds()).toEqual([]);
  });
});
