import type { JobType } from '@errand/contract';
import type { JobOutcome } from '@errand/outbound';
import { eventually, startTestRedis, type TestRedis } from '@errand/testing';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { allCompleted } from '../test/fleet.testkit.ts';
import { startAnalyticsRuntime } from '../test/runtime.testkit.ts';
import { PermanentError, type Processor } from './processor.ts';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(() => redis?.stop());

const event = { events: [{ id: 'e1', name: 'signup', timestamp: new Date().toISOString() }] };
let running: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  await Promise.all(running.map((part) => part.close()));
  running = [];
});

/**
 * The runtime on the analytics queue of `prefix`, with `processor` for every type and an
 * outcome hook that Redis "refuses" the first time; the outcomes it was asked to record.
 */
async function runtimeRefusingOnce(prefix: string, processor: Processor<JobType>) {
  const recorded: JobOutcome['type'][] = [];
  const started = await startAnalyticsRuntime(redis.url, prefix, processor, {
    outcomes: async (_type, _job, outcome) => {
      recorded.push(outcome.type);
      if (recorded.length === 1) throw new Error('READONLY You can’t write against a replica');
    },
  });
  running.push(started);
  return { queue: started.queue, recorded };
}

/**
 * A job whose webhook deliveries Redis refuses after it completed on its last attempt is not
 * recorded failed (nor completed without them): it runs again, its attempt not spent.
 */
it('runs a job again, its attempt unspent, when its deliveries cannot be added', async () => {
  let runs = 0;
  const { queue, recorded } = await runtimeRefusingOnce('outcomes', async () => ({
    counted: ++runs,
    duplicates: 0,
  }));
  const job = await queue.add('svc', event, { attempts: 1 });
  const [done] = await allCompleted(queue, [job], 10_000);
  expect(done?.returnvalue).toEqual({ counted: 2, duplicates: 0 });
  expect(done?.attemptsMade).toBe(1); // one attempt of one allowed: the snooze spent none
  expect(recorded).toEqual(['job.completed', 'job.completed']);
});

it('runs a job that failed for good again, its attempt unspent, when its deliveries cannot be added', async () => {
  let runs = 0;
  const { queue, recorded } = await runtimeRefusingOnce('outcomes-failed', async () => {
    runs += 1;
    throw new PermanentError('the target answered 404');
  });
  const job = await queue.add('svc', event, { attempts: 5 });
  const failed = await eventually(async () =>
    (await queue.getJobState(String(job.id))) === 'failed'
      ? queue.getJob(String(job.id))
      : undefined,
  );
  expect(failed?.failedReason).toBe('the target answered 404');
  expect(runs).toBe(2);
  expect(recorded).toEqual(['job.failed', 'job.failed']);
});
