import { createHash } from 'node:crypto';
import { request } from '@errand/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProducer } from '../test/app.testkit.ts';

const SECRETS = {
  writer: 'writer-secret-0123456789',
  reader: 'reader-secret-0123456789',
  ops: 'ops-secret-0123456789abc',
  slow: 'slow-secret-0123456789ab',
};
const hashed = `sha256:${createHash('sha256').update(SECRETS.ops).digest('hex')}`;

/** API keys, scopes, per-key rate limits and their metrics, against a real Redis. */
describe('auth and rate limits', () => {
  let producer: Awaited<ReturnType<typeof startProducer>>;
  beforeAll(async () => {
    producer = await startProducer('auth', {
      rateLimit: 1_000,
      apiKeys: [
        { name: 'writer', key: SECRETS.writer, scopes: ['enqueue'] },
        { name: 'reader', key: SECRETS.reader, scopes: ['read'] },
        { name: 'ops', key: hashed, scopes: ['read', 'admin'] },
        { name: 'slow', key: SECRETS.slow, scopes: ['enqueue'], rateLimit: 2 },
      ],
    });
  });
  afterAll(() => producer?.stop());

  const as = (key: string | undefined, path: string, init: Parameters<typeof request>[1] = {}) =>
    request(`${producer.api}${path}`, {
      ...init,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...init.headers },
    });
  const enqueue = (key: string | undefined) =>
    as(key, '/v1/jobs/email', {
      method: 'POST',
      json: { data: { to: 'a@example.com', subject: 'Hi', text: 'x' } },
    });

  it('refuses a missing or wrong key with 401 and a Bearer challenge', async () => {
    for (const key of [undefined, 'not-a-key-at-all-000', `${SECRETS.writer}x`]) {
      const answer = await enqueue(key);
      expect(answer.status).toBe(401);
      expect(answer.body.type).toMatch(/unauthorized$/);
      expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    expect((await as(undefined, '/v1/queues')).status).toBe(401);
    expect(await producer.queues.email.count()).toBe(0);
  });

  it('lets each scope do its own things only (403 otherwise)', async () => {
    const created = await enqueue(SECRETS.writer);
    expect(created.status).toBe(202);
    const job = `/v1/jobs/email/${created.body.id}`;
    expect((await as(SECRETS.writer, job)).status).toBe(403);
    expect((await enqueue(SECRETS.reader)).status).toBe(403);
    const read = await as(SECRETS.reader, job);
    expect(read.status).toBe(200);
    expect(read.body.producer).toBe('writer'); // the key's name is the job's producer
    expect((await as(SECRETS.reader, '/v1/queues')).status).toBe(200);
    const denied = await as(SECRETS.reader, job, { method: 'DELETE' });
    expect(denied.status).toBe(403);
    expect(denied.body.detail).toContain('"admin"');
    // The ops key is configured as a SHA-256 hash and works with the secret it hashes.
    expect((await as(SECRETS.ops, job, { method: 'DELETE' })).status).toBe(200);
    expect((await enqueue(SECRETS.ops)).status).toBe(403);
  });

  it('limits a key per second: 429 with Retry-After and RateLimit headers, other keys unaffected', async () => {
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await enqueue(SECRETS.slow));
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(1);
    const [first] = limited;
    expect(first?.body.type).toMatch(/rate-limited$/);
    expect(Number(first?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(first?.headers.get('ratelimit-policy')).toBe('"per-key";q=2;w=1');
    expect(first?.headers.get('ratelimit')).toMatch(/^"per-key";r=0;t=\d+$/);
    expect(answers[0]?.headers.get('ratelimit')).toMatch(/^"per-key";r=1;t=1$/);
    expect((await enqueue(SECRETS.writer)).status).toBe(202);
  });

  it('counts rate-limit rejections, replays and enqueued jobs on /metrics', async () => {
    const headers = { 'idempotency-key': 'metrics-1' };
    for (let i = 0; i < 2; i++) {
      await as(SECRETS.writer, '/v1/jobs/email', {
        method: 'POST',
        headers,
        json: { data: { to: 'a@example.com', subject: 'M', text: 'x' } },
      });
    }
    const text = (await as(undefined, '/metrics')).body as string;
    expect(text).toMatch(/errand_api_rate_limited_total\{key="slow",app="test"\} [1-9]/);
    expect(text).toMatch(/errand_idempotent_replays_total\{type="email",app="test"\} 1/);
    expect(text).toMatch(/errand_jobs_enqueued_total\{type="email",app="test"\} [1-9]/);
    expect(text).toContain('route="/v1/jobs/:type",status="429"');
    expect(text).not.toContain(SECRETS.slow);
  });
});
