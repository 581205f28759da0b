import { request } from '@errand/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProducer } from './app.testkit.ts';

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

  it('refuses a key that is too long or not visible ASCII', async () => {
    expect((await send('k'.repeat(256), mail)).status).toBe(400);
    expect((await send('naïve', mail)).status).toBe(400);
  });
});
