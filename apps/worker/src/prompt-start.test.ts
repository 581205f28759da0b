import { eventually, startTestRedis, type TestRedis } from '@errand/testing';
import { createRedisBackend, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { promptStart } from './prompt-start.ts';

let server: TestRedis;
const open: { close(): Promise<unknown> }[] = [];
beforeAll(async () => {
  server = await startTestRedis({ appendonly: false });
});
afterEach(async () => {
  for (const part of open.splice(0).reverse()) await part.close();
});
afterAll(() => server?.stop());

type Call = 'wait' | 'woke' | 'job' | 'none';

/**
 * A bare BullMQ Worker (concurrency 10, BullMQ's 5 s blocking wait) with `promptStart`, and
 * the calls that reached Redis: each blocking wait, each fetch by what it brought; `started`
 * holds, for each job, the calls made when its processor started.
 */
async function promptWorker(prefix: string) {
  const calls: Call[] = [];
  const started: Call[][] = [];
  const connection = new Redis(server.url, { maxRetriesPerRequest: null });
  const worker = new Worker(
    'prompt',
    async () => {
      started.push([...calls]);
    },
    { connection, prefix, concurrency: 10 },
    (name, opts, extra) => {
      const backend = createRedisBackend(name, opts, extra);
      const { waitForJob, moveToActive } = backend;
      backend.waitForJob = async (...args) => {
        calls.push('wait');
        const marker = await waitForJob.apply(backend, args);
        calls.push('woke');
        return marker;
      };
      backend.moveToActive = async (...args) => {
        const next = await moveToActive.apply(backend, args);
        calls.push(next[0] ? 'job' : 'none');
        return next;
      };
      promptStart(backend);
      return backend;
    },
  );
  const queue = new Queue('prompt', { connection, prefix });
  open.push({ close: () => Promise.resolve(connection.disconnect()) }, queue, {
    close: () => worker.close(),
  });
  await worker.waitUntilReady();
  await eventually(() => (calls.at(-1) === 'wait' ? true : undefined));
  return { queue, calls, started };
}

describe('promptStart', () => {
  it('starts a job that wakes an idle worker before asking Redis for another', async () => {
    const { queue, calls, started } = await promptWorker('prompt-lone');
    for (let i = 0; i < 5; i++) {
      const idle = calls.length;
      await queue.add('lone', { i });
      await eventually(() => (started.length > i ? true : undefined));
      // woken, fetched, started: no fetch of a next job came first
      expect(started[i]?.slice(idle)).toEqual(['woke', 'job']);
      // then back to waiting, one fetch fewer than BullMQ's own loop: the marker the fetch put
      // back wakes it at once, and it finds nothing
      const back = ['woke', 'job', 'wait', 'woke', 'none', 'wait'];
      await eventually(() => (calls.length >= idle + back.length ? true : undefined));
      expect(calls.slice(idle)).toEqual(back);
    }
  });

  it('runs a burst at once, fetching without blocking after its first job', async () => {
    const { queue, calls, started } = await promptWorker('prompt-burst');
    const idle = calls.length;
    const begun = Date.now();
    await queue.addBulk(Array.from({ length: 50 }, (_, i) => ({ name: 'burst', data: { i } })));
    await eventually(() => (started.length === 50 ? true : undefined), { timeoutMs: 4_000 });
    // none waited for the 5 s blocking wait to end: the skipped fetch left no job behind
    expect(Date.now() - begun).toBeLessThan(4_000);
    await eventually(() => (calls.at(-1) === 'wait' ? true : undefined));
    // a wait after the first job's skipped follow-up, then the waits of an emptied queue (3 in
    // all, more if a completion's fetch puts a marker back meanwhile): the other jobs came
    // without a wait each, by fetches or by the completions
    expect(calls.slice(idle).filter((call) => call === 'wait').length).toBeLessThanOrEqual(5);
  });
});
