import {
  type AppProcess,
  eventually,
  type ProducerProcess,
  type ReplicatedRedis,
  request,
  startApp,
  startProducerProcess,
  startReplicatedRedis,
} from '@errand/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStream, type SseEvent } from '../test/job-events.testkit.ts';

const PREFIX = 'haapi';

/**
 * The API across a failover, on a Sentinel group (the primary killed) and on a Cluster (the
 * master of the analytics queue's slot killed): what was acknowledged and replicated before
 * the node died is there after it — an Idempotency-Key replays to the same job, an event
 * stream opened before the kill ends in `completed` (resuming with Last-Event-ID where it was
 * cut), a batch is taken again, and the analytics query counts what ran. Part of
 * `npm run test:ha`.
 */
describe.each(['sentinel', 'cluster'] as const)('the API across a %s failover', (kind) => {
  let redis: ReplicatedRedis;
  let producer: ProducerProcess;
  let worker: AppProcess;
  let n = 0;

  const analytics = () => ({
    events: [
      { id: `e${++n}`, name: 'signup', userId: `u${n}`, timestamp: new Date().toISOString() },
    ],
  });
  const post = (path: string, json: unknown, headers: Record<string, string> = {}) =>
    request(`${producer.api}${path}`, { method: 'POST', json, headers });

  beforeAll(async () => {
    redis = await startReplicatedRedis(kind);
    const env = { ...redis.env, QUEUE_PREFIX: PREFIX };
    producer = await startProducerProcess(env);
    worker = startApp('worker', { ...env, WORKER_QUEUES: 'analytics', WORKER_PORT: '0' });
    await worker.waitForLine('worker running');
  }, 60_000);
  afterAll(async () => {
    await producer?.stop('SIGKILL');
    await worker?.stop('SIGKILL');
    await redis?.stop();
  });

  it('keeps what was replicated: a replayed key, an event stream, and takes batches again', async () => {
    const key = { 'idempotency-key': 'order-1' };
    const body = { data: analytics() };
    const first = await post('/v1/jobs/analytics', body, key);
    expect(first.status).toBe(202);
    // A job that runs after the failover, watched from before it.
    const later = await post('/v1/jobs/analytics', { data: analytics(), delay: 6_000 });
    expect(later.body.state).toBe('delayed');
    const url = `${producer.api}/v1/jobs/analytics/${later.body.id}/events`;
    const stream = await openStream(url);
    const seen: SseEvent[] = [(await stream.next()) as SseEvent];
    expect(seen[0]?.data.state).toBe('delayed');
    await redis.failover(`${PREFIX}:{analytics}`);

    // The replay: the same job (200), once a primary takes the request.
    const replay = await eventually(
      async () => {
        const answer = await post('/v1/jobs/analytics', body, key);
        return answer.status === 503 ? undefined : answer;
      },
      { timeoutMs: 20_000, intervalMs: 100, what: 'an answer from the new primary' },
    );
    expect(replay).toMatchObject({ status: 200, body: { id: first.body.id } });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');

    // The stream: `completed`, on this connection or, where the failover cut it, on one
    // that resumes after the last event seen, as a client does.
    let current = stream;
    for (let round = 0; round < 5 && !seen.some((e) => e.event === 'completed'); round++) {
      for (let event = await current.next(); event; event = await current.next()) seen.push(event);
      if (seen.some((e) => e.event === 'completed')) break;
      current = await openStream(url, { 'last-event-id': seen.at(-1)?.id ?? '' });
    }
    expect(seen.map((event) => event.event)).toContain('completed');

    // A batch after the failover: all of it, once Redis takes it.
    const batch = await eventually(
      async () => {
        const answer = await post('/v1/jobs/analytics/batch', {
          jobs: [{ data: analytics() }, { data: analytics() }, { data: analytics() }],
        });
        return answer.status === 202 ? answer : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 200, what: 'a batch accepted' },
    );
    expect(batch.body.jobs).toHaveLength(3);
    // The analytics query reads each event's keys, on whichever node they are.
    const counted = await eventually(
      async () => {
        const answer = await request(`${producer.api}/v1/analytics/signup?granularity=minute`);
        const buckets: { count: number }[] = answer.body?.buckets ?? [];
        const total = buckets.reduce((sum, bucket) => sum + bucket.count, 0);
        return total >= 5 ? total : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 200, what: 'the analytics of the jobs run' },
    );
    expect(counted).toBeLessThanOrEqual(n);
    expect(worker.child.exitCode).toBeNull();
    expect(producer.child.exitCode).toBeNull();
  }, 60_000);
});
