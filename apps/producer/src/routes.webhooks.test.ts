import { createClient, ErrandApiError } from '@errand/client';
import type { DeliveryAttempt, SubscriptionBody } from '@errand/contract';
import { logDelivery, readDeliveryLog, signingSecrets, subscriptionStore } from '@errand/outbound';
import { request } from '@errand/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProducer } from '../test/app.testkit.ts';

const ADMIN = 'webhooks-admin-key-0123456789ab';
const READER = 'webhooks-reader-key-0123456789a';
const ENQUEUER = 'webhooks-enqueue-key-012345678';

const body: SubscriptionBody = {
  url: 'https://hooks.example.com/errand',
  events: ['job.completed', 'job.dead'],
  types: ['email'],
  description: 'mail outcomes',
};
const attempt = (n: number): DeliveryAttempt => ({
  at: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
  eventId: `msg_${n}`,
  eventType: 'job.completed',
  jobType: 'email',
  jobId: String(n),
  attempt: 1,
  status: 200,
  durationMs: 12,
  outcome: 'delivered',
  error: null,
});

/** The webhook subscription routes over HTTP, through the typed client, on a real Redis. */
describe('webhooks API', () => {
  let producer: Awaited<ReturnType<typeof startProducer>>;
  const client = (key: string) => createClient({ baseUrl: producer.api, apiKey: key, retries: 0 });
  const store = () => subscriptionStore(producer.redis, producer.deps.prefix);
  const refusal = async (call: Promise<unknown>) => {
    const error = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ErrandApiError);
    return error as ErrandApiError;
  };
  const secretsOf = async (id: string) => {
    const record = await store().get(id);
    return record ? store().signingSecrets(record) : [];
  };
  const put = (id: string, json: unknown) =>
    request(`${producer.api}/v1/webhooks/${id}`, {
      method: 'PUT',
      json,
      headers: { authorization: `Bearer ${ADMIN}` },
    });

  beforeAll(async () => {
    producer = await startProducer('webhooks-api', {
      apiKeys: [
        {
          name: 'ops',
          key: ADMIN,
          scopes: ['read', 'admin'],
          allowedTargets: ['https://hooks.example.com'],
        },
        { name: 'viewer', key: READER, scopes: ['read'] },
        { name: 'service', key: ENQUEUER, scopes: ['enqueue'] },
      ],
    });
  });
  afterAll(() => producer?.stop());

  it('creates with 201 and the secret, replaces with 200 and no secret, never shows it again', async () => {
    const created = await put('mail', body);
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/v1/webhooks/mail');
    expect(created.body).toMatchObject({
      ...body,
      id: 'mail',
      producers: null,
      owner: 'ops',
      status: 'enabled',
      disabled: null,
      failingSince: null,
    });
    expect(created.body.secret).toMatch(/^whsec_/);
    expect(await secretsOf('mail')).toEqual([created.body.secret]);

    const { secret: _secret, ...view } = created.body;
    expect(await client(ADMIN).getWebhook('mail')).toEqual(view);
    expect(await client(ADMIN).listWebhooks()).toEqual([view]);

    const replaced = await put('mail', { ...body, types: undefined, producers: ['service'] });
    expect(replaced.status).toBe(200);
    expect(replaced.body).not.toHaveProperty('secret');
    expect(replaced.body).toMatchObject({ types: null, producers: ['service'] });
    expect(replaced.body.createdAt).toBe(created.body.createdAt);
    expect(await secretsOf('mail')).toEqual([created.body.secret]);
    expect(JSON.stringify(await client(ADMIN).listWebhooks())).not.toContain('whsec_');
  });

  it('refuses a URL off the admin key’s allowed targets with 403, and stores nothing', async () => {
    for (const url of ['https://hooks.example.com.evil.test/x', 'http://hooks.example.com/x']) {
      const refused = await put('elsewhere', { ...body, url });
      expect(refused.status, url).toBe(403);
      expect(refused.body.type).toMatch(/target-not-allowed$/);
    }
    const missing = await request(`${producer.api}/v1/webhooks/elsewhere`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(missing.status).toBe(404);
  });

  it('rotates the secret: the new one shown once, the previous one signing for 24 h', async () => {
    const before = await secretsOf('mail');
    const rotated = await client(ADMIN).rotateWebhookSecret('mail');
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(before[0]);
    const until = Date.parse(rotated.previousValidUntil as string);
    expect(Math.abs(until - (Date.now() + 24 * 3600_000))).toBeLessThan(60_000);
    expect(await secretsOf('mail')).toEqual([rotated.secret, before[0]]);
    expect(JSON.stringify(await client(ADMIN).getWebhook('mail'))).not.toContain('whsec_');
    const missing = await refusal(client(ADMIN).rotateWebhookSecret('nothing'));
    expect([missing.status, missing.code]).toEqual([404, 'webhook-not-found']);
  });

  it('lists the delivery log newest first, 20 by default, up to the limit', async () => {
    for (let n = 1; n <= 25; n++)
      await logDelivery(producer.redis, producer.deps.prefix, 'mail', attempt(n));
    const recent = await client(ADMIN).webhookDeliveries('mail');
    expect(recent.map((a) => a.jobId)).toEqual(
      Array.from({ length: 20 }, (_, i) => String(25 - i)),
    );
    expect(await client(ADMIN).webhookDeliveries('mail', 2)).toEqual([attempt(25), attempt(24)]);
    const missing = await refusal(client(ADMIN).webhookDeliveries('nothing'));
    expect([missing.status, missing.code]).toEqual([404, 'webhook-not-found']);
  });

  it('shows what deliveries found, and a PUT again enables a disabled subscription', async () => {
    await store().markFailure('mail', Date.UTC(2026, 0, 1));
    await store().disable('mail', 'failing for 5 days', new Date(Date.UTC(2026, 0, 6)));
    expect(await client(ADMIN).getWebhook('mail')).toMatchObject({
      status: 'disabled',
      disabled: { at: '2026-01-06T00:00:00.000Z', reason: 'failing for 5 days' },
      failingSince: '2026-01-01T00:00:00.000Z',
    });
    const enabled = await client(ADMIN).putWebhook('mail', body);
    expect(enabled).toMatchObject({ status: 'enabled', disabled: null, failingSince: null });
    expect(enabled.secret).toBeUndefined();
    expect((await client(ADMIN).getWebhook('mail')).status).toBe('enabled');
  });

  it('deletes with 204, its delivery log too, then 404', async () => {
    const deleted = await request(`${producer.api}/v1/webhooks/mail`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect([deleted.status, deleted.body]).toEqual([204, undefined]);
    expect(await readDeliveryLog(producer.redis, producer.deps.prefix, 'mail')).toEqual([]);
    expect(await client(ADMIN).listWebhooks()).toEqual([]);
    const gone = await refusal(client(ADMIN).getWebhook('mail'));
    expect([gone.status, gone.code]).toEqual([404, 'webhook-not-found']);
    expect((await refusal(client(ADMIN).deleteWebhook('mail'))).code).toBe('webhook-not-found');
  });

  it('needs admin for every webhook route, whatever else the key may do', async () => {
    await client(ADMIN).putWebhook('scoped', body);
    for (const key of [READER, ENQUEUER]) {
      const as = client(key);
      const calls = [
        () => as.listWebhooks(),
        () => as.getWebhook('scoped'),
        () => as.putWebhook('scoped', body),
        () => as.deleteWebhook('scoped'),
        () => as.rotateWebhookSecret('scoped'),
        () => as.webhookDeliveries('scoped'),
        () => as.replayWebhook('scoped', { since: new Date(0) }),
      ];
      for (const call of calls) expect((await refusal(call())).status).toBe(403);
    }
    expect((await client(ADMIN).getWebhook('scoped')).updatedAt).toBeDefined();
  });

  it('rotates the calling key’s own signing secret with the enqueue scope', async () => {
    const secrets = signingSecrets(producer.redis, producer.deps.prefix);
    const first = await client(ENQUEUER).rotateSigningSecret();
    expect(first).toEqual({ secret: expect.stringMatching(/^whsec_/), previousValidUntil: null });
    const second = await client(ENQUEUER).rotateSigningSecret();
    expect(second.previousValidUntil).not.toBeNull();
    expect(await secrets.of('service')).toEqual([second.secret, first.secret]);
    expect(await secrets.of('ops')).toEqual([]);
    const refused = await refusal(client(READER).rotateSigningSecret());
    expect([refused.status, refused.code]).toEqual([403, 'forbidden']);
    const raw = await request(`${producer.api}/v1/signing-secret`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ENQUEUER}` },
    });
    expect(raw.status).toBe(201);
  });
});
