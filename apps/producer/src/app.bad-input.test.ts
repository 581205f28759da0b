import { jobTypes } from '@errand/contract';
import { subscriptionStore } from '@errand/outbound';
import type { Queues } from '@errand/queues';
import { request } from '@errand/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { badCases as enqueueCases } from '../test/app.bad-input.cases.ts';
import { deadLetterCases } from '../test/app.bad-input.dead-letter.cases.ts';
import { outboundCases } from '../test/app.bad-input.outbound.cases.ts';
import { scheduleCases } from '../test/app.bad-input.schedules.cases.ts';
import { webhookCases } from '../test/app.bad-input.webhooks.cases.ts';
import { startProducer } from '../test/app.testkit.ts';

const KEY = 'battery-key-0123456789abcdef';
const badCases = [
  ...enqueueCases,
  ...scheduleCases,
  ...webhookCases,
  ...deadLetterCases,
  ...outboundCases,
];

/** Malformed, oversized and hostile requests: each gets its problem+json and enqueues nothing. */
describe('enqueue API bad input', () => {
  let producer: Awaited<ReturnType<typeof startProducer>>;
  let queues: Queues;

  beforeAll(async () => {
    producer = await startProducer('badinput', {
      bodyLimitBytes: 64 * 1024,
      apiKeys: [
        {
          name: 'battery',
          key: KEY,
          scopes: ['enqueue', 'read', 'admin'],
          allowedTargets: ['https://api.example.com', 'https://hooks.example.com'],
        },
        { name: 'reader', key: 'reader-key-0123456789abcdef', scopes: ['read'] },
      ],
    });
    ({ queues } = producer);
  });
  afterAll(() => producer?.stop());

  it('has a battery of at least 60 enqueue and 20 schedule cases', () => {
    expect(enqueueCases.length).toBeGreaterThanOrEqual(60);
    expect(scheduleCases.length).toBeGreaterThanOrEqual(20);
    expect(new Set(badCases.map((c) => c.name)).size).toBe(badCases.length);
  });

  it.each(badCases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const key = c.key === undefined ? KEY : c.key;
    const headers: Record<string, string> = {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(c.raw === undefined ? {} : { 'content-type': c.contentType ?? 'application/json' }),
      ...c.headers,
    };
    const response = await request(`${producer.api}${c.path ?? '/v1/jobs/email'}`, {
      method: c.method ?? 'POST',
      headers,
      ...(c.raw === undefined ? { json: c.json } : { body: c.raw }),
    });
    expect(response.status).toBe(c.status);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({
      type: `https://errand.dev/problems/${c.type}`,
      status: c.status,
      title: expect.any(String),
      detail: expect.any(String),
    });
    if (c.type === 'invalid-body' || c.type === 'invalid-parameter') {
      expect(response.body.errors?.length).toBeGreaterThan(0);
    }
  });

  it('enqueued nothing and polluted no prototype', async () => {
    for (const type of jobTypes) {
      const counts = await queues[type].getJobCounts();
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(0);
    }
    expect(await producer.deps.schedules.list()).toEqual([]);
    expect(await subscriptionStore(producer.redis, producer.deps.prefix).list()).toEqual([]);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('admin');
  });
});
