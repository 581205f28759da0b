import { jobs } from '@errand/contract';
import { queuePrefix } from '@errand/queues';
import { type Job, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { startProducer } from './app.testkit.ts';

type Producer = Awaited<ReturnType<typeof startProducer>>;

const email = (n: string) => ({ to: `u${n}@example.com`, subject: `S ${n}`, text: 'x' });
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Finishes email jobs the way a worker does, through a real BullMQ Worker taking them by hand
 * (`getNextJob`, then `moveToFailed` or `moveToCompleted`): one job at a time, a few ms apart,
 * so each finishes at a time of its own.
 */
export async function finisher(producer: Producer) {
  const connection = new Redis(producer.redisServer.url, { maxRetriesPerRequest: null });
  const worker = new Worker(jobs.email.queue, null, {
    connection,
    prefix: queuePrefix(producer.deps.prefix, jobs.email.queue),
  });
  worker.on('error', () => {});
  const queue = producer.queues.email;
  let count = 0;

  /** Add one job (one attempt, so a failure is final), take it and finish it. */
  async function finish(outcome: { fail: string } | { complete: unknown }): Promise<Job> {
    await pause(3);
    const added = await queue.add('test', email(String(count++)), { attempts: 1 });
    const token = `t${count}`;
    const job = await worker.getNextJob(token, { block: false });
    if (job?.id !== added.id) throw new Error(`took ${job?.id}, not ${added.id}`);
    if ('fail' in outcome) await job.moveToFailed(new Error(outcome.fail), token);
    else await job.moveToCompleted(outcome.complete, token, false);
    return (await queue.getJob(added.id as string)) as Job;
  }

  return {
    /** One failed job per reason, oldest first. */
    async fail(...reasons: string[]): Promise<Job[]> {
      const failed: Job[] = [];
      for (const reason of reasons) failed.push(await finish({ fail: reason }));
      return failed;
    },
    complete: (result: unknown = { ok: true }) => finish({ complete: result }),
    async close() {
      await worker.close();
      connection.disconnect();
    },
  };
}

export const iso = (ms: number | undefined) => new Date(ms as number).toISOString();
export const idsOf = (body: { jobs: { id: string }[] }) => body.jobs.map((job) => job.id);
