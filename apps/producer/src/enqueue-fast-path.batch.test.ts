import { makeEvents } from '@errand/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { startProducer } from '../test/app.testkit.ts';
import {
  PARITY_KEYS,
  parityOf,
  requestsCounted,
  shapeOf,
  startParityProducer,
} from '../test/fast-path.testkit.ts';

const { writer: WRITER, slow: SLOW } = PARITY_KEYS;
const ROUTE = '/v1/jobs/:type/batch';
const email = { to: 'a@example.com', subject: 'Hi', text: 'Hello' };
const batchOf = (...items: unknown[]) => JSON.stringify({ jobs: items });
const emails = (count: number) => Array.from({ length: count }, () => ({ data: email }));
/** Analytics events as the bench sends them (`bench/events.ts`). */
const eventsOf = (count: number, idPrefix: string) =>
  makeEvents({
    count,
    names: ['signup', 'page.view'],
    fromMs: Date.now() - 60_000,
    spanMs: 60_000,
    users: 1_000,
    idPrefix,
  });
const image = {
  data: { source: { url: 'https://img.example.com/a.png' }, outputs: [{ format: 'webp' }] },
};

/**
 * The fast path of `POST /v1/jobs/{type}/batch` answers exactly as the Express route does,
 * each case sent once by each (`parityOf`): the jobs all in Redis or none, the same problem
 * document with the same `errors[].path` for a bad item, the same replays, 429 and 503.
 */
