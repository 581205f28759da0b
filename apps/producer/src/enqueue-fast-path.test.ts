import { request } from '@errand/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { startProducer } from '../test/app.testkit.ts';
import { PARITY_KEYS, parityOf, shapeOf, startParityProducer } from '../test/fast-path.testkit.ts';

const { writer: WRITER, slow: SLOW, caller: CALLER } = PARITY_KEYS;
const email = { to: 'a@example.com', subject: 'Hi', text: 'Hello' };

/**
 * The fast path of `POST /v1/jobs/{type}` answers exactly as the Express route does: each
 * case is sent twice, once as the fast path takes it and once with a content type only the
 * Express app takes (`charset="utf-8"`, quoted: the same thing to body-parser), and the two
 * answers must match, status, headers and problem document alike.
 */
describe('the fast path of a single enqueue', () => {
  let producer: Awaited<ReturnType<typeof startProducer>>;
  beforeAll(async () => {
    producer = await startParityProducer('fast', {
      maxWaiting: { image: 1 },
    });
  });
  afterAll(() => producer?.stop());

  const { post, both, sharesRateLimit } = parityOf(() => producer, WRITER);

  it('enqueues as the route does: 202, Location, RateLimit headers, the job in Redis', async () => {
    const answer = await both('email', JSON.stringify({ data: email, priority: 5 }));
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ type: 'email', state: 'prioritized' });
    expect(answer.headers.get('ratelimit-policy')).toBe('"per-key";q=1000;w=1');
    const job = await producer.queues.email.getJob(answer.body.id);
    expect(job?.name).toBe('writer');
    expect(job?.data).toEqual(email);
  });

  it('refuses what the route refuses, with the same problem documents', async () => {
    const cases: [string, string, number][] = [
      ['email', JSON.stringify({ data: { ...email, to: 'not an address' } }), 400],
      ['email', '{"data":', 400],
      ['email', '"just a string"', 400],
      ['email', '   ', 400],
      [
        'email',
        '{"data":{"to":"a@example.com","subject":"x","text":"y"},"__proto__":{"a":1}}',
        400,
      ],
      // The same key behind a JSON escape.
      ['email', '{"data":{"to":"a@example.com","\\u005f_proto__":{}}}', 400],
      ['email', JSON.stringify({ data: email, delay: 5, runAt: '2030-01-01T00:00:00Z' }), 400],
      [
        'http',
        JSON.stringify({ data: { url: 'https://evil.example.com/x', method: 'POST' } }),
        403,
      ],
      ['http', JSON.stringify({ data: { url: 'https://api.example.com/x', method: 'POST' } }), 403],
    ];
    for (const [type, body, status] of cases) {
      expect((await both(type, body)).status, body).toBe(status);
    }
    // A key allowed the target, without a signing secret yet.
    const http = JSON.stringify({ data: { url: 'https://api.example.com/x', method: 'POST' } });
    const fast = await post('fast', 'http', http, {}, CALLER);
    const app = await post('app', 'http', http, {}, CALLER);
    expect(fast.status).toBe(409);
    expect(shapeOf(fast)).toEqual(shapeOf(app));
  });

  it('reads a body with a byte-order mark, and answers Idempotency-Key replays and mismatches alike', async () => {
    expect((await both('email', `\uFEFF${JSON.stringify({ data: email })}`)).status).toBe(202);
    for (const route of ['fast', 'app'] as const) {
      const key = { 'idempotency-key': `fast-path-${route}` };
      const body = JSON.stringify({ data: email });
      const first = await post(route, 'email', body, key);
      const again = await post(route, 'email', body, key);
      expect([first.status, again.status]).toEqual([202, 200]);
      expect(again.body.id).toBe(first.body.id);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      const other = await post(
        route,
        'email',
        JSON.stringify({ data: { ...email, text: 'x' } }),
        key,
      );
      expect(other.status).toBe(422);
      expect(other.body.type).toMatch(/idempotency-mismatch$/);
    }
  });

  it('shares the rate limit with the app and answers 429 as it does', async () => {
    await sharesRateLimit('email', JSON.stringify({ data: email }), SLOW);
  });

  it('leaves to the app what it does not take: no key or an unknown one, internal types, a path spelled otherwise, query strings, a bad Idempotency-Key, an encoded or empty body', async () => {
    const before = { ...producer.served };
    const body = JSON.stringify({ data: email });
    const answers = [
      await request(`${producer.api}/v1/jobs/email`, { method: 'POST', json: { data: email } }),
      await post('fast', 'email', body, {}, 'no-such-key-0123456789abcd'),
      await post('fast', 'digest', JSON.stringify({ data: {} })),
      await post('fast', 'email/', body),
      await post('fast', 'email?x=1', body),
      await post('fast', 'email', body, { 'idempotency-key': 'bad key with spaces' }),
      await post('fast', 'email', body, { 'content-encoding': 'identity' }),
      await post('fast', 'email', '', {}),
    ];
    expect(answers.map((a) => a.status)).toEqual([401, 401, 403, 202, 202, 400, 202, 400]);
    expect(producer.served.fast - before.fast).toBe(0);
    expect(producer.served.app - before.app).toBe(answers.length);
  });

  it('answers 503 queue-full and, with Redis gone, 503 redis-unavailable, as the route does', async () => {
    const image = JSON.stringify({
      data: { source: { url: 'https://img.example.com/a.png' }, outputs: [{ format: 'webp' }] },
    });
    await post('fast', 'image', image); // the one waiting job the limit allows
    const full = await both('image', image);
    expect(full.status).toBe(503);
    expect(full.body.type).toMatch(/queue-full$/);
    const metrics = await request(`${producer.api}/metrics`);
    expect(metrics.body).toMatch(/route="\/v1\/jobs\/:type",status="503"/);
    await producer.redisServer.kill();
    const gone = await both('email', JSON.stringify({ data: email }));
    expect(gone.status).toBe(503);
    expect(gone.body.type).toMatch(/redis-unavailable$/);
  });
});
