import { signingSecrets } from '@errand/outbound';
import { createRedis } from '@errand/redis';
import {
  type Answer,
  eventually,
  type ProducerProcess,
  type ReceivedRequest,
  request,
  type TestRedis,
  verifiedBody,
} from '@errand/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetWorker } from '../test/fleet.testkit.ts';
import { type OutboundPlatform, startOutboundPlatform } from '../test/outbound.testkit.ts';

/** How long a worker may go on with the subscriptions it read last (`subscriptionCache`). */
const CACHE_MS = 2_000;

/**
 * Completion webhooks through real processes: subscriptions made with the API, jobs run by a
 * worker, deliveries taken by a real receiver and verified with `standardwebhooks`.
 */
describe('completion webhooks', () => {
  const prefix = 'webhooks';
  const ADMIN = 'ops-key-0123456789abcdef';
  let redis: TestRedis;
  let producer: ProducerProcess;
  let workers: FleetWorker[] = [];
  let receiver: OutboundPlatform['receiver'];
  let platform: OutboundPlatform;
  const secrets: Record<string, string> = {};
  const auth = { authorization: `Bearer ${ADMIN}` };
  const at = (path: string) => platform.seen(path);

  beforeAll(async () => {
    platform = await startOutboundPlatform({
      prefix,
      key: { name: 'ops', key: ADMIN, scopes: ['enqueue', 'read', 'admin'] },
      answer: (req): Answer => {
        if (req.path === '/gone') return { status: 410 };
        if (req.path === '/broken') return { status: 500 };
        if (req.path.startsWith('/status/')) return { status: Number(req.path.slice(8)) };
        if (req.path === '/flaky' && at('/flaky').length === 0) return { status: 500 };
        return { status: 204 };
      },
      workerEnv: () => ({
        WORKER_QUEUES: 'analytics,http,webhook',
        WEBHOOK_RETRY_SCHEDULE_MS: '0,300,300',
      }),
    });
    ({ producer, redis, workers, receiver } = platform);
    const client = createRedis(redis.url, 'worker');
    await signingSecrets(client, prefix).rotate('ops');
    client.disconnect();
    const subscribe = async (id: string, body: Record<string, unknown>) => {
      const created = await request(`${producer.api}/v1/webhooks/${id}`, {
        method: 'PUT',
        headers: auth,
        json: body,
      });
      expect(created.status).toBe(201);
      secrets[id] = created.body.secret;
    };
    const events = ['job.completed', 'job.failed', 'job.dead'];
    await subscribe('all', { url: `${receiver.url}/all`, events });
    await subscribe('gone', { url: `${receiver.url}/gone`, events, types: ['analytics'] });
    await subscribe('flaky', {
      url: `${receiver.url}/flaky`,
      events: ['job.completed'],
      types: ['analytics'],
    });
    await subscribe('others', {
      url: `${receiver.url}/others`,
      events,
      producers: ['someone-else'],
    });
    await new Promise((resolve) => setTimeout(resolve, CACHE_MS + 200));
  }, 60_000);
  afterAll(() => platform?.stop());

  const enqueue = (type: string, body: unknown) =>
    request(`${producer.api}/v1/jobs/${type}`, { method: 'POST', headers: auth, json: body });
  const analytics = (id: string) => ({
    data: { events: [{ id, name: 'signup', userId: 'u1', timestamp: new Date().toISOString() }] },
  });
  // Job ids are per queue: an event names its job by type and id.
  const eventOf = (path: string, jobType: string, jobId: string, secret: string) =>
    eventually(
      () =>
        at(path)
          .filter((r) => r.status >= 200 && r.status < 300)
          .map((r) => ({
            request: r,
            event: verifiedBody(r, secret) as {
              type: string;
              data: { jobType: string; jobId: string };
            },
          }))
          .find(({ event }) => event.data.jobType === jobType && event.data.jobId === jobId),
      { timeoutMs: 15_000, what: `a delivery of job ${jobId} to ${path}` },
    );

  it('delivers job.completed, signed with the subscription’s secret, to each subscription that wants it', async () => {
    const sent = await enqueue('analytics', analytics('e1'));
    const { event } = await eventOf('/all', 'analytics', sent.body.id, secrets.all as string);
    expect(event).toMatchObject({
      type: 'job.completed',
      data: { jobType: 'analytics', producer: 'ops' },
    });
    // Retried after a 500, with the same webhook-id both times.
    const { request: delivered } = await eventOf(
      '/flaky',
      'analytics',
      sent.body.id,
      secrets.flaky as string,
    );
    const [first] = at('/flaky');
    expect(first?.status).toBe(500);
    expect(delivered.headers['webhook-id']).toBe(first?.headers['webhook-id']);
    // Signed with its own secret only: the other subscription's does not verify it.
    expect(() => verifiedBody(delivered as ReceivedRequest, secrets.all as string)).toThrow();
    expect(at('/others')).toEqual([]);
    const log = await request(`${producer.api}/v1/webhooks/flaky/deliveries`, { headers: auth });
    expect(log.body.deliveries.map((d: { outcome: string }) => d.outcome)).toEqual([
      'delivered',
      'retrying',
    ]);
  });

  it('disables a subscription whose endpoint answers 410, and sends it nothing more', async () => {
    await eventually(async () => {
      const { body } = await request(`${producer.api}/v1/webhooks/gone`, { headers: auth });
      return body.status === 'disabled' ? body : undefined;
    });
    const { body } = await request(`${producer.api}/v1/webhooks/gone`, { headers: auth });
    expect(body.disabled.reason).toMatch(/410/);
    const before = at('/gone').length;
    const sent = await enqueue('analytics', analytics('e2'));
    await eventOf('/all', 'analytics', sent.body.id, secrets.all as string);
    await new Promise((resolve) => setTimeout(resolve, CACHE_MS + 500));
    expect(at('/gone')).toHaveLength(before);
  });

  it('disables a subscription whose deliveries have failed for WEBHOOK_DISABLE_AFTER_DAYS', async () => {
    const made = await request(`${producer.api}/v1/webhooks/broken`, {
      method: 'PUT',
      headers: auth,
      json: { url: `${receiver.url}/broken`, events: ['job.completed'], types: ['analytics'] },
    });
    expect(made.status).toBe(201);
    // Its deliveries have failed since six days ago (the default limit is five).
    const client = createRedis(redis.url, 'worker');
    const sixDaysAgo = Date.now() - 6 * 86_400_000;
    await client.hset(`${prefix}:webhooks:failing`, 'broken', String(sixDaysAgo));
    client.disconnect();
    await new Promise((resolve) => setTimeout(resolve, CACHE_MS + 200));
    await enqueue('analytics', analytics('e3'));
    const disabled = await eventually(async () => {
      const { body } = await request(`${producer.api}/v1/webhooks/broken`, { headers: auth });
      return body.status === 'disabled' ? body : undefined;
    });
    expect(disabled.disabled.reason).toMatch(/failed for 6\.0 days/);
    expect(disabled.failingSince).toBe(new Date(sixDaysAgo).toISOString());
    const metrics = await (await fetch(`${workers[0]?.url}/metrics`)).text();
    expect(metrics).toMatch(
      /errand_webhook_subscriptions_disabled_total\{reason="failing",app="worker"\} 1/,
    );
  });

  it('sends job.failed for a permanent failure and job.dead when attempts run out', async () => {
    const permanent = await enqueue('http', {
      data: { url: `${receiver.url}/status/404`, method: 'GET' },
    });
    const exhausted = await enqueue('http', {
      data: { url: `${receiver.url}/status/500`, method: 'GET' },
      attempts: 1,
    });
    const failed = await eventOf('/all', 'http', permanent.body.id, secrets.all as string);
    expect(failed.event).toMatchObject({ type: 'job.failed', data: { state: 'failed' } });
    const dead = await eventOf('/all', 'http', exhausted.body.id, secrets.all as string);
    expect(dead.event.type).toBe('job.dead');
  });

  it('replays a time range to a subscription: the same events, the same ids, delivered again', async () => {
    const since = new Date(Date.now() - 60_000).toISOString();
    const before = at('/all').length;
    const ids = new Set(at('/all').map((r) => r.headers['webhook-id']));
    const replay = await request(`${producer.api}/v1/webhooks/all/replay`, {
      method: 'POST',
      headers: auth,
      json: { since },
    });
    expect(replay.status).toBe(202);
    expect(replay.body.enqueued).toBeGreaterThanOrEqual(4);
    await eventually(() => (at('/all').length >= before + replay.body.enqueued ? true : undefined));
    const again = at('/all').slice(before);
    for (const delivery of again) {
      expect(ids.has(delivery.headers['webhook-id'])).toBe(true);
      expect(() => verifiedBody(delivery, secrets.all as string)).not.toThrow();
    }
  });
});
