import { request } from '@errand/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProducer } from '../test/app.testkit.ts';
import { finisher, idsOf, iso } from '../test/dead-letter.testkit.ts';

/** GET /v1/jobs/{type}: the jobs of a state, newest first, against a real Redis and BullMQ. */
describe('job listing', () => {
  let producer: Awaited<ReturnType<typeof startProducer>>;
  let jobs: Awaited<ReturnType<typeof finisher>>;
  let api: string;
  beforeAll(async () => {
    producer = await startProducer('listing');
    api = producer.api;
    jobs = await finisher(producer);
  });
  afterAll(async () => {
    await jobs?.close();
    await producer?.stop();
  });

  const list = (query: string) => request(`${api}/v1/jobs/email${query}`);

  it('pages failed jobs newest first, with a cursor that new failures do not shift', async () => {
    const failed = await jobs.fail('a', 'b', 'c', 'd', 'e');
    const ids = failed.map((job) => job.id as string).reverse();
    const first = await list('?limit=2');
    expect(first.status).toBe(200);
    expect(idsOf(first.body)).toEqual(ids.slice(0, 2));
    expect(first.body.cursor).toEqual(expect.any(String));
    // The same view as GET /v1/jobs/{type}/{id}
    expect(first.body.jobs[0]).toEqual((await request(`${api}/v1/jobs/email/${ids[0]}`)).body);
    expect(first.body.jobs[0]).toMatchObject({
      state: 'failed',
      failedReason: 'e',
      producer: 'test',
    });

    const newer = await jobs.fail('f', 'g');
    const second = await list(`?limit=2&cursor=${first.body.cursor}`);
    expect(idsOf(second.body)).toEqual(ids.slice(2, 4));
    const last = await list(`?limit=2&cursor=${second.body.cursor}`);
    expect(idsOf(last.body)).toEqual(ids.slice(4));
    expect(last.body.cursor).toBeNull();

    const all = await list('?limit=1000');
    expect(idsOf(all.body)).toEqual([...newer.map((j) => j.id).reverse(), ...ids]);
    expect(all.body.cursor).toBeNull();
    await producer.queues.email.clean(0, 1000, 'failed');
  });

  it('takes dead for failed; since and until bound when the job finished, both included', async () => {
    const failed = await jobs.fail('1', '2', '3', '4', '5');
    const [, from, mid, to] = failed;
    const range = `since=${iso(from?.finishedOn)}&until=${iso(to?.finishedOn)}`;
    const page = await list(`?state=dead&${range}`);
    expect(idsOf(page.body)).toEqual([to?.id, mid?.id, from?.id]);
    const paged = await list(`?state=failed&${range}&limit=2`);
    expect(idsOf(paged.body)).toEqual([to?.id, mid?.id]);
    const rest = await list(`?state=failed&${range}&limit=2&cursor=${paged.body.cursor}`);
    expect(rest.body).toMatchObject({ jobs: [{ id: from?.id }], cursor: null });
    await producer.queues.email.clean(0, 1000, 'failed');
  });

  it('pages a run of jobs that finished in the same ms, each once', async () => {
    const failed = await jobs.fail('t1', 't2', 't3', 't4');
    // The same score for all: the cursor must go on by id within it.
    const key = producer.queues.email.toKey('failed');
    for (const job of failed) await producer.redis.zadd(key, 1_000, job.id as string);
    const seen: string[] = [];
    let cursor = '';
    do {
      const page = await list(`?limit=3${cursor && `&cursor=${cursor}`}`);
      seen.push(...idsOf(page.body));
      cursor = page.body.cursor ?? '';
    } while (cursor);
    expect(seen.sort()).toEqual(failed.map((job) => job.id as string).sort());
    await producer.queues.email.clean(0, 1000, 'failed');
  });

  it('lists completed, waiting, delayed and prioritized jobs', async () => {
    const done = [await jobs.complete({ n: 1 }), await jobs.complete({ n: 2 })];
    const completed = await list('?state=completed');
    expect(idsOf(completed.body)).toEqual([done[1]?.id, done[0]?.id]);
    expect(completed.body.jobs[0]).toMatchObject({ state: 'completed', result: { n: 2 } });

    const post = (body: object) => request(`${api}/v1/jobs/email`, { method: 'POST', json: body });
    const data = { to: 'w@example.com', subject: 'W', text: 'x' };
    const waiting = [];
    for (let n = 0; n < 3; n++) waiting.push((await post({ data })).body.id);
    const soon = (await post({ data, delay: 60_000 })).body.id;
    const later = (await post({ data, delay: 120_000 })).body.id;
    const urgent = (await post({ data, priority: 1 })).body.id;
    const lazy = (await post({ data, priority: 9 })).body.id;

    const firstTwo = await list('?state=waiting&limit=2');
    expect(idsOf(firstTwo.body)).toEqual([waiting[2], waiting[1]]);
    const rest = await list(`?state=waiting&limit=2&cursor=${firstTwo.body.cursor}`);
    expect(rest.body).toMatchObject({ jobs: [{ id: waiting[0], state: 'waiting' }], cursor: null });
    expect(idsOf((await list('?state=delayed')).body)).toEqual([later, soon]);
    const due = new Date(Date.now() + 90_000).toISOString();
    expect(idsOf((await list(`?state=delayed&until=${due}`)).body)).toEqual([soon]);
    // Prioritized: the last to run first, as the wait list.
    expect(idsOf((await list('?state=prioritized')).body)).toEqual([lazy, urgent]);
    expect((await list('?state=active')).body).toEqual({ jobs: [], cursor: null });
  });

  it('keeps the routes of one job beside the listing', async () => {
    const data = { to: 'o@example.com', subject: 'O', text: 'x' };
    const added = await request(`${api}/v1/jobs/email`, { method: 'POST', json: { data } });
    const one = await request(`${api}/v1/jobs/email/${added.body.id}`);
    expect(one.body).toMatchObject({ id: added.body.id, state: 'waiting' });
    const cancelled = await request(`${api}/v1/jobs/email/${added.body.id}`, { method: 'DELETE' });
    expect(cancelled.body).toMatchObject({ state: 'cancelled' });
    // A job whose id is "retry" is still read by its own route.
    expect((await request(`${api}/v1/jobs/email/retry`)).body.type).toMatch(/job-not-found$/);
  });
});
