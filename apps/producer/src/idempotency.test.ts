import { jobs } from '@errand/contract';
import { queuePrefix } from '@errand/queues';
import { request } from '@errand/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProducer } from '../test/app.testkit.ts';
import { claimKey, IDEMPOTENCY_LEASE_MS } from './idempotency.ts';

/** Idempotency-Key: a retried request gets the same job, never a second one. */
describe('Idempotency-Key', () => {
  let producer: Awaited<ReturnType<typeof startProducer>>;
  beforeAll(async () => {
    producer = await startProducer('idem');
  });
  afterAll(() => producer?.stop());

  const send = (key: string, data: unknown) =>
    request(`${producer.api}/v1/jobs/email`, {
      method: 'POST',
      headers: { 'idempotency-key': key },
      json: { data },
    });
  const mail = { to: 'a@example.com', subject: 'Once', text: 'x' };
  const count = () => producer.queues.email.getJobCountByTypes('waiting', 'completed', 'failed');

  it('answers a repeat with the same job and 200, and a changed body with 422', async () => {
    const first = await send('order-42', mail);
    expect(first.status).toBe(202);
    const again = await send('order-42', { text: 'x', subject: 'Once', to: 'a@example.com' });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('location')).toBe(`/v1/jobs/email/${first.body.id}`);
    const changed = await send('order-42', { ...mail, subject: 'Twice' });
    expect(changed.status).toBe(422);
    expect(changed.body.type).toMatch(/idempotency-mismatch$/);
    expect(await count()).toBe(1);
  });

  it('makes one job of 20 concurrent identical requests', async () => {
    const before = await count();
    const answers = await Promise.all(Array.from({ length: 20 }, () => send('burst-1', mail)));
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect(answers.filter((a) => a.status === 202)).toHaveLength(1);
    expect(answers.every((a) => a.status === 202 || a.status === 200)).toBe(true);
    expect(await count()).toBe(before + 1);
  });

  it('still answers with the same job after the job itself is gone', async () => {
    const first = await send('gone-1', mail);
    await producer.queues.email.remove(first.body.id);
    const again = await send('gone-1', mail);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
  });

  /** What a request leaves behind when it dies after claiming its key, before adding. */
  const diedAfterClaim = (key: string, data: unknown) =>
    claimKey(producer.redis, {
      prefix: queuePrefix('idem', jobs.email.queue),
      caller: 'anonymous',
      key,
      type: 'email',
      body: { data },
    });

  it('lets the same body add the job after a first request that added nothing', async () => {
    await diedAfterClaim('lost-1', mail);
    const before = await count();
    const retried = await send('lost-1', mail);
    expect(retried.status).toBe(202);
    expect(await count()).toBe(before + 1);
    const replay = await send('lost-1', mail);
    expect(replay.status).toBe(200);
    expect(replay.body.id).toBe(retried.body.id);
    expect(await count()).toBe(before + 1);
  });

  it('treats another body after a failed first request as a new request, once the first has had its time', async () => {
    await diedAfterClaim('lost-2', mail);
    const corrected = { ...mail, subject: 'Corrected' };
    const early = await send('lost-2', corrected);
    // The first request might still be running: nothing added, try again later.
    expect(early.status).toBe(409);
    expect(early.body.type).toMatch(/idempotency-in-progress$/);
    expect(Number(early.headers.get('retry-after'))).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, IDEMPOTENCY_LEASE_MS + 200));
    const taken = await send('lost-2', corrected);
    expect(taken.status).toBe(202);
    const job = await producer.queues.email.getJob(taken.body.id);
    expect(job?.data.subject).toBe('Corrected');
    // From now on the key belongs to the corrected request.
    expect((await send('lost-2', mail)).status).toBe(422);
    expect((await send('lost-2', corrected)).status).toBe(200);
  });

  it('refuses a key that is too long or not visible ASCII', async () => {
    expect((await send('k'.repeat(256), mail)).status).toBe(400);
    expect((await send('naïve', mail)).status).toBe(400);
  });
});
