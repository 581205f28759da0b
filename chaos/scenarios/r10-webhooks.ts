import { hostname } from 'node:os';
import { queuePrefix } from '@errand/queues';
import { request } from '@errand/testing';
import { type Job, Queue } from 'bullmq';
import { enqueuePaced } from '../load.ts';
import { KEEP_COMPLETED, Platform } from '../platform.ts';
import { checks, type Scenario, sleep } from '../scenario.ts';
import {
  type AnswerKind,
  invalidOf,
  judgeDeliveries,
  type Receiver,
  startReceiver,
  type Wanted,
} from '../webhooks.ts';

const KEY = 'r10-service-0123456789abcdef';
const ADMIN = 'r10-admin-0123456789abcdef';
/** How long after the first 410 a delivery already on its way may still arrive (resolved before the disable). */
const GONE_GRACE_MS = 1_000;

/** The job of index `n`: most complete, some fail for good (404), some run out of attempts (503). */
const plan = (n: number) =>
  n % 20 === 7
    ? { path: '/status/404', outcome: 'job.failed' as const }
    : n % 20 === 13
      ? { path: '/status/503', outcome: 'job.dead' as const, attempts: 2 }
      : { path: `/work/${n}`, outcome: 'job.completed' as const };

/**
 * R10: completion webhooks while workers are `kill -9`ed. Workers (3) run `http` jobs against
 * a loopback service and deliver their events: http jobs, not analytics, so both outbound paths
 * (the signed call of the job, the signed delivery of its outcome) run under the kills, and
 * the outcome mixes job.completed, job.failed (a 404) and job.dead (503 until attempts run
 * out). Three subscriptions and the callbackUrl of every third job, each on a receiver (an
 * origin) of its own: two flaky ones answer the first two attempts of a message 500, 503,
 * 429 (`Retry-After: 1`) or hang past the delivery timeout about half the time, then 200;
 * one answers 200 twenty times, then 410 Gone. The jobs come at a steady pace while a random
 * worker is killed every few seconds and replaced (locks of 4 s, so stalled jobs come back
 * within the run). Promises: every wanted event is delivered at least once, verified with
 * `standardwebhooks` (lost 0), every request's signature is valid, no event goes where it
 * was not wanted, the 410 subscription is disabled and gets nothing after its 410.
 * Duplicates (a kill between the receiver's 200 and the job's completion) are allowed and
 * counted: receivers deduplicate by `webhook-id`. Full run: 5,000 jobs over 70 s, 20 kills
 * 3 s apart (and the few seconds a replacement takes to start); --quick: 300 jobs over 8 s,
 * 4 kills 2 s apart.
 */
