import { eventually, request } from '@errand/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProducer } from '../test/app.testkit.ts';
import { openStream, scriptedWorker } from '../test/job-events.testkit.ts';
import { compareIds } from './job-event-log.ts';

/** GET /v1/jobs/{type}/{id}/events against a real Redis and a real BullMQ Worker. */
describe('job events (SSE)', () => {
  let producer: Awaited<ReturnType<typeof startProducer>>;
  let worker: ReturnType<typeof scriptedWorker>;

  beforeAll(async () => {
    producer = await startProducer('sse');
    worker = scriptedWorker(producer.redisServer.url, 'sse');
  });
  afterAll(async () => {
    await worker?.close();
    await producer?.stop();
  });

  const enqueue = async (subject = 'x') => {
    const { body } = await request(`${producer.api}/v1/jobs/email`, {
      method: 'POST',
      json: { data: { to: 'a@example.com', subject, text: 'x' } },
    });
    return body.id as string;
  };
  const streamOf = (id: string) => openStream(`${producer.api}/v1/jobs/email/${id}/events`);

  it('streams state, progress and completed, each with an increasing id, then closes', async () => {
    const id = await enqueue();
    const stream = await streamOf(id); // headers are sent once the stream listens
    worker.step(id, 50, 'done');
    const events = await stream.rest();
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(events.map((e) => e.event)).toEqual(['state', 'progress', 'completed']);
    expect(events[1]?.data).toEqual({ id, progress: 50 });
    expect(events[2]?.data).toMatchObject({
      id,
      state: 'completed',
      result: { accepted: ['a@example.com'] },
    });
    // Redis stream ids, in order; the end found by polling repeats the id before it.
    const [state = '', progress = '', completed = ''] = events.map((e) => e.id ?? '');
    expect(state).toMatch(/^\d+-\d+$/);
    expect(compareIds(state, progress)).toBe(-1);
    expect(compareIds(progress, completed)).toBeLessThanOrEqual(0);
  });

  it('streams failed with the reason for a job that fails', async () => {
    const id = await enqueue();
    const stream = await streamOf(id);
    worker.step(id, 50, 'fail');
    const events = await stream.rest();
    expect(events.map((e) => e.event)).toEqual(['state', 'progress', 'failed']);
    expect(events[2]?.data).toMatchObject({ id, state: 'failed', failedReason: 'mailbox full' });
  });

  it('sends the final event at once for a job that already finished', async () => {
    const id = await enqueue();
    worker.step(id, 'done');
    await eventually(async () =>
      (await producer.queues.email.getJobState(id)) === 'completed' ? true : undefined,
    );
    const events = await (await streamOf(id)).rest();
    expect(events.map((e) => e.event)).toEqual(['state', 'completed']);
  });

  it('ends with removed when the job is cancelled while watched', async () => {
    const { body } = await request(`${producer.api}/v1/jobs/email`, {
      method: 'POST',
      json: { data: { to: 'a@example.com', subject: 'later', text: 'x' }, delay: 60_000 },
    });
    const stream = await streamOf(body.id);
    expect(
      (await request(`${producer.api}/v1/jobs/email/${body.id}`, { method: 'DELETE' })).status,
    ).toBe(200);
    const events = await stream.rest();
    expect(events.map((e) => e.event)).toEqual(['state', 'removed']);
  });

  it('answers 404 problem+json for an unknown job', async () => {
    const response = await request(`${producer.api}/v1/jobs/email/nope/events`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.body.type).toMatch(/job-not-found$/);
  });
});
