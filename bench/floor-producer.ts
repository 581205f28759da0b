/**
 * The floor of any HTTP enqueue service on this machine: node:http, JSON.parse of the body,
 * `Queue.add` (or `addBulk` for `{ jobs }`), a 202 with the id; no framework, no key, no
 * check, no limit, no log line. What Errand's producer adds on top of it is Errand's cost;
 * what it costs against raw `Queue.add` is HTTP's. Env: REDIS_URL, PREFIX, PORT.
 */
import { createServer } from 'node:http';
import { jobs } from '@errand/contract';
import { queuePrefix } from '@errand/queues';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

const env = process.env;
const connection = new Redis(env.REDIS_URL ?? '', { enableAutoPipelining: true });
const queue = new Queue(jobs.analytics.queue, {
  connection,
  prefix: queuePrefix(env.PREFIX ?? 'floor', jobs.analytics.queue),
  defaultJobOptions: jobs.analytics.defaults,
});

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', async () => {
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const ids = body.jobs
        ? (
            await queue.addBulk(
              body.jobs.map((job: { data: unknown }) => ({ name: 'floor', data: job.data })),
            )
          ).map((job) => job.id)
        : [(await queue.add('floor', body.data)).id];
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ids }));
    } catch (error) {
      res.writeHead(500).end(String(error));
    }
  });
});
server.listen(Number(env.PORT), '127.0.0.1', () => console.log('producer listening'));
process.once('SIGTERM', () => {
  server.close();
  server.closeIdleConnections();
  void queue.close().then(() => connection.disconnect());
});
