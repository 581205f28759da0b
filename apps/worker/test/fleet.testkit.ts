import { jobs } from '@errand/contract';
import { freePort } from '@errand/devservers';
import { queuePrefix } from '@errand/queues';
import { type AppProcess, startApp } from '@errand/testing';
import { type Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';

/** A worker process and the base URL of its health and metrics server. */
export type FleetWorker = AppProcess & { url: string };

/** A few real worker processes on one Redis and queue prefix, for multi-process tests. */
export async function startFleet(
  count: number,
  env: Record<string, string>,
): Promise<FleetWorker[]> {
  const fleet: FleetWorker[] = [];
  for (let i = 0; i < count; i++) {
    const port = await freePort();
    const worker = startApp('worker', { WORKER_PORT: String(port), ...env });
    fleet.push(Object.assign(worker, { url: `http://127.0.0.1:${port}` }));
  }
  await Promise.all(fleet.map((worker) => worker.waitForLine('worker running')));
  return fleet;
}

export const stopFleet = (fleet: AppProcess[]) =>
  Promise.all(fleet.map((worker) => worker.stop('SIGKILL')));

/** The email queue as the producer sees it; jobs added here skip the HTTP API. */
export function emailQueue(redisUrl: string, prefix: string) {
  const connection = new Redis(redisUrl);
  connection.on('error', () => {}); // tests kill Redis on purpose; ioredis reconnects by itself
  const queue = new Queue(jobs.email.queue, {
    connection,
    prefix: queuePrefix(prefix, jobs.email.queue),
    defaultJobOptions: jobs.email.defaults,
  });
  queue.on('error', () => {}); // the Queue repeats its connection's errors; same reason
  return queue;
}

export const mail = (to: string, n: number | string) => ({
  to,
  subject: `Message ${n}`,
  text: `Body ${n}`,
});

/** Wait until every job is completed (failing fast on a failed one), or time out. */
export async function allCompleted(queue: Queue, added: Job[], timeoutMs = 30_000): Promise<Job[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = await Promise.all(added.map((job) => queue.getJobState(job.id as string)));
    const failed = states.indexOf('failed');
    if (failed >= 0) throw new Error(`job ${added[failed]?.id} failed`);
    if (states.every((state) => state === 'completed')) {
      return Promise.all(added.map(async (job) => (await queue.getJob(job.id as string)) as Job));
    }
    if (Date.now() > deadline) {
      const left = states.filter((state) => state !== 'completed').length;
      throw new Error(`${left} of ${added.length} jobs not completed after ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Job ids of the messages an SMTP sink received, from their X-Errand-Job-Id header. */
export const deliveredIds = (messages: { parsed: { headers: Map<string, unknown> } }[]) =>
  messages.map((message) => String(message.parsed.headers.get('x-errand-job-id')));
