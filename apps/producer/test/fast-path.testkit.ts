import { request } from '@errand/testing';
import { expect } from 'vitest';
import { startProducer, type TestProducerOptions } from './app.testkit.ts';

type Producer = Awaited<ReturnType<typeof startProducer>>;
type Answer = Awaited<ReturnType<typeof request>>;

/** The keys of a parity test's producer: one to write with, one limited to 3 a second, one
 * with allowed targets. */
export const PARITY_KEYS = {
  writer: 'parity-writer-secret-0123456789',
  slow: 'parity-slow-secret-0123456789ab',
  caller: 'parity-caller-secret-0123456789',
};

/** A producer of `prefix` with those keys and a rate limit of 1,000 a second otherwise. */
export const startParityProducer = (prefix: string, options: TestProducerOptions = {}) =>
  startProducer(prefix, {
    rateLimit: 1_000,
    ...options,
    apiKeys: [
      { name: 'writer', key: PARITY_KEYS.writer, scopes: ['enqueue', 'read'] },
      { name: 'slow', key: PARITY_KEYS.slow, scopes: ['enqueue'], rateLimit: 3 },
      {
        name: 'caller',
        key: PARITY_KEYS.caller,
        scopes: ['enqueue'],
        allowedTargets: ['https://api.example.com'],
      },
    ],
  });

/** What an answer is made of, without what differs between two requests (date, job ids). */
export function shapeOf(answer: Answer) {
  const header = (name: string) => answer.headers.get(name);
  let body = answer.body;
  if (body && typeof body === 'object') {
    body = { ...body };
    if ('id' in body) body.id = '<id>';
    if (Array.isArray(body.jobs)) {
      body.jobs = body.jobs.map((job: unknown) =>
        job && typeof job === 'object' && 'id' in job ? { ...job, id: '<id>' } : job,
      );
    }
  }
  return {
    status: answer.status,
    body,
    contentType: header('content-type'),
    policy: header('ratelimit-policy'),
    rateLimit: header('ratelimit')?.replace(/r=\d+/, 'r=<n>'),
    retryAfter: header('retry-after'),
    replayed: header('idempotent-replayed'),
    location: header('location')?.replace(/[^/]+$/, '<id>'),
  };
}

/**
 * Requests to the enqueue routes of the producer (`producerOf`: it starts in a `beforeAll`), as the fast path takes them (`fast`) or with
 * a content type only the Express app takes (`app`: `charset="utf-8"`, quoted, the same thing
 * to body-parser), and `both`: the same request by each route in turn, checking which served
 * it and that the two answers match, status, headers and problem document alike.
 */
export function parityOf(producerOf: () => Producer, defaultKey: string) {
  const post = (
    route: 'fast' | 'app',
    path: string,
    body: string,
    headers: Record<string, string> = {},
    key = defaultKey,
  ) =>
    request(`${producerOf().api}/v1/jobs/${path}`, {
      method: 'POST',
      body,
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': route === 'fast' ? 'application/json' : 'application/json; charset="utf-8"',
        ...headers,
      },
    });
  async function both(path: string, body: string, headers: Record<string, string> = {}) {
    const producer = producerOf();
    const before = { ...producer.served };
    const fast = await post('fast', path, body, headers);
    const app = await post('app', path, body, headers);
    expect(producer.served.fast - before.fast, 'the fast path took the first').toBe(1);
    expect(producer.served.app - before.app, 'the app took the second').toBe(1);
    expect(shapeOf(fast)).toEqual(shapeOf(app));
    return fast;
  }
  /**
   * Five requests of a key limited to 3 a second, by the two routes in turn: the same count,
   * so the same 429s and the same `RateLimit` values from whichever route answers.
   */
  async function sharesRateLimit(path: string, body: string, key: string) {
    const answers = [];
    for (const route of ['fast', 'app', 'fast', 'fast', 'app'] as const) {
      answers.push(await post(route, path, body, {}, key));
    }
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 429, 429]);
    expect(answers.map((a) => a.headers.get('ratelimit'))).toEqual([
      '"per-key";r=2;t=1',
      '"per-key";r=1;t=1',
      '"per-key";r=0;t=1',
      '"per-key";r=0;t=1',
      '"per-key";r=0;t=1',
    ]);
    expect(shapeOf(answers[3] as never)).toEqual(shapeOf(answers[4] as never));
  }
  return { post, both, sharesRateLimit };
}

/** How many requests the request metric counted under `route` with `status`. */
export async function requestsCounted(producer: Producer, route: string, status: number) {
  const metrics = await request(`${producer.api}/metrics`);
  const line = (metrics.body as string)
    .split('\n')
    .find(
      (l) =>
        l.includes('_count{') &&
        l.includes(`route="${route}"`) &&
        l.includes(`status="${status}"`) &&
        l.includes('method="POST"'),
    );
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}
