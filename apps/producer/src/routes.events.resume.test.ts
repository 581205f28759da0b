import { eventually, request } from '@errand/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProducer } from '../test/app.testkit.ts';
import { openStream, type SseEvent, scriptedWorker } from '../test/job-events.testkit.ts';
import { compareIds } from './job-event-log.ts';

const U64 = '18446744073709551615';

/** GET /v1/jobs/{type}/{id}/events with Last-Event-ID: a dropped stream goes on where it was. */
describe('job events (SSE): resuming with Last-Event-ID', () => {
  let producer: Awaited<ReturnType<typeof startProducer>>;
  let worker: ReturnType<typeof scriptedWorker>;

  beforeAll(async () => {
    producer = await startProducer('sse-resume');
    worker = scriptedWorker(producer.redisServer.url, 'sse-resume');
  });
  afterAll(async () => {
    await worker?.close();
    await producer?.stop();
  });

  const enqueue = async () => {
    const { body } = await request(`${producer.api}/v1/jobs/email`, {
      method: 'POST',
      json: { data: { to: 'a@example.com', subject: 'steps', text: 'x' } },
    });
    return body.id as string;
  };
  const streamOf = (id: string, lastEventId?: string) =>
    openStream(
      `${producer.api}/v1/jobs/email/${id}/events`,
      lastEventId === undefined ? {} : { 'last-event-id': lastEventId },
    );
  const progressOf = (id: string, progress: number) =>
    eventually(async () =>
      (await producer.queues.email.getJob(id))?.progress === progress ? true : undefined,
    );
  const stateOf = (id: string, state: string) =>
    eventually(async () =>
      (await producer.queues.email.getJobState(id)) === state ? true : undefined,
    );
  /** Watch a job up to its second progress (1, 2), then drop the connection. */
  const watchThenDrop = async (id: string) => {
    const stream = await streamOf(id);
    const state = await stream.next();
    worker.step(id, 1, 2);
    const seen = [state, await stream.next(), await stream.next()] as SseEvent[];
    stream.drop();
    expect(seen.map((e) => [e.event, e.data.progress])).toEqual([
      ['state', 0],
      ['progress', 1],
      ['progress', 2],
    ]);
    return seen;
  };
  const summary = (events: SseEvent[]) =>
    events.map((e) => [e.event, e.event === 'progress' ? e.data.progress : e.data.state]);

  it('sends exactly the events missed while disconnected, in order, then the final one', async () => {
    const id = await enqueue();
    const seen = await watchThenDrop(id);
    const last = seen[2]?.id ?? '';
    worker.step(id, 3, 4, 'done');
    await stateOf(id, 'completed');

    const events = await (await streamOf(id, last)).rest();
    expect(summary(events)).toEqual([
      ['state', 'completed'],
      ['progress', 3],
      ['progress', 4],
      ['completed', 'completed'],
    ]);
    expect(events[0]?.id).toBe(last); // nothing was lost: the state carries the id resumed from
    const ids = events.map((e) => e.id ?? '');
    expect(compareIds(last, ids[1] ?? '')).toBe(-1);
    expect(compareIds(ids[1] ?? '', ids[2] ?? '')).toBe(-1);
    expect(compareIds(ids[2] ?? '', ids[3] ?? '')).toBe(-1);
  });

  it('replays the missed events, then goes on with live ones', async () => {
    const id = await enqueue();
    const seen = await watchThenDrop(id);
    worker.step(id, 3);
    await progressOf(id, 3);

    const resumed = await streamOf(id, seen[2]?.id);
    const replayed = [await resumed.next(), await resumed.next()] as SseEvent[];
    worker.step(id, 4, 'done');
    const events = [...replayed, ...(await resumed.rest())];
    expect(summary(events)).toEqual([
      ['state', 'active'],
      ['progress', 3],
      ['progress', 4],
      ['completed', 'completed'],
    ]);
  });

  it('sends the state with the newest id when the events stream was trimmed past the id', async () => {
    const id = await enqueue();
    const seen = await watchThenDrop(id);
    worker.step(id, 3);
    await progressOf(id, 3);
    await producer.redis.xtrim(producer.queues.email.keys.events ?? '', 'MAXLEN', 1);

    const resumed = await streamOf(id, seen[2]?.id);
    const state = await resumed.next();
    worker.step(id, 'done');
    const events = [state, ...(await resumed.rest())] as SseEvent[];
    expect(summary(events)).toEqual([
      ['state', 'active'],
      ['completed', 'completed'],
    ]);
    expect(state?.data.progress).toBe(3); // progress 3 was trimmed away: the state has it
    expect(compareIds(seen[2]?.id ?? '', state?.id ?? '')).toBe(-1);
  });

  it.each([
    ['from the future', `${U64}-${U64}`],
    ['older than every event kept', '1-1'],
    ['of zero', '0-0'],
  ])('answers an id %s with the state and then live events', async (_name, lastEventId) => {
    const id = await enqueue();
    const stream = await streamOf(id, lastEventId);
    const state = await stream.next();
    worker.step(id, 1, 'done');
    const events = [state, ...(await stream.rest())] as SseEvent[];
    expect(summary(events).slice(1)).toEqual([
      ['progress', 1],
      ['completed', 'completed'],
    ]);
    expect(state?.event).toBe('state');
    expect(state?.id).not.toBe(lastEventId); // a fresh start: the newest id
  });

  it.each([
    ['not an id', 'abc'],
    ['a number alone', '1711111111111'],
    ['a missing sequence', '1711111111111-'],
    ['a negative part', '-1-0'],
    ['a leading zero', '01-0'],
    ['a third part', '1-0-0'],
    ['a part over 2^64 - 1', `${U64.slice(0, -1)}6-0`],
    ['a part of 21 digits', `${'9'.repeat(21)}-0`],
    ['8,000 characters', `1-${'0'.repeat(7_998)}`],
    ['an exclusive range', '(1-0'],
    ['the newest-entry symbol', '$'],
    ['the range ends', '+'],
    ['an auto id', '1-*'],
    ['two ids (a repeated header)', '1-0, 2-0'],
    ['a Lua-looking id', "1-0'); redis.call('FLUSHALL"],
    ['a space inside', '1- 0'],
  ])('refuses a Last-Event-ID with %s: 400 problem+json', async (_name, lastEventId) => {
    const id = await enqueue();
    const response = await request(`${producer.api}/v1/jobs/email/${id}/events`, {
      headers: { 'last-event-id': lastEventId },
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.body.type).toMatch(/invalid-header$/);
    worker.step(id, 'done'); // the API still serves its stream after the 400
    expect(summary(await (await streamOf(id)).rest()).at(-1)).toEqual(['completed', 'completed']);
  });

  it('answers 404 for an unknown job, with a valid Last-Event-ID too', async () => {
    const response = await request(`${producer.api}/v1/jobs/email/nope/events`, {
      headers: { 'last-event-id': '1-0' },
    });
    expect(response.status).toBe(404);
    expect(response.body.type).toMatch(/job-not-found$/);
  });
});
