import { setTimeout as sleep } from 'node:timers/promises';
import { createClient, ErrandApiError } from '@errand/client';
import type { DeliveryPayload, SubscriptionBody, WebhookEventType } from '@errand/contract';
import { appendEvent, jobEvent, subscriptionStore } from '@errand/outbound';
import { request } from '@errand/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProducer } from '../test/app.testkit.ts';

const ADMIN = 'replay-admin-key-0123456789abcd';

/** Mail jobs of `service` that completed or died, and the other kinds a subscription can skip. */
const body: SubscriptionBody = {
  url: 'https://hooks.example.com/errand',
  events: ['job.completed', 'job.dead'],
  types: ['email'],
  producers: ['service'],
};

/** `POST /v1/webhooks/{id}/replay` against events logged in a real Redis stream. */
describe('webhook replay', () => {
  let producer: Awaited<ReturnType<typeof startProducer>>;
  const admin = () => createClient({ baseUrl: producer.api, apiKey: ADMIN, retries: 0 });
  /** Log the event of job `id`; stream ids are times in ms, so a pause sets events apart. */
  const log = async (id: string, type: WebhookEventType, jobType = 'email', by = 'service') => {
    const job = {
      type: jobType,
      id,
      producer: by,
      timestamp: 1,
      attemptsMade: 0,
      retries: 0,
      finishedAt: 2,
    };
    const logged = jobEvent(
      job,
      type === 'job.completed' ? { type, result: { ok: true } } : { type, reason: 'boom' },
    );
    await appendEvent(producer.redis, producer.deps.prefix, logged);
    await sleep(3);
    return logged.eventId;
  };
  const queued = async () => {
    const jobs = await producer.queues.webhook.getJobs(['waiting']);
    return jobs.map((job) => ({ id: job.id as string, data: job.data as DeliveryPayload }));
  };
  const wanted: string[] = [];
  let since = '';
  let until = '';

  beforeAll(async () => {
    producer = await startProducer('webhooks-replay', {
      apiKeys: [
        {
          name: 'ops',
          key: ADMIN,
          scopes: ['read', 'admin'],
          allowedTargets: ['https://hooks.example.com'],
        },
      ],
    });
    await admin().putWebhook('mail', body);
    await log('before', 'job.completed');
    since = new Date().toISOString();
    await sleep(3);
    wanted.push(await log('1', 'job.completed'));
    await log('2', 'job.failed');
    await log('3', 'job.completed', 'image');
    await log('4', 'job.completed', 'email', 'other');
    wanted.push(await log('5', 'job.dead'));
    until = new Date().toISOString();
    await sleep(3);
    await log('after', 'job.completed');
  });
  afterAll(() => producer?.stop());

  it('adds one delivery per event the subscription wants in the range, and only those', async () => {
    const answer = await request(`${producer.api}/v1/webhooks/mail/replay`, {
      method: 'POST',
      json: { since, until },
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect([answer.status, answer.body]).toEqual([202, { enqueued: 2, cursor: null }]);
    const jobs = await queued();
    expect(jobs.map((j) => j.data.eventId).sort()).toEqual([...wanted].sort());
    for (const job of jobs) {
      expect(job.data.to).toEqual({ subscription: 'mail' });
      expect(job.id).toMatch(/^rp[a-z0-9]+-wh-mail-msg_/);
    }
    expect(jobs.map((j) => j.data.event.data.jobId).sort()).toEqual(['1', '5']);
  });

  it('enqueues again on a second replay, even while the first deliveries are kept', async () => {
    expect(await admin().replayWebhook('mail', { since, until })).toEqual({
      enqueued: 2,
      cursor: null,
    });
    const jobs = await queued();
    expect(jobs).toHaveLength(4);
    expect(new Set(jobs.map((j) => j.id)).size).toBe(4);
  });

  it('reads until now by default, and pages with the cursor', async () => {
    await producer.queues.webhook.obliterate({ force: true });
    const first = await admin().replayWebhook('mail', { since: new Date(since), limit: 2 });
    expect(first.enqueued).toBe(1);
    expect(first.cursor).toMatch(/^\d+-\d+$/);
    const pages = [first];
    let cursor = first.cursor;
    while (cursor !== null) {
      const next = await admin().replayWebhook('mail', { since, limit: 2, cursor });
      pages.push(next);
      cursor = next.cursor;
    }
    // 1+2, 3+4, 5+after, then an empty page: every wanted event once, "after" included
    expect(pages.map((p) => p.enqueued)).toEqual([1, 0, 2, 0]);
    const ids = (await queued()).map((j) => j.data.event.data.jobId).sort();
    expect(ids).toEqual(['1', '5', 'after']);
  });

  it('refuses a disabled subscription with 409 until a PUT enables it again', async () => {
    const store = subscriptionStore(producer.redis, producer.deps.prefix);
    await store.disable('mail', 'failing for 5 days');
    const error = await admin()
      .replayWebhook('mail', { since, until })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ErrandApiError);
    expect([(error as ErrandApiError).status, (error as ErrandApiError).code]).toEqual([
      409,
      'webhook-disabled',
    ]);
    await admin().putWebhook('mail', body);
    expect((await admin().replayWebhook('mail', { since, until })).enqueued).toBe(2);
  });

  it('answers 404 for a subscription that does not exist', async () => {
    const error = await admin()
      .replayWebhook('nothing', { since })
      .catch((e: unknown) => e);
    expect((error as ErrandApiError).code).toBe('webhook-not-found');
  });
});
