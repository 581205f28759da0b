import { SentinelGroup } from '@errand/devservers';
import {
  type AppProcess,
  eventually,
  type ProducerProcess,
  request,
  startApp,
  startProducerProcess,
} from '@errand/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStream, type SseEvent } from '../test/job-events.testkit.ts';

/**
 * The API across a Sentinel failover: what was acknowledged and replicated before the primary
 * died is there after it — an Idempotency-Key replays to the same job, an event stream opened
 * before the kill ends in `completed` (resuming with Last-Event-ID where it was cut), and a
 * batch is taken again. Part of `npm run test:ha`.
 */
describe('the API across a Sentinel failover', () => {
  let group: SentinelGroup;
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
    group = await SentinelGroup.start();
    const env = {
      REDIS_SENTINELS: group.sentinels.map(({ host, port }) => `${host}:${port}`).join(','),
      REDIS_SENTINEL_NAME: group.name,
      QUEUE_PREFIX: 'haapi',
    };
    producer = await startProducerProcess(env);
    worker = startApp('worker', { ...env, WORKER_QUEUES: 'analytics', WORKER_PORT: '0' });
    await worker.waitForLine('worker running');
  }, 60_000);
  afterAll(async () => {
    await producer?.stop('SIGKILL');
    await worker?.stop('SIGKILL');
    await group?.stop();
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
    await group.synced();

    const killed = await group.killPrimary();
    await group.waitForNewPrimary(killed);

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
    expect(worker.child.exitCode).toBeNull();
    expect(producer.child.exitCode).toBeNull();
  }, 60_000);
});
