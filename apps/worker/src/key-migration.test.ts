import { execFile } from 'node:child_process';
import { hash } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { canonicalJson, jobs } from '@errand/contract';
import { closeQueues, openQueues, refuseOldKeyLayout } from '@errand/queues';
import {
  eventually,
  REPO_ROOT,
  request,
  SmtpSink,
  startApp,
  startProducerProcess,
  startTestRedis,
  type TestRedis,
} from '@errand/testing';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveredIds, mail, startFleet, stopFleet } from '../test/fleet.testkit.ts';

/**
 * An upgrade from the key layout before the per-queue hash tag: a Redis populated the way
 * the earlier release wrote it (BullMQ under the plain prefix, the idempotency record and
 * send ledger beside it), refused by this release, moved by `npm run migrate-keys`, then
 * served by this release's producer and workers: every job found by id in its state, an
 * idempotent request replayed, the mail a crashed worker had sent not sent again.
 */
const P = 'errand';
const hex = (text: string) => hash('sha256', text, 'hex');
const run = promisify(execFile);
const COMMAND = join(REPO_ROOT, 'apps', 'worker', 'src', 'migrate-keys-command.ts');

async function migrateKeys(redis: TestRedis, ...args: string[]) {
  return migrateKeysWith({ REDIS_URL: redis.url, QUEUE_PREFIX: P }, ...args);
}

