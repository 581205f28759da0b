import { signingSecrets } from '@errand/outbound';
import { createRedis } from '@errand/redis';
import { type Answer, eventually, request, verifiedBody } from '@errand/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OutboundPlatform, startOutboundPlatform } from '../test/outbound.testkit.ts';

/**
 * http jobs and callbacks end to end, through real processes: a producer with a key that may
 * call one loopback receiver, a worker that may reach loopback (`OUTBOUND_ALLOW_IPS`), and the
 * receiver, which checks every signature with `standardwebhooks`.
 */
describe('http jobs and their callbacks', () => {
  const prefix = 'httpjobs';
  const KEY = 'svc-key-0123456789abcdef';
  let platform: OutboundPlatform;
  let secret: string;
  let inFlight = 0;
  let most = 0;
  const auth = { authorization: `Bearer ${KEY}` };

  beforeAll(async () => {
    platform = await startOutboundPlatform({
      prefix,
      key: { name: 'svc', key: KEY, scopes: ['enqueue', 'read'] },
      otherKeys: (url) => [
        {
          name: 'nosecret',
          key: 'nosecret-0123456789ab',
          scopes: ['enqueue'],
          allowedTargets: [url],
        },
      ],
      answer: (req): Answer => {
        const [, status, retryAfter] = /^\/status\/(\d+)(?:\/after\/(\d+))?/.exec(req.path) ?? [];
        if (req.path.startsWith('/flaky') && platform.seen(req.path).length === 0) {
          return { status: 503, headers: { 'retry-after': '1' } };
        }
        if (req.path.startsWith('/slow')) {
          inFlight += 1;
          most = Math.max(most, inFlight);
          setTimeout(() => {
            inFlight -= 1;
          }, 300);
          return { status: 200, delayMs: 300 };
        }
        if (req.path === '/elsewhere') {
          return { status: 307, headers: { location: 'http://127.0.0.2/' } };
        }
        return status
          ? {
              status: Number(status),
              ...(retryAfter ? { headers: { 'retry-after': retryAfter } } : {}),
            }
          : { status: 200 };
      },
      // One request at a time to the receiver, over all workers; 20 job slots would allow more.
      workerEnv: (url) => ({ TARGET_LIMITS: JSON.stringify({ [url]: { concurrency: 1 } }) }),
    });
    const client = createRedis(platform.redis.url, 'worker');
    secret = (await signingSecrets(client, prefix).rotate('svc')).secret;
    client.disconnect();
  }, 60_000);
  afterAll(() => platform?.stop());

  const enqueue = (body: unknown, headers: Record<string, string> = auth) =>
    request(`${platform.producer.api}/v1/jobs/http`, { method: 'POST', headers, json: body });
  const finished = (id: string) =>
    eventually(
      async () => {
        const { body } = await platform.api(`/v1/jobs/http/${id}`);
        return body.state === 'completed' || body.state === 'failed' ? body : undefined;
      },
      { timeoutMs: 20_000, what: `http job ${id} finished` },
    );
  const callbacksOf = (jobId: string) =>
    platform.receiver.received.filter(
      (r) => r.path === '/callback' && JSON.parse(r.body).data.jobId === jobId,
    );

  it('calls the target, signed with the key’s secret, and posts a signed callback', async () => {
    const sent = await enqueue({
      data: {
        url: `${platform.receiver.url}/orders?x=1`,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-trace': 'abc' },
        body: '{"order":42}',
      },
      callbackUrl: `${platform.receiver.url}/callback`,
    });
    expect(sent.status).toBe(202);
    const job = await finished(sent.body.id);
    expect(job.state).toBe('completed');
    expect(job.meta).toEqual({ callbackUrl: `${platform.receiver.url}/callback` });
    expect(job.result).toMatchObject({ status: 200, body: 'answered 200', truncated: false });
    const call = platform.receiver.received.find((r) => r.path === '/orders?x=1');
    expect(call?.method).toBe('POST');
    expect(call?.headers['x-trace']).toBe('abc');
    expect(verifiedBody(call as NonNullable<typeof call>, secret)).toEqual({ order: 42 });
    const [callback] = await eventually(() => {
      const found = callbacksOf(sent.body.id);
      return found.length > 0 ? found : undefined;
    });
    const event = verifiedBody(callback as NonNullable<typeof callback>, secret) as {
      type: string;
      data: Record<string, unknown>;
    };
    expect(event.type).toBe('job.completed');
    expect(event.data).toMatchObject({ jobType: 'http', jobId: sent.body.id, producer: 'svc' });
    expect(callback?.headers['webhook-id']).toMatch(/^msg_/);
  });

  it('retries a 503 after its Retry-After, then completes', async () => {
    const sent = await enqueue({
      data: { url: `${platform.receiver.url}/flaky/1`, method: 'GET' },
    });
    const job = await finished(sent.body.id);
    expect(job.state).toBe('completed');
    const calls = platform.receiver.received.filter((r) => r.path === '/flaky/1');
    expect(calls.map((r) => r.status)).toEqual([503, 200]);
    expect((calls[1]?.at ?? 0) - (calls[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
    // One message, two attempts: the receiver can tell a retry by its id.
    expect(calls[1]?.headers['webhook-id']).toBe(calls[0]?.headers['webhook-id']);
  });

  it('fails for good on a 404, and says so in a job.failed callback', async () => {
    const sent = await enqueue({
      data: { url: `${platform.receiver.url}/status/404`, method: 'DELETE' },
      callbackUrl: `${platform.receiver.url}/callback`,
    });
    const job = await finished(sent.body.id);
    expect(job.state).toBe('failed');
    expect(job.failedReason).toMatch(/answered 404/);
    expect(platform.receiver.received.filter((r) => r.path === '/status/404')).toHaveLength(1);
    const [callback] = await eventually(() => {
      const found = callbacksOf(sent.body.id);
      return found.length > 0 ? found : undefined;
    });
    expect(verifiedBody(callback as NonNullable<typeof callback>, secret)).toMatchObject({
      type: 'job.failed',
      data: { state: 'failed', failedReason: expect.stringMatching(/404/) },
    });
  });

  it('fails for good when a redirect leads off the allowed targets', async () => {
    const sent = await enqueue({
      data: { url: `${platform.receiver.url}/elsewhere`, method: 'POST', body: 'x' },
    });
    const job = await finished(sent.body.id);
    expect(job.state).toBe('failed');
    expect(job.failedReason).toMatch(/not one of the allowed targets/);
  });

  it('holds a target to its concurrency limit: jobs wait for a slot, none fails', async () => {
    const sent = await Promise.all(
      [1, 2, 3, 4].map((n) =>
        enqueue({ data: { url: `${platform.receiver.url}/slow/${n}`, method: 'GET' } }),
      ),
    );
    const jobs = await Promise.all(sent.map((s) => finished(s.body.id)));
    expect(jobs.map((job) => job.state)).toEqual([
      'completed',
      'completed',
      'completed',
      'completed',
    ]);
    expect(most).toBe(1);
  });

  it('refuses targets the key does not allow, and keys without a signing secret', async () => {
    const other = await enqueue({ data: { url: 'https://example.com/x', method: 'GET' } });
    expect(other.status).toBe(403);
    expect(other.body.type).toMatch(/target-not-allowed$/);
    const callback = await enqueue({
      data: { url: `${platform.receiver.url}/ok`, method: 'GET' },
      callbackUrl: 'http://169.254.169.254/latest/meta-data',
    });
    expect(callback.status).toBe(403);
    const unsigned = await enqueue(
      { data: { url: `${platform.receiver.url}/ok`, method: 'GET' } },
      { authorization: 'Bearer nosecret-0123456789ab' },
    );
    expect(unsigned.status).toBe(409);
    expect(unsigned.body.type).toMatch(/signing-secret-missing$/);
  });
});
