/**
 * The baseline of the http cases: a plain loop of `fetch` (Node's bundled undici; the undici
 * package in node_modules needs a newer Node) in a process of its own, POSTing COUNT requests
 * of BODY to URL/<n>, CONCURRENCY at once over keep-alive connections. SECRET (a whsec_…)
 * signs each as Errand does (Standard Webhooks headers, `@errand/signing`). Says "done" when
 * the last is answered, then idles until SIGTERM, so that its CPU time can still be read.
 * Env: URL, COUNT, CONCURRENCY, BODY, SECRET.
 */
import { signatureHeaders } from '@errand/signing';
import { pooled } from './measure.ts';

const env = process.env;
const body = env.BODY ?? '{}';
const secret = env.SECRET;

console.log('http sender ready');
await pooled([...Array(Number(env.COUNT ?? 0)).keys()], Number(env.CONCURRENCY ?? 1), async (n) => {
  const signed = secret
    ? signatureHeaders({
        id: `msg_bench${n}`,
        timestamp: Math.floor(Date.now() / 1000),
        body,
        secrets: [secret],
      })
    : {};
  const answer = await fetch(`${env.URL}/${n}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...signed },
    body,
  });
  await answer.arrayBuffer();
  if (answer.status !== 200) throw new Error(`request ${n} answered ${answer.status}`);
});
console.log('done');
const idle = setInterval(() => {}, 60_000);
process.once('SIGTERM', () => clearInterval(idle));
