/**
 * The floor of any BullMQ worker sending these mails: a bare `Worker` on the email queue whose
 * processor hands each job's mail to pooled nodemailer, with the message options Errand's
 * email processor gives (the sender, a job-id header, no file or URL access) and its result,
 * and the retention Errand's worker keeps by default (so both trim alike); no contract check,
 * send ledger, limiter, log line or metric. What Errand's worker adds on top of it is Errand's
 * cost; what it costs against raw nodemailer is BullMQ's (a fetch and a completion per job).
 * Env: REDIS_URL, QUEUE_PREFIX, SMTP_URL, MAIL_FROM, CONCURRENCY, MAX_CONNECTIONS.
 */
import { jobs } from '@errand/contract';
import { queuePrefix } from '@errand/queues';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { createTransport } from 'nodemailer';
import type { benchMail } from './mails.ts';

const env = process.env;
const connection = new Redis(env.REDIS_URL ?? '', { maxRetriesPerRequest: null });
const transport = createTransport({
  url: env.SMTP_URL,
  pool: true,
  maxConnections: Number(env.MAX_CONNECTIONS ?? 1),
} as never);
const worker = new Worker<ReturnType<typeof benchMail>>(
  jobs.email.queue,
  async (job) => {
    const info = await transport.sendMail({
      from: env.MAIL_FROM,
      ...job.data,
      headers: { 'X-Errand-Job-Id': String(job.id) },
      disableFileAccess: true,
      disableUrlAccess: true,
    });
    return {
      messageId: info.messageId,
      accepted: info.accepted.map(String),
      rejected: info.rejected.map(String),
      response: info.response,
    };
  },
  {
    connection,
    prefix: queuePrefix(env.QUEUE_PREFIX ?? 'floor', jobs.email.queue),
    concurrency: Number(env.CONCURRENCY ?? 1),
    removeOnComplete: { age: 24 * 3600, count: 10_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  },
);
await worker.waitUntilReady();
console.log('worker running');
process.once('SIGTERM', async () => {
  await worker.close();
  transport.close();
  connection.disconnect();
});
