import { randomBytes } from 'node:crypto';
import { type Answer, eventually } from '@errand/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type OutboundPlatform,
  startOutboundPlatform,
} from '../../apps/worker/test/outbound.testkit.ts';

/**
 * The paths of Errand's outbound calls under the shipped ACL, as the `errand` user: signing
 * secrets, subscriptions, http jobs, callbacks, deliveries that are retried, slowed (429),
 * disabled (410) and replayed, the per-target limiter, the event and delivery logs. ACL LOG
 * must hold no denial afterwards.
 */
const PREFIX = 'errand';
const secret = () => randomBytes(24).toString('base64url');
const deployed = { prefix: PREFIX, password: secret(), adminPassword: secret() };
const KEY = 'acl-outbound-key-0123456789';

describe('the shipped Redis configuration, for http jobs and webhooks', () => {
  let platform: OutboundPlatform;
  let admin: Redis;
  const seen = (path: string) => platform.seen(path);
  const api: OutboundPlatform['api'] = (path, init) => platform.api(path, init);

  beforeAll(async () => {
    platform = await startOutboundPlatform({
      prefix: PREFIX,
      redis: { deployed },
      key: { name: 'svc', key: KEY, scopes: ['enqueue', 'read', 'admin'] },
      answer: (req): Answer => {
        if (req.path === '/gone') return { status: 410 };
        if (req.path === '/busy' && seen('/busy').length === 0) {
          return { status: 429, headers: { 'retry-after': '1' } };
        }
        return { status: 200 };
      },
      workerEnv: () => ({ TARGET_RATE_PER_SECOND: '50' }),
    });
    admin = new Redis(platform.redis.adminUrl ?? '');
  }, 60_000);
  afterAll(async () => {
    admin?.disconnect();
    await platform?.stop();
  });

  it('runs them as the errand user without one denial in ACL LOG', async () => {
    expect((await api('/v1/signing-secret', { method: 'POST' })).status).toBe(201);
    for (const [id, path] of [
      ['busy', '/busy'],
      ['gone', '/gone'],
    ]) {
      const put = await api(`/v1/webhooks/${id}`, {
        method: 'PUT',
        json: { url: `${platform.receiver.url}${path}`, events: ['job.completed', 'job.failed'] },
      });
      expect(put.status).toBe(201);
    }
    expect((await api('/v1/webhooks/busy/rotate-secret', { method: 'POST' })).status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 2_200)); // the workers' subscription cache
    const job = await api('/v1/jobs/http', {
      method: 'POST',
      json: {
        data: { url: `${platform.receiver.url}/call`, method: 'POST', body: 'hi' },
        callbackUrl: `${platform.receiver.url}/callback`,
      },
    });
    expect(job.status).toBe(202);
    await eventually(() => (seen('/busy').some((r) => r.status === 200) ? true : undefined), {
      timeoutMs: 15_000,
    });
    await eventually(() => (seen('/callback').length > 0 ? true : undefined));
    await eventually(async () => {
      const { body } = await api('/v1/webhooks/gone');
      return body.status === 'disabled' ? true : undefined;
    });
    expect((await api('/v1/webhooks/busy/deliveries')).body.deliveries.length).toBeGreaterThan(1);
    const since = new Date(Date.now() - 60_000).toISOString();
    const replay = await api('/v1/webhooks/busy/replay', { method: 'POST', json: { since } });
    expect(replay.body.enqueued).toBe(1);
    await eventually(() =>
      seen('/busy').filter((r) => r.status === 200).length >= 2 ? true : undefined,
    );
    expect((await api('/v1/webhooks/gone', { method: 'DELETE' })).status).toBe(204);
    expect(await admin.call('ACL', 'LOG')).toEqual([]);
  });
});