async function migrateKeysWith(env: Record<string, string>, ...args: string[]) {
  try {
    const { stdout } = await run(process.execPath, [COMMAND, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    return { code: 0, output: stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: `${failed.stdout}${failed.stderr}` };
  }
}

/** Every key of the Redis, sorted. */
async function allKeys(redis: Redis) {
  const keys: string[] = [];
  for await (const batch of redis.scanStream({ count: 1_000 })) keys.push(...(batch as string[]));
  return keys.sort();
}

/** A connection for one look at Redis, closed again: the migration wants no other client. */
async function look<T>(redis: TestRedis, read: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(redis.url, { maxRetriesPerRequest: null });
  try {
    return await read(client);
  } finally {
    await client.quit();
  }
}

const LEDGER_RESULT = {
  messageId: '<before-upgrade@errand>',
  accepted: ['sent@example.com'],
  rejected: [],
  response: '250 accepted before the upgrade',
};

describe('migrate-keys', () => {
  let redis: TestRedis;
  let client: Redis;
  let smtp: SmtpSink;
  const ids: Record<string, string> = {};
  const before: Record<string, string> = {};
  const keyBody = { data: mail('idem@example.com', 'idem') };
  const idemId = hex('anonymous\nupgrade-key-1');

  beforeAll(async () => {
    redis = await startTestRedis();
    smtp = await SmtpSink.start();
    client = new Redis(redis.url, { maxRetriesPerRequest: null });
    // The earlier release: each BullMQ queue under the plain prefix.
    const old = (name: string) => new Queue(name, { connection: client, prefix: P });
    const email = old(jobs.email.queue);
    const image = old(jobs.image.queue);
    const analytics = old(jobs.analytics.queue);
    const digest = old(jobs.digest.queue);

    // A mail accepted by SMTP whose worker then died: the job active, its lock expired, its
    // ledger entry written.
    ids.sent = String((await email.add('anonymous', mail('sent@example.com', 'sent'))).id);
    const crashed = new Worker(jobs.email.queue, null, { connection: client, prefix: P });
    expect((await crashed.getNextJob('crashed-worker'))?.id).toBe(ids.sent);
    await crashed.close();
    await client.del(`${P}:email:${ids.sent}:lock`);
    await client.set(`${P}:email:sent:${ids.sent}`, JSON.stringify(LEDGER_RESULT), 'EX', 3_600);
    // An idempotent request: its job and the record "added" (the producer's format).
    const fingerprint = hex(canonicalJson({ type: 'email', body: keyBody }));
    ids.idem = String((await email.add('anonymous', keyBody.data, { jobId: `idem-${idemId}` })).id);
    await client.set(`${P}:idempotency:${idemId}`, `added:${fingerprint}`, 'EX', 3_600);
    ids.fresh = String((await email.add('anonymous', mail('fresh@example.com', 'fresh'))).id);
    // Image: one completed, one failed, one delayed; analytics: one prioritized.
    const made = await image.add('anonymous', { ok: true });
    const broken = await image.add('anonymous', { ok: false });
    const workerConnection = client.duplicate();
    const imageWorker = new Worker(
      jobs.image.queue,
      async (job) => {
        if (!job.data.ok) throw new UnrecoverableError('undecodable');
        return 'made';
      },
      { connection: workerConnection, prefix: P },
    );
    await eventually(async () =>
      (await image.getJobState(String(broken.id))) === 'failed' ? true : undefined,
    );
    await imageWorker.close();
    await workerConnection.quit();
    ids.made = String(made.id);
    ids.broken = String(broken.id);
    ids.later = String((await image.add('anonymous', { ok: true }, { delay: 3_600_000 })).id);
    ids.ranked = String((await analytics.add('anonymous', { events: [] }, { priority: 3 })).id);
    await digest.upsertJobScheduler('nightly', { every: 3_600_000 }, { name: 'schedule:nightly' });
    // Analytics data shares its start with the analytics queue's keys and stays where it is.
    await client.zadd(`${P}:analytics:names`, 1, 'signup');
    await client.set(`${P}:analytics:{signup}:count:day:0`, 5);
    for (const queue of [email, image, analytics]) {
      for (const [name, id] of Object.entries(ids)) {
        const state = await queue.getJobState(id);
        if (state !== 'unknown') before[`${queue.name}/${name}`] = state;
      }
    }
    await Promise.all([email, image, analytics, digest].map((queue) => queue.close()));
  }, 60_000);

  afterAll(async () => {
    client?.disconnect();
    await smtp?.close();
    await redis?.stop();
  });

  it('is needed: this release refuses to start on the old layout, naming the command', async () => {
    await expect(refuseOldKeyLayout(client, P)).rejects.toThrow(/npm run migrate-keys/);
    const producer = startApp('producer', { REDIS_URL: redis.url, QUEUE_PREFIX: P });
    expect(await producer.exited).toBe(1);
    expect(producer.output()).toMatch(/earlier release \(errand:email:\*.*npm run migrate-keys/s);
  });

  it('refuses bad settings and arguments before it touches Redis, naming what is wrong', async () => {
    const unknown = await migrateKeys(redis, '--force');
    expect(unknown).toMatchObject({ code: 1, output: expect.stringMatching(/--force/) });
    const braces = await migrateKeysWith({ REDIS_URL: redis.url, QUEUE_PREFIX: '{errand}' });
    expect(braces).toMatchObject({ code: 1, output: expect.stringMatching(/QUEUE_PREFIX/) });
    const cluster = await migrateKeysWith({ REDIS_CLUSTER_NODES: '127.0.0.1:1', QUEUE_PREFIX: P });
    expect(cluster).toMatchObject({
      code: 1,
      output: expect.stringMatching(/never on a Cluster: migrate there/),
    });
    expect(await refuseOldKeyLayout(client, P).catch(() => 'old')).toBe('old'); // untouched
  });

  it('refuses while another client is connected or jobs are active; a dry run changes nothing', async () => {
    const busy = await migrateKeys(redis);
    expect(busy).toMatchObject({ code: 1, output: expect.stringMatching(/other client\(s\)/) });
    await client.quit();

    const active = await migrateKeys(redis);
    expect(active.code).toBe(1);
    expect(active.output).toMatch(/Jobs are active: 1 in email\b.*--stalled/s);

    const keys = await look(redis, allKeys);
    const dry = await migrateKeys(redis, '--dry-run', '--stalled');
    expect(dry.code).toBe(0);
    expect(dry.output).toMatch(/email: would move \d+ keys/);
    expect(dry.output).toMatch(/email send ledger: 1 entries/);
    expect(dry.output).toMatch(/idempotency records: 1\b/);
    expect(await look(redis, allKeys)).toEqual(keys);
  });

  it('moves every key of every queue, the ledger and the idempotency record; analytics stays', async () => {
    const moved = await migrateKeys(redis, '--stalled');
    expect(moved.output).toMatch(/active jobs moved as stalled: 1/);
    expect(moved.code).toBe(0);

    await look(redis, async (reader) => {
      const keys = await allKeys(reader);
      const queueNames = ['email', 'image', 'analytics', 'digest'];
      const left = keys.filter((key) => queueNames.some((q) => key.startsWith(`${P}:${q}:`)));
      expect(left).toEqual([`${P}:analytics:names`, `${P}:analytics:{signup}:count:day:0`]);
      expect(keys).not.toContain(`${P}:idempotency:${idemId}`);
      for (const queue of ['email', 'image', 'analytics', 'digest', 'image-cleanup']) {
        expect(await reader.get(`${P}:{${queue}}:idempotency:${idemId}`)).toMatch(/^added:/);
        expect(await reader.pttl(`${P}:{${queue}}:idempotency:${idemId}`)).toBeGreaterThan(0);
      }
      expect(await reader.get(`${P}:{email}:email:sent:${ids.sent}`)).toBe(
        JSON.stringify(LEDGER_RESULT),
      );
      await refuseOldKeyLayout(reader, P);
      const queues = openQueues(reader, P);
      try {
        const after: Record<string, string> = {};
        for (const queue of [queues.email, queues.image, queues.analytics]) {
          for (const [name, id] of Object.entries(ids)) {
            const state = await queue.getJobState(id);
            if (state !== 'unknown') after[`${queue.name}/${name}`] = state;
          }
        }
        expect(after).toEqual(before);
        expect(after).toMatchObject({
          'email/sent': 'active',
          'email/idem': 'waiting',
          'email/fresh': 'waiting',
          'image/made': 'completed',
          'image/broken': 'failed',
          'image/later': 'delayed',
          'analytics/ranked': 'prioritized',
        });
        expect((await queues.image.getJob(String(ids.made)))?.returnvalue).toBe('made');
        expect((await queues.image.getJob(String(ids.broken)))?.failedReason).toBe('undecodable');
        expect((await queues.digest.getJobScheduler('nightly'))?.every).toBe(3_600_000);
        expect(await queues.digest.getJobCountByTypes('waiting', 'delayed')).toBe(1);
      } finally {
        await closeQueues(queues);
      }
    });
  });

  it('is served by this release: a replay, every mail once, none sent twice', async () => {
    const env = { REDIS_URL: redis.url, QUEUE_PREFIX: P };
    const producer = await startProducerProcess(env);
    const fleet = await startFleet(1, {
      ...env,
      SMTP_URL: smtp.url,
      WORKER_QUEUES: 'email',
      WORKER_STALLED_INTERVAL_MS: '500',
    });
    try {
      const post = (type: string, json: unknown) =>
        request(`${producer.api}/v1/jobs/${type}`, {
          method: 'POST',
          headers: { 'idempotency-key': 'upgrade-key-1' },
          json,
        });
      const replay = await post('email', keyBody);
      expect(replay.status).toBe(200);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.body.id).toBe(ids.idem);
      // As before the upgrade: the key stands for its first request on every type.
      const event = { id: 'e1', name: 'signup', timestamp: new Date().toISOString() };
      expect((await post('analytics', { data: { events: [event] } })).status).toBe(422);

      const messages = await smtp.waitFor(2, 30_000);
      await look(redis, async (reader) => {
        const queues = openQueues(reader, P);
        try {
          await eventually(async () =>
            (await queues.email.getJobState(String(ids.sent))) === 'completed' ? true : undefined,
          );
          expect((await queues.email.getJob(String(ids.sent)))?.returnvalue).toEqual(LEDGER_RESULT);
        } finally {
          await closeQueues(queues);
        }
      });
      expect(deliveredIds(messages).sort()).toEqual([ids.fresh, ids.idem].sort());
      expect(smtp.messages).toHaveLength(2);
    } finally {
      await stopFleet(fleet);
      await producer.stop();
    }
  }, 60_000);
}, 120_000);
