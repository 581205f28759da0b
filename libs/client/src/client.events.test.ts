import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { jobs } from '@errand/contract';
import { queuePrefix } from '@errand/queues';
import {
  eventually,
  type ProducerProcess,
  startProducerProcess,
  startTestRedis,
  type TestRedis,
} from '@errand/testing';
import { type Job, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type JobEvent } from './index.ts';

const KEY = 'client-events-key-0123456789';

/**
 * A TCP proxy in front of the producer, standing for the network: `cut()` drops every open
 * connection; `down()` also refuses new ones (accepts and closes them) until `up()`.
 */
async function startProxy(target: string) {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  let refusing = false;
  const counts = { accepted: 0, refused: 0 };
  const server = createServer((client) => {
    client.on('error', () => {});
    if (refusing) {
      counts.refused++;
      client.destroy();
      return;
    }
    counts.accepted++;
    const upstream = connect(Number(port), hostname);
    upstream.on('error', () => {});
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(from);
      from.pipe(to);
      from.on('close', () => {
        sockets.delete(from);
        to.destroy();
      });
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const cut = () => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts,
    cut,
    down() {
      refusing = true;
      cut();
    },
    up() {
      refusing = false;
    },
    async close() {
      cut();
      server.close();
      await once(server, 'close');
    },
  };
}

type Step = number | 'done';

/** The typed client's `events()` through a connection that fails, against a real producer. */
describe('@errand/client events: reconnecting with Last-Event-ID', () => {
  let redis: TestRedis;
  let producer: ProducerProcess;
  let connection: Redis;
  let worker: Worker;
  let proxy: Awaited<ReturnType<typeof startProxy>> | undefined;
  // Each email job reports the progress its test gives it, then completes on 'done'.
  const scripts = new Map<string, { steps: Step[]; wake?: () => void }>();
  const scriptOf = (id: string) => {
    const script = scripts.get(id) ?? { steps: [] };
    scripts.set(id, script);
    return script;
  };
  const step = (id: string, ...steps: Step[]) => {
    const script = scriptOf(id);
    script.steps.push(...steps);
    script.wake?.();
  };
  const take = async (id: string) => {
    const script = scriptOf(id);
    while (script.steps.length === 0) {
      await new Promise<void>((resolve) => {
        script.wake = resolve;
      });
    }
    return script.steps.shift() as Step;
  };

  beforeAll(async () => {
    redis = await startTestRedis();
    producer = await startProducerProcess({
      REDIS_URL: redis.url,
      QUEUE_PREFIX: 'client-events',
      API_KEYS: JSON.stringify([{ name: 'svc', key: KEY, scopes: ['enqueue', 'read', 'admin'] }]),
    });
    connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    worker = new Worker(
      jobs.email.queue,
      async (job: Job) => {
        const id = String(job.id);
        for (let next = await take(id); next !== 'done'; next = await take(id)) {
          await job.updateProgress(next);
        }
        return { messageId: '<m@x>', accepted: [job.data.to], rejected: [], response: '250' };
      },
      {
        connection,
        prefix: queuePrefix('client-events', jobs.email.queue),
        concurrency: 10,
      },
    );
  });
  afterEach(() => proxy?.close());
  afterAll(async () => {
    await worker?.close(true);
    connection?.disconnect();
    await producer?.stop();
    await redis?.stop();
  });

  const direct = () => createClient({ baseUrl: producer.api, apiKey: KEY });
  /** A client whose calls go through a new proxy; quick backoff, so the test is quick. */
  const proxied = async (retries = 50) => {
    proxy = await startProxy(producer.api);
    const client = createClient({
      baseUrl: proxy.url,
      apiKey: KEY,
      retries,
      retry: { baseDelayMs: 10, maxDelayMs: 100 },
    });
    return { client, proxy };
  };
  const mail = { to: 'a@example.com', subject: 'hi', text: 'x' };
  /** Read an event iterator one event at a time, keeping what it read. */
  const reader = (events: AsyncGenerator<JobEvent<'email'>>) => {
    const seen: JobEvent<'email'>[] = [];
    return {
      seen,
      async next() {
        const { value, done } = await events.next();
        if (done) throw new Error('the events ended early');
        seen.push(value);
        return value;
      },
      async rest() {
        for await (const event of events) seen.push(event);
        return seen;
      },
    };
  };
  const summary = (events: JobEvent<'email'>[]) =>
    events.map((e) => [e.event, e.event === 'progress' ? e.data.progress : e.data.state]);

  it('reconnects by itself when the connection is cut, and yields every event once', async () => {
    const { client, proxy } = await proxied();
    const job = await direct().enqueue('email', mail);
    const events = reader(client.events('email', job.id));
    expect((await events.next()).event).toBe('state');
    step(job.id, 1);
    await events.next();
    proxy.cut(); // mid-stream: it reconnects at once, while the job goes on
    step(job.id, 2);
    await events.next();
    proxy.down(); // cut again, and no way back until the job has finished
    step(job.id, 3, 4, 'done');
    await eventually(async () =>
      (await direct().get('email', job.id)).state === 'completed' ? true : undefined,
    );
    proxy.up();
    const seen = await events.rest();
    expect(summary(seen.slice(1))).toEqual([
      ['progress', 1],
      ['progress', 2],
      ['progress', 3],
      ['progress', 4],
      ['completed', 'completed'],
    ]);
    expect(seen.at(-1)).toMatchObject({ data: { result: { accepted: ['a@example.com'] } } });
    expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);
    expect(proxy.counts.accepted).toBeGreaterThanOrEqual(3); // the first stream and 2 resumes
  });

  it('ends with removed when the job was cancelled while it was disconnected', async () => {
    const { client, proxy } = await proxied();
    const job = await direct().enqueue('email', mail, { delay: 60_000 });
    const events = reader(client.events('email', job.id));
    expect((await events.next()).event).toBe('state');
    proxy.down();
    await direct().cancel('email', job.id);
    proxy.up();
    expect(summary(await events.rest())).toEqual([
      ['state', 'delayed'],
      ['removed', 'removed'],
    ]);
  });

  it('gives up after `retries` reconnects in a row that fail', async () => {
    const { client, proxy } = await proxied(2);
    const job = await direct().enqueue('email', mail, { delay: 60_000 });
    const events = reader(client.events('email', job.id));
    await events.next();
    proxy.down();
    await expect(events.rest()).rejects.toThrow(/ended before the job did/);
    expect(proxy.counts.refused).toBe(2);
    await direct().cancel('email', job.id);
  });

  it('resumes from a lastEventId given by the caller, as another process would', async () => {
    const job = await direct().enqueue('email', mail);
    const first = reader(direct().events('email', job.id));
    const state = await first.next();
    step(job.id, 1);
    const one = await first.next();
    step(job.id, 2, 'done');
    await first.rest();
    const resumed = await reader(direct().events('email', job.id, { lastEventId: one.id })).rest();
    expect(summary(resumed)).toEqual([
      ['progress', 2],
      ['completed', 'completed'],
    ]);
    expect(state.id).toMatch(/^\d+-\d+$/);
  });
});