export const webhooks: Scenario = {
  id: 'R10',
  title: 'webhook receivers that fail, time out, answer 429 and 410 while workers are kill -9ed',
  async run({ quick, log }) {
    const count = quick ? 300 : 5_000;
    // The jobs come over `spreadMs`; the kills go on after it, into the deliveries' retries.
    const spreadMs = quick ? 8_000 : 70_000;
    const kills = quick ? 4 : 20;
    const killEveryMs = quick ? 2_000 : 3_000;
    const answers = { ok: 0, '500': 0, '503': 0, '429': 0, hang: 0, '410': 0 } as Record<
      AnswerKind,
      number
    >;
    const service = await startReceiver('service', answers);
    const hooks: Record<'a' | 'b' | 'cb' | 'gone', Receiver> = {
      a: await startReceiver('flaky', answers),
      b: await startReceiver('flaky', answers),
      cb: await startReceiver('flaky', answers),
      gone: await startReceiver('gone', answers),
    };
    const urls = [service.url, ...Object.values(hooks).map((r) => r.url)];
    const platform = await Platform.start('r10', {
      workers: 3,
      producerEnv: {
        API_KEYS: JSON.stringify([
          { name: 'svc', key: KEY, scopes: ['enqueue', 'read'], allowedTargets: urls },
          { name: 'admin', key: ADMIN, scopes: ['admin'], allowedTargets: urls },
        ]),
      },
      workerEnv: {
        ...KEEP_COMPLETED,
        WORKER_QUEUES: 'http,webhook',
        OUTBOUND_ALLOW_IPS: '127.0.0.1',
        // Standard Webhooks' schedule shrunk to fit the run; the timeout below the hangs.
        WEBHOOK_RETRY_SCHEDULE_MS: '0,200,500,1000,2000,2000,2000,2000,2000,2000',
        WEBHOOK_REQUEST_TIMEOUT_MS: '1000',
        // A killed worker's jobs run again within ~5 s rather than ~20 s.
        WORKER_LOCK_DURATION_MS: '4000',
        WORKER_STALLED_INTERVAL_MS: '1000',
      },
    });
    const queue = (name: string) =>
      new Queue(name, {
        connection: platform.observer,
        prefix: queuePrefix(platform.prefix, name),
      });
    const http = queue('http');
    const webhook = queue('webhook');
    for (const q of [http, webhook]) q.on('error', () => {});
    try {
      const call = (path: string, key: string, init: Parameters<typeof request>[1] = {}) =>
        request(`${platform.api}${path}`, {
          ...init,
          headers: { authorization: `Bearer ${key}` },
        });
      service.secret = (await call('/v1/signing-secret', KEY, { method: 'POST' })).body.secret;
      hooks.cb.secret = service.secret;
      const subscribe = async (id: 'a' | 'b' | 'gone', events: Wanted['type'][]) => {
        const receiver = hooks[id];
        const made = await call(`/v1/webhooks/r10-${id}`, ADMIN, {
          method: 'PUT',
          json: { url: `${receiver.url}/${id}`, events, types: ['http'] },
        });
        if (made.status !== 201) throw new Error(`PUT webhook ${id}: ${JSON.stringify(made)}`);
        receiver.secret = made.body.secret;
      };
      await subscribe('a', ['job.completed']);
      await subscribe('b', ['job.completed', 'job.failed', 'job.dead']);
      await subscribe('gone', ['job.completed']);
      // The workers read the subscriptions every 2 s: the first job's outcome must see them.
      await sleep(2_500);

      const { acked, done: enqueuing } = enqueuePaced({
        api: platform.api,
        type: 'http',
        run: 'r10',
        count,
        spreadMs,
        headers: { authorization: `Bearer ${KEY}` },
        body: (n) => {
          const { path, attempts } = plan(n);
          return {
            data: { url: `${service.url}${path}`, method: 'POST', body: JSON.stringify({ n }) },
            ...(attempts ? { attempts } : {}),
            ...(n % 3 === 0 ? { callbackUrl: `${hooks.cb.url}/cb` } : {}),
          };
        },
      });

      let held = 0;
      for (let k = 1; k <= kills; k++) {
        await sleep(killEveryMs);
        const i = Math.floor(Math.random() * platform.workers.length);
        const victim = platform.workers[i];
        if (!victim) continue;
        const name = `${hostname()}:${victim.child.pid}`;
        victim.child.kill('SIGKILL');
        await victim.exited;
        const active = [...(await http.getActive()), ...(await webhook.getActive())];
        held += active.filter((job: Job) => job.processedBy === name).length;
        log(`R10: killed worker ${k}/${kills} at ${acked.size}/${count} acknowledged`);
        await platform.replaceWorker(i);
      }
      const lastAck = await enqueuing;
      log(`R10: ${acked.size} jobs acknowledged; waiting for the deliveries`);
      const quiet = await untilQuiet(http, webhook, [...acked.values()], quick ? 40_000 : 300_000);
      const drainMs = performance.now() - lastAck;

      const states = new Map<number, string>();
      for (const [n, id] of acked) states.set(n, await http.getJobState(id));
      const wanted: Wanted[] = [];
      for (const [n, id] of acked) {
        const { outcome } = plan(n);
        const state = states.get(n);
        if (state !== (outcome === 'job.completed' ? 'completed' : 'failed')) continue;
        if (outcome === 'job.completed') wanted.push({ target: 'a', jobId: id, type: outcome });
        wanted.push({ target: 'b', jobId: id, type: outcome });
        if (n % 3 === 0) wanted.push({ target: 'cb', jobId: id, type: outcome });
      }
      const judged = judgeDeliveries({ a: hooks.a, b: hooks.b, cb: hooks.cb }, wanted);
      const receivers = [service, ...Object.values(hooks)];
      const invalid = receivers.reduce((sum, r) => sum + invalidOf(r), 0);
      const requests = receivers.reduce((sum, r) => sum + r.taken.length, 0);
      const firstGone = hooks.gone.taken.find((t) => t.status === 410)?.at ?? Number.NaN;
      const afterGone = hooks.gone.taken.filter((t) => t.at > firstGone);
      const lateToGone = afterGone.filter((t) => t.at > firstGone + GONE_GRACE_MS).length;
      const goneView = await call('/v1/webhooks/r10-gone', ADMIN);
      const unfinished = [...states.values()].filter((s) => s !== 'completed' && s !== 'failed');
      const wrongOutcome = [...acked.keys()].filter((n) => {
        const want = plan(n).outcome === 'job.completed' ? 'completed' : 'failed';
        return states.get(n) !== want;
      }).length;

      const { failures, check } = checks();
      check(acked.size === count, `${count - acked.size} jobs never acknowledged`);
      check(quiet, 'the queues were not quiet by the deadline');
      check(unfinished.length === 0, `${unfinished.length} jobs lost or unfinished`);
      check(wrongOutcome === 0, `${wrongOutcome} jobs ended otherwise than planned`);
      check(
        judged.lost.length === 0,
        `${judged.lost.length} events never delivered: ${JSON.stringify(judged.lost.slice(0, 5))}`,
      );
      check(invalid === 0, `${invalid} requests with a signature standardwebhooks refused`);
      check(judged.unwanted.length === 0, `unwanted deliveries: ${judged.unwanted.slice(0, 5)}`);
      check(!Number.isNaN(firstGone), 'the gone receiver never answered 410');
      check(
        goneView.body?.status === 'disabled',
        `the 410 subscription is ${goneView.body?.status}`,
      );
      check(lateToGone === 0, `${lateToGone} requests to the gone receiver after its 410`);
      check(held > 0, 'no kill landed while the worker held a job');
      const events = judged.wanted;
      return {
        pass: failures.length === 0,
        failures,
        figures:
          `${acked.size} http jobs (${service.taken.length} calls, signed), ${events} events wanted; ` +
          `${judged.deliveries} deliveries, ${judged.distinct} distinct webhook-ids, duplicates ` +
          `${judged.deliveries - judged.distinct}; lost ${judged.lost.length}; invalid signatures ` +
          `${invalid} of ${requests} requests; unwanted ` +
          `${judged.unwanted.length}; answers 500 ×${answers['500']}, 503 ×${answers['503']}, ` +
          `429 ×${answers['429']}, hangs ×${answers.hang}, 410 ×${answers['410']}; gone ` +
          `subscription ${goneView.body?.status}, requests after its 410 ` +
          `${afterGone.length} ` +
          `(within ${GONE_GRACE_MS} ms: allowed); ${kills} kills holding ${held} jobs; drained ` +
          `${(drainMs / 1000).toFixed(1)} s after the last acknowledgement`,
      };
    } finally {
      await Promise.all([http, webhook].map((q) => q.close().catch(() => {})));
      await platform.stop();
      await Promise.all([service, ...Object.values(hooks)].map((r) => r.close()));
    }
  },
};

/**
 * Until every acknowledged http job has finished and the webhook queue has nothing waiting,
 * running or delayed twice in a row, 500 ms apart; false at the deadline.
 */
async function untilQuiet(http: Queue, webhook: Queue, ids: string[], timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let calm = 0;
  while (Date.now() < deadline) {
    const states = await Promise.all(ids.map((id) => http.getJobState(id)));
    const open = states.filter((s) => s !== 'completed' && s !== 'failed').length;
    const pending = await webhook.getJobCountByTypes('wait', 'active', 'delayed', 'prioritized');
    calm = open === 0 && pending === 0 ? calm + 1 : 0;
    if (calm >= 2) return true;
    await sleep(500);
  }
  return false;
}
