/**
 * A calling service's script, written as one in another repository would write it: it imports
 * the installed `@errand/client` (its built JavaScript and `.d.ts`), nothing of this
 * workspace. The client's test installs the packed tarball beside it, type-checks it with
 * `tsc` and runs it on Node 20, Node 24 and Bun against a real producer and worker.
 *
 * Environment: ERRAND_URL, ERRAND_API_KEY, RUN (a word naming this run, so runs sharing one
 * producer use events and keys of their own). Protocol with the test: the script prints
 * `restart-producer` and waits for a line on stdin (the producer has been stopped; it is
 * started again a moment later); it prints `ok <figures>` at the end.
 */
import { createClient, ErrandApiError, type JobEvent } from '@errand/client';

const baseUrl = process.env.ERRAND_URL ?? '';
const apiKey = process.env.ERRAND_API_KEY ?? '';
const run = process.env.RUN ?? 'run';

function check(condition: unknown, what: string): asserts condition {
  if (!condition) throw new Error(`check failed: ${what}`);
}

async function nextLine(): Promise<string> {
  let line = '';
  for await (const chunk of process.stdin) {
    line += String(chunk);
    if (line.includes('\n')) break;
  }
  return line.trim();
}

// Generous retries: the producer is down for a moment in the middle.
const client = createClient({
  baseUrl,
  apiKey,
  retries: 30,
  retry: { baseDelayMs: 100, maxDelayMs: 1_000 },
});

const name = `signup.${run}`;
const now = new Date().toISOString();
const events = [
  { id: `${run}-1`, name, userId: 'u1', timestamp: now, properties: { plan: 'pro' } },
  { id: `${run}-2`, name, userId: 'u2', timestamp: now, properties: { plan: 'free' } },
];
const idempotencyKey = `installed-${run}-${Date.now()}`;

// Only type-checked, never called: payloads are typed by the job type.
export const typed = () => [
  // @ts-expect-error an analytics job takes `events`, not `to`
  client.enqueue('analytics', { to: 'a@example.com' }),
  // @ts-expect-error `events` is an array of events
  client.enqueue('analytics', { events: 'signup' }),
  // @ts-expect-error no such job type
  client.enqueue('fax', {}),
];

// 1. Enqueue with an Idempotency-Key of our own.
const first = await client.enqueue('analytics', { events }, { idempotencyKey });
check(first.type === 'analytics' && typeof first.id === 'string', 'an analytics job was made');
check(first.replayed === false, 'the first enqueue makes the job');

// 2. The producer restarts; the same call again rides out the outage and finds the same job.
process.stdout.write('restart-producer\n');
check((await nextLine()) === 'stopped', 'the test stopped the producer');
const again = await client.enqueue('analytics', { events }, { idempotencyKey });
check(again.replayed === true, 'the retry after the restart is a replay');
check(again.id === first.id, 'the retry names the same job');

// 3. Follow the job's events to its result (typed: an analytics result).
const seen: JobEvent<'analytics'>[] = [];
for await (const event of client.events('analytics', first.id)) seen.push(event);
const last = seen.at(-1);
check(last?.event === 'completed', `the stream ends with completed, not ${last?.event}`);
const counted: number | undefined = last.data.result?.counted;
check(counted === 2, `the job counted both events, not ${counted}`);

// 4. Analytics: the two events, two users, top plans.
const report = await client.analytics(name, { granularity: 'minute', top: ['plan'] });
check(report.total.count === 2, `two events counted, not ${report.total.count}`);
check(report.total.uniqueUsers === 2, 'two users');
check(report.top.plan?.length === 2, 'both plans among the top values');

// 5. Schedules: the shipped file's, and one of our own made, listed, removed.
const id = `installed-${run}`;
await client.schedules.put(id, {
  cron: '0 3 * * *',
  job: { type: 'analytics-maintenance' },
});
const listed = await client.schedules.list();
check(
  listed.some((s) => s.id === id),
  'our schedule is listed',
);
check(
  listed.some((s) => s.id === 'daily-digest'),
  'the schedules file’s daily-digest is listed',
);
await client.schedules.delete(id);

// 6. Queues, with their counts by state; errors as typed problems.
const queues = await client.queues();
const analytics = queues.find((q) => q.type === 'analytics');
check(analytics !== undefined && analytics.counts.completed >= 1, 'a completed analytics job');
try {
  await client.get('analytics', 'no-such-job');
  check(false, 'an unknown job is a 404');
} catch (error) {
  check(error instanceof ErrandApiError && error.status === 404, 'a 404 as an ErrandApiError');
}

process.stdout.write(`ok job=${first.id} events=${seen.length} schedules=${listed.length}\n`);