describe('the fast path of a batch enqueue', () => {
  let producer: Awaited<ReturnType<typeof startProducer>>;
  beforeAll(async () => {
    producer = await startParityProducer('fastbatch', {
      bodyLimitBytes: 64 * 1024,
      maxWaiting: { image: 2 },
    });
  });
  afterAll(() => producer?.stop());

  const { post, both, sharesRateLimit } = parityOf(() => producer, WRITER);
  const stored = () =>
    producer.queues.email.getJobCountByTypes('waiting', 'prioritized', 'delayed');

  it('enqueues a batch as the route does: 202, each job in Redis in its state, the route’s metric', async () => {
    const counted = await requestsCounted(producer, ROUTE, 202);
    const before = await stored();
    const answer = await both(
      'email/batch',
      batchOf(
        { data: email },
        { data: email, priority: 5, attempts: 3 },
        { data: email, delay: 60_000 },
      ),
    );
    expect(answer.status).toBe(202);
    expect(answer.headers.get('location')).toBeNull();
    expect(answer.headers.get('ratelimit-policy')).toBe('"per-key";q=1000;w=1');
    expect(answer.body.jobs.map((job: { state: string }) => job.state)).toEqual([
      'waiting',
      'prioritized',
      'delayed',
    ]);
    const options = [];
    for (const { id, type } of answer.body.jobs) {
      expect(type).toBe('email');
      const job = await producer.queues.email.getJob(id);
      expect(job?.name).toBe('writer');
      expect(job?.data).toEqual(email);
      options.push(job?.opts);
    }
    expect(options[0]).toMatchObject({ attempts: 5 }); // the type's default
    expect(options[1]).toMatchObject({ priority: 5, attempts: 3 });
    expect(options[2]).toMatchObject({ delay: 60_000 });
    expect(await stored()).toBe(before + 6);
    expect(await requestsCounted(producer, ROUTE, 202)).toBe(counted + 2);

    // The bench's shape: 100 analytics jobs of one event each.
    const events = eventsOf(100, 'fast-batch');
    const analytics = await both(
      'analytics/batch',
      batchOf(...events.map((e) => ({ data: { events: [e] } }))),
    );
    expect(analytics.body.jobs).toHaveLength(100);
    const counts = await producer.queues.analytics.getJobCountByTypes('waiting');
    expect(counts).toBe(200);
  });

  it('refuses what the route refuses, with the same problem documents and paths, and adds nothing', async () => {
    const before = await stored();
    const badAt = (index: number, item: unknown) => {
      const items: unknown[] = emails(5);
      items[index] = item;
      return batchOf(...items);
    };
    const badEvent = eventsOf(5, 'fast-batch-bad').map((e, i) => ({
      data: { events: [i === 3 ? { ...e, name: 'no spaces' } : e] },
    }));
    const cases: [path: string, body: string, status: number, errorPaths?: string[]][] = [
      [
        'email/batch',
        badAt(3, { data: { ...email, to: 'not an address' } }),
        400,
        ['jobs.3.data.to'],
      ],
      ['analytics/batch', batchOf(...badEvent), 400, ['jobs.3.data.events.0.name']],
      [
        'email/batch',
        badAt(1, { data: email, delay: 5, runAt: '2030-01-01T00:00:00Z' }),
        400,
        ['jobs.1.runAt'],
      ],
      ['email/batch', badAt(4, { data: email, extra: 1 }), 400, ['jobs.4']],
      ['email/batch', badAt(0, 'not an object'), 400, ['jobs.0']],
      ['email/batch', batchOf(), 400, ['jobs']],
      ['email/batch', batchOf(...emails(1001).map(() => ({ data: {} }))), 400, ['jobs']],
      ['email/batch', JSON.stringify({ jobs: { data: email } }), 400, ['jobs']],
      ['email/batch', JSON.stringify({ jobs: emails(1), atomic: false }), 400, ['(body)']],
      ['email/batch', '[]', 400, ['(body)']],
      ['email/batch', '{"jobs":[', 400],
      ['email/batch', '"just a string"', 400],
      [
        'email/batch',
        '{"jobs":[{"data":{"to":"a@example.com","subject":"x","text":"y"},"__proto__":{}}]}',
        400,
        ['jobs.0.__proto__'],
      ],
      ['email/batch', '{"jobs":[{"data":{"\\u005f_proto__":{}}}]}', 400, ['jobs.0.data.__proto__']],
      ['http/batch', batchOf({ data: { url: 'https://evil.example.com/x', method: 'POST' } }), 403],
    ];
    for (const [path, body, status, errorPaths] of cases) {
      const answer = await both(path, body);
      expect(answer.status, body.slice(0, 200)).toBe(status);
      if (errorPaths) {
        expect(answer.body.errors.map((e: { path: string }) => e.path)).toEqual(errorPaths);
      }
    }
    expect(await stored()).toBe(before);
  });

  it('answers Idempotency-Key replays and mismatches of a batch alike, whichever route took the first', async () => {
    const body = batchOf(...emails(3));
    for (const [first, again] of [
      ['fast', 'app'],
      ['app', 'fast'],
    ] as const) {
      const key = { 'idempotency-key': `batch-${first}-first` };
      const added = await post(first, 'email/batch', body, key);
      const replayed = await post(again, 'email/batch', body, key);
      expect([added.status, replayed.status]).toEqual([202, 200]);
      expect(replayed.body).toEqual(added.body);
      expect(replayed.headers.get('idempotent-replayed')).toBe('true');
      const other = batchOf(...emails(2));
      const mismatches = [await post('fast', 'email/batch', other, key)];
      mismatches.push(await post('app', 'email/batch', other, key));
      expect(mismatches.map((answer) => answer.status)).toEqual([422, 422]);
      expect(shapeOf(mismatches[0] as never)).toEqual(shapeOf(mismatches[1] as never));
    }
  });

  it('shares the rate limit with the app and answers 429 as it does', async () => {
    await sharesRateLimit('email/batch', batchOf(...emails(2)), SLOW);
  });

  it('leaves to the app what it does not take: a body over the limit, a path spelled otherwise', async () => {
    const before = { ...producer.served };
    const answers = [
      await post('fast', 'email/batch', batchOf({ data: { ...email, text: 'x'.repeat(65_536) } })),
      await post('fast', 'email/batch/', batchOf(...emails(1))),
      await post('fast', 'email/Batch', batchOf(...emails(1))),
    ];
    expect(answers.map((a) => a.status)).toEqual([413, 202, 202]);
    expect(producer.served.fast - before.fast).toBe(0);
    expect(producer.served.app - before.app).toBe(answers.length);
  });

  it('answers 503 queue-full and, with Redis gone, 503 redis-unavailable, as the route does', async () => {
    const counted = await requestsCounted(producer, ROUTE, 503);
    const full = await both('image/batch', batchOf(image, image, image));
    expect(full.status).toBe(503);
    expect(full.body.type).toMatch(/queue-full$/);
    expect(await producer.queues.image.getJobCountByTypes('waiting')).toBe(0);
    expect(await requestsCounted(producer, ROUTE, 503)).toBe(counted + 2);
    await producer.redisServer.kill();
    const gone = await both('email/batch', batchOf(...emails(2)));
    expect(gone.status).toBe(503);
    expect(gone.body.type).toMatch(/redis-unavailable$/);
  });
});
