import { jobs } from '@errand/contract';
import { eventually, request } from '@errand/testing';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProducer } from './app.testkit.ts';

/** Open an SSE stream; `read()` reads it to its end (the server ends it after a final event). */
async function openStream(url: string) {
  const response = await fetch(url, { headers: { accept: 'text/event-stream' } });
  return { response, read: () => readStream(response) };
}

async function readStream(response: Response) {
  const text = await response.text();
  const events = text
    .split('\n\n')
    .filter((block) => block.startsWith('event:'))
    .map((block) => {
      const [event, data] = block.split('\n');
      return { event: event?.slice(7), data: JSON.parse(data?.slice(6) ?? 'null') };
    });
  return { status: response.status, type: response.headers.get('content-type'), events };
}

/** GET /v1/jobs/{type}/{id}/events against a real Redis and a real BullMQ Worker. */
describe('job events (SSE)', () => {
  let producer: Awaited<ReturnType<typeof startProducer>>;
  let connection: Redis;
  let worker: Worker;
  const gates = new Map<string, () => void>();

  beforeAll(async () => {
    producer = await startProducer('sse');
    connection = new Redis(producer.redisServer.url, { maxRetriesPerRequest: null });
    // Jobs wait for their test to open the stream, report progress, then succeed or fail.
    worker = new Worker(
      jobs.email.queue,
      async (job: Job) => {
        await new Promise<void>((resolve) => gates.set(String(job.id), resolve));
        await job.updateProgress(50);
        if (job.data.subject === 'fail') throw new UnrecoverableError('mailbox full');
        return { messageId: '<m@x>', accepted: [job.data.to], rejected: [], response: '250' };
      },
      { connection, prefix: 'sse' },
    );
  });
  afterAll(async () => {
    await worker?.close();
    connection?.disconnect();
    await producer?.stop();
  });

  const enqueue = async (subject: string) => {
    const { body } = await request(`${producer.api}/v1/jobs/email`, {
      method: 'POST',
      json: { data: { to: 'a@example.com', subject, text: 'x' } },
    });
    return body.id as string;
  };
  const release = (id: string) =>
    eventually(() => {
      const open = gates.get(id);
      open?.();
      return open ? true : undefined;
    });
  const streamOf = (id: string) => openStream(`${producer.api}/v1/jobs/email/${id}/events`);

  it('streams state, progress and completed, then closes', async () => {
    const id = await enqueue('ok');
    const stream = await streamOf(id); // headers are sent once the stream listens
    await release(id);
    const { status, type, events } = await stream.read();
    expect(status).toBe(200);
    expect(type).toMatch(/^text\/event-stream/);
    expect(events.map((e) => e.event)).toEqual(['state', 'progress', 'completed']);
    expect(events[1]?.data).toEqual({ id, progress: 50 });
    expect(events[2]?.data).toMatchObject({
      id,
      state: 'completed',
      result: { accepted: ['a@example.com'] },
    });
  });

  it('streams failed with the reason for a job that fails', async () => {
    const id = await enqueue('fail');
    const stream = await streamOf(id);
    await release(id);
    const { events } = await stream.read();
    expect(events.map((e) => e.event)).toEqual(['state', 'progress', 'failed']);
    expect(events[2]?.data).toMatchObject({ id, state: 'failed', failedReason: 'mailbox full' });
  });

  it('sends the final event at once for a job that already finished', async () => {
    const id = await enqueue('ok');
    await release(id);
    await eventually(async () =>
      (await producer.queues.email.getJobState(id)) === 'completed' ? true : undefined,
    );
    const { events } = await (await streamOf(id)).read();
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
    const { events } = await stream.read();
    expect(events.map((e) => e.event)).toEqual(['state', 'removed']);
  });

  it('answers 404 problem+json for an unknown job', async () => {
    const response = await request(`${producer.api}/v1/jobs/email/nope/events`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.body.type).toMatch(/job-not-found$/);
  });
});
