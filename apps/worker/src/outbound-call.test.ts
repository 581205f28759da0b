import { keyedLimiter } from '@errand/limiter';
import { startTestRedis, startWebhookReceiver, type TestRedis } from '@errand/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../test/processor.testkit.ts';
import { CONCURRENCY_RECHECK_MS, callOut, TARGET_LEASE_MS } from './outbound-call.ts';
import { SnoozeError } from './processor.ts';

/** A full origin, on a real Redis and a real receiver: the job refused asks again soon. */
describe('callOut at an origin’s concurrency limit', () => {
  let server: TestRedis;
  let redis: Redis;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let slow: Awaited<ReturnType<typeof startWebhookReceiver>>;
  beforeAll(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url);
    receiver = await startWebhookReceiver();
    slow = await startWebhookReceiver(() => ({ status: 200, delayMs: 1_200 }));
  });
  afterAll(async () => {
    redis?.disconnect();
    await receiver?.close();
    await slow?.close();
    await server?.stop();
  });

  it('snoozes a refused job about a second, not the lease length, and sends once a slot is free', async () => {
    // The worker's lease, 15 s: far longer than a job refused should wait.
    const limiter = keyedLimiter(redis, { prefix: 'oc', name: 'target', leaseMs: TARGET_LEASE_MS });
    const deps = {
      limiter,
      leaseMs: TARGET_LEASE_MS,
      limits: () => ({ concurrency: 1 }),
      allowIPAddressList: ['127.0.0.1'],
    };
    const request = {
      url: `${receiver.url}/hook`,
      method: 'POST' as const,
      body: '{}',
      timeoutMs: 2_000,
      maxBytes: 256,
      allowUrl: () => undefined,
      messageId: 'msg_1',
      secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    };
    const busy = await limiter.acquire(new URL(receiver.url).origin, { concurrency: 1 }, 'busy');
    if (!busy.admitted) throw new Error('the first holder was refused');
    const refused = await callOut(deps, testContext('j1'), request).catch((error) => error);
    expect(refused).toBeInstanceOf(SnoozeError);
    expect(refused.delayMs).toBeGreaterThan(0);
    expect(refused.delayMs).toBeLessThanOrEqual(CONCURRENCY_RECHECK_MS * 1.5);
    await busy.lease.release();
    const sent = await callOut(deps, testContext('j1', 2), request);
    expect(sent.status).toBe(200);
    expect(receiver.received.map((r) => r.path)).toEqual(['/hook']);
  });

  it('keeps its slot through a request longer than the lease, renewing it', async () => {
    const origin = new URL(slow.url).origin;
    const limiter = keyedLimiter(redis, { prefix: 'oc-renew', name: 'target', leaseMs: 300 });
    const deps = {
      limiter,
      leaseMs: 300,
      limits: () => ({ concurrency: 1 }),
      allowIPAddressList: ['127.0.0.1'],
    };
    const sending = callOut(deps, testContext('j2'), {
      url: `${slow.url}/slow`,
      method: 'GET',
      timeoutMs: 5_000,
      maxBytes: 256,
      allowUrl: () => undefined,
      messageId: 'msg_2',
      secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    });
    await new Promise((resolve) => setTimeout(resolve, 800)); // well past one lease
    expect(await limiter.inUse(origin)).toBe(1);
    expect((await sending).status).toBe(200);
    expect(await limiter.inUse(origin)).toBe(0);
  });
});
