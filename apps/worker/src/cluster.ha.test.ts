import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisCluster } from '@errand/devservers';
import {
  eventually,
  type ProducerProcess,
  request,
  SmtpSink,
  startProducerProcess,
} from '@errand/testing';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveredIds, type FleetWorker, startFleet, stopFleet } from '../test/fleet.testkit.ts';

/**
 * Cluster mode, end to end: a producer and a worker reach a loopback Redis Cluster (3 masters,
 * 3 replicas) through REDIS_CLUSTER_NODES; each queue is in a hash tag of its own, so every
 * script and MULTI stays in one slot. The main paths run: the three job types, a batch, an
 * idempotent replay, an event stream with resume, the analytics query; then a master is
 * SIGKILLed and the API answers 503 (never hangs) until its replica takes over, and the same
 * worker consumes again with no restart. Part of `npm run test:ha`.
 */
describe('Redis Cluster', () => {
  let cluster: RedisCluster;
  let producer: ProducerProcess;
  let fleet: FleetWorker[] = [];
  let smtp: SmtpSink;
  let storage: string;
  let n = 0;

  const post = (type: string, json: unknown, headers: Record<string, string> = {}) =>
    request(`${producer.api}/v1/jobs/${type}`, { method: 'POST', json, headers });
  const event = (name = 'signup') => ({
    id: `e${++n}`,
    name,
    userId: `u${n}`,
    timestamp: new Date().toISOString(),
  });
  const settled = (type: string, id: string, timeoutMs = 20_000) =>
    eventually(
      async () => {
        const job = await request(`${producer.api}/v1/jobs/${type}/${id}`);
        return ['completed', 'failed'].includes(job.body?.state) ? job.body : undefined;
      },
      { timeoutMs, intervalMs: 100, what: `${type} job ${id} settled` },
    );

  beforeAll(async () => {
    cluster = await RedisCluster.start();
    smtp = await SmtpSink.start();
    storage = await mkdtemp(join(tmpdir(), 'errand-cluster-'));
    await mkdir(join(storage, 'in'), { recursive: true });
    await sharp({ create: { width: 64, height: 48, channels: 3, background: '#369' } })
      .png()
      .toFile(join(storage, 'in', 'source.png'));
    const env = {
      REDIS_CLUSTER_NODES: cluster.nodes.map(({ host, port }) => `${host}:${port}`).join(','),
      QUEUE_PREFIX: 'cl',
      SMTP_URL: smtp.url,
      STORAGE_DIR: storage,
    };
    producer = await startProducerProcess(env);
    fleet = await startFleet(1, env);
  }, 90_000);
  afterAll(async () => {
    await producer?.stop('SIGKILL');
    await stopFleet(fleet);
    await smtp?.close();
    await cluster?.stop();
    if (storage) await rm(storage, { recursive: true, force: true });
  });

  it('runs the three job types, a batch and an idempotent replay', async () => {
    expect(producer.output()).toContain('"redis":"cluster ');
    const mail = await post('email', {
      data: { to: 'ada@example.com', subject: 'Hi', text: 'Hello' },
    });
    const image = await post('image', {
      data: { source: { key: 'in/source.png' }, outputs: [{ width: 32, format: 'webp' }] },
    });
    const counted = await post('analytics', { data: { events: [event(), event()] } });
    const batch = await post('analytics/batch', {
      jobs: [{ data: { events: [event()] } }, { data: { events: [event()] } }],
    });
    for (const answer of [mail, image, counted, batch]) expect(answer.status).toBe(202);
    // The key's record is written in the MULTI of the job: one slot, the queue's.
    const key = { 'idempotency-key': 'cluster-1' };
    const body = { data: { events: [event('login')] } };
    const first = await post('analytics', body, key);
    const replay = await post('analytics', body, key);
    expect(first.status).toBe(202);
    expect(replay.status).toBe(200);
    expect(replay.body.id).toBe(first.body.id);
    expect((await post('analytics', { data: { events: [event()] } }, key)).status).toBe(422);

    expect((await settled('email', mail.body.id)).state).toBe('completed');
    expect((await settled('image', image.body.id)).result.outputs).toHaveLength(1);
    expect((await settled('analytics', counted.body.id)).result).toMatchObject({ counted: 2 });
    for (const job of batch.body.jobs) await settled('analytics', job.id);
    expect(deliveredIds(smtp.messages)).toEqual([mail.body.id]);
    const query = await request(`${producer.api}/v1/analytics/signup?granularity=minute`);
    expect(query.status).toBe(200);
    const total = query.body.buckets.reduce(
      (sum: number, b: { count: number }) => sum + b.count,
      0,
    );
    expect(total).toBe(4);
  }, 60_000);

  it('fires a schedule once per tick', async () => {
    const url = `${producer.api}/v1/schedules/cluster-beat`;
    const body = { every: 1_000, job: { type: 'analytics-maintenance', data: {} } };
    expect((await request(url, { method: 'PUT', json: body })).status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 5_500));
    const { body: schedule } = await request(url);
    expect((await request(url, { method: 'DELETE' })).status).toBe(200);
    const runs = schedule.history as { firedAt: string; state: string; jobId: string }[];
    expect(runs.length).toBeGreaterThanOrEqual(3);
    expect(runs.length).toBeLessThanOrEqual(7);
    expect(new Set(runs.map((run) => run.firedAt)).size).toBe(runs.length); // no tick twice
    expect(runs.every((run) => run.state === 'completed')).toBe(true);
  }, 30_000);

  it('answers 503 while a queue’s master is down, then the same worker consumes again', async () => {
    const worker = fleet[0] as FleetWorker;
    await cluster.synced();
    const killed = await cluster.killMaster((await cluster.masterOf('cl:{analytics}')).node);
    const killedAt = Date.now();
    const statuses = new Set<number>();
    const back = await eventually(
      async () => {
        const started = Date.now();
        const answer = await post('analytics', { data: { events: [event()] } });
        expect(Date.now() - started).toBeLessThan(5_000); // never a hang
        statuses.add(answer.status);
        if (answer.status === 503) expect(answer.headers.get('retry-after')).toBeTruthy();
        else expect(answer.status).toBe(202);
        return answer.status === 202 ? answer.body.id : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'a 202 from the promoted replica' },
    );
    const apiBackMs = Date.now() - killedAt;
    await cluster.waitForFailover(killed);
    expect((await settled('analytics', back)).state).toBe('completed');
    const workersBackMs = Date.now() - killedAt;
    expect(worker.child.exitCode).toBeNull();
    expect((await fetch(`${worker.url}/readyz`)).status).toBe(200);
    // Mail, on another master most likely, kept going too; and later jobs run as before.
    const later = await Promise.all(
      [1, 2, 3, 4, 5].map(() => post('analytics', { data: { events: [event()] } })),
    );
    for (const answer of later)
      expect((await settled('analytics', answer.body.id)).state).toBe('completed');
    expect([...statuses].every((status) => status === 202 || status === 503)).toBe(true);
    process.stdout.write(
      `cluster failover: API back ${apiBackMs} ms, workers back ${workersBackMs} ms after the kill\n`,
    );
  }, 60_000);
});
