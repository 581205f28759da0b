import { jobTypes, type Queues } from '@errand/contract';
import { request } from '@errand/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProducer } from './app.testkit.ts';

/** Malformed, oversized and hostile requests: each gets its problem+json and enqueues nothing. */
describe('enqueue API bad input', () => {
  let producer: Awaited<ReturnType<typeof startProducer>>;
  let api: string;
  let queues: Queues;

  beforeAll(async () => {
    producer = await startProducer('badinput', { bodyLimitBytes: 64 * 1024 });
    ({ api, queues } = producer);
  });
  afterAll(() => producer?.stop());

  const email = { to: 'a@example.com', subject: 'Hi', text: 'x' };
  const raw = (body: string, type = 'application/json') =>
    request(`${api}/v1/jobs/email`, { method: 'POST', headers: { 'content-type': type }, body });
  const post = (json: unknown, type = 'email') =>
    request(`${api}/v1/jobs/${type}`, { method: 'POST', json });

  const cases: [string, () => ReturnType<typeof request>, number, string][] = [
    ['malformed JSON', () => raw('{"data":'), 400, 'malformed-json'],
    ['JSON that is not an object', () => raw('[1,2,3]'), 400, 'invalid-body'],
    ['a bare string', () => raw('"hello"'), 400, 'malformed-json'],
    [
      'not JSON at all',
      () => raw('to=a@example.com', 'application/x-www-form-urlencoded'),
      415,
      'unsupported-media-type',
    ],
    [
      'text/plain',
      () => raw(JSON.stringify({ data: email }), 'text/plain'),
      415,
      'unsupported-media-type',
    ],
    [
      'a body over the limit',
      () => post({ data: { ...email, text: 'x'.repeat(70_000) } }),
      413,
      'body-too-large',
    ],
    ['an unknown envelope field', () => post({ data: email, queue: 'x' }), 400, 'invalid-body'],
    [
      'an unknown payload field',
      () => post({ data: { ...email, attachments: ['/etc/passwd'] } }),
      400,
      'invalid-body',
    ],
    [
      'a __proto__ key',
      () =>
        raw('{"data":{"to":"a@example.com","subject":"x","text":"x","__proto__":{"admin":true}}}'),
      400,
      'invalid-body',
    ],
    [
      'a constructor key',
      () => post({ data: { ...email, constructor: { prototype: { admin: true } } } }),
      400,
      'invalid-body',
    ],
    [
      'CRLF in the subject',
      () => post({ data: { ...email, subject: 'Hi\r\nBcc: x@example.com' } }),
      400,
      'invalid-body',
    ],
    [
      'CRLF in an address',
      () => post({ data: { ...email, to: 'a@example.com\r\nBcc: x@example.com' } }),
      400,
      'invalid-body',
    ],
    [
      'a huge subject',
      () => post({ data: { ...email, subject: 's'.repeat(5_000) } }),
      400,
      'invalid-body',
    ],
    [
      'wrong types',
      () => post({ data: { to: 42, subject: ['x'], text: {} } }),
      400,
      'invalid-body',
    ],
    [
      'deep nesting',
      () => post({ data: JSON.parse(`${'{"a":'.repeat(2_000)}1${'}'.repeat(2_000)}`) }),
      400,
      'invalid-body',
    ],
    [
      'delay and runAt together',
      () => post({ data: email, delay: 10, runAt: '2030-01-01T00:00:00Z' }),
      400,
      'invalid-body',
    ],
    ['a negative delay', () => post({ data: email, delay: -1 }), 400, 'invalid-body'],
    ['an unknown job type', () => post({ data: email }, 'sms'), 404, 'unknown-job-type'],
    [
      'a prototype name as job type',
      () => post({ data: email }, '__proto__'),
      404,
      'unknown-job-type',
    ],
    [
      'an image URL that is not http(s)',
      () =>
        post(
          { data: { source: { url: 'file:///etc/passwd' }, outputs: [{ format: 'png' }] } },
          'image',
        ),
      400,
      'invalid-body',
    ],
    [
      'an image key that climbs out',
      () =>
        post(
          { data: { source: { key: '../../etc/passwd' }, outputs: [{ format: 'png' }] } },
          'image',
        ),
      400,
      'invalid-body',
    ],
    [
      '1,001 analytics events',
      () =>
        post(
          {
            data: {
              events: Array.from({ length: 1001 }, (_, i) => ({
                id: `${i}`,
                name: 'x',
                timestamp: '2026-01-01T00:00:00Z',
              })),
            },
          },
          'analytics',
        ),
      400,
      'invalid-body',
    ],
    ['a bad job id', () => request(`${api}/v1/jobs/email/..%2F..%2Fetc`), 404, 'job-not-found'],
    ['an unknown route', () => request(`${api}/v1/nothing`), 404, 'not-found'],
  ];

  it.each(cases)('%s', async (_name, send, status, type) => {
    const response = await send();
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.body.type).toBe(`https://errand.dev/problems/${type}`);
    expect(response.body.detail).toEqual(expect.any(String));
  });

  it('enqueued nothing and polluted no prototype', async () => {
    for (const type of jobTypes) {
      const counts = await queues[type].getJobCounts();
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(0);
    }
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });
});
