/**
 * The email baseline: raw pooled nodemailer in a process of its own, sending COUNT mails of
 * `benchMail` to SMTP_URL, CONCURRENCY at once over at most MAX_CONNECTIONS connections; the
 * same message options Errand's email processor gives (a job-id header, no file or URL
 * access). Says "done" when the last is accepted, then idles until SIGTERM, so that its CPU
 * time can still be read. Env: SMTP_URL, COUNT, CONCURRENCY, MAX_CONNECTIONS, TAG.
 */
import { createTransport } from 'nodemailer';
import { BENCH_FROM, benchMail } from './mails.ts';
import { pooled } from './measure.ts';

const env = process.env;
const transport = createTransport({
  url: env.SMTP_URL,
  pool: true,
  maxConnections: Number(env.MAX_CONNECTIONS ?? 1),
} as never);
const tag = env.TAG ?? 'raw';

console.log('mail sender ready');
await pooled([...Array(Number(env.COUNT ?? 0)).keys()], Number(env.CONCURRENCY ?? 1), async (n) => {
  await transport.sendMail({
    from: BENCH_FROM,
    ...benchMail(n, tag),
    headers: { 'X-Errand-Job-Id': String(n + 1) },
    disableFileAccess: true,
    disableUrlAccess: true,
  });
});
console.log('done');
transport.close();
const idle = setInterval(() => {}, 60_000);
process.once('SIGTERM', () => clearInterval(idle));
