import { randomBytes } from 'node:crypto';
import { glob, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort } from '@errand/devservers';
import {
  type AppProcess,
  eventually,
  type ProducerProcess,
  REPO_ROOT,
  request,
  SmtpSink,
  startApp,
  startProducerProcess,
  startTestRedis,
  type TestRedis,
} from '@errand/testing';
import { Redis } from 'ioredis';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DashboardProcess,
  logIn,
  startDashboard,
  testUsers,
} from '../../apps/dashboard/test/dashboard.testkit.ts';

/**
 * The shipped Redis configuration (deploy/redis: redis.conf, users.acl, entrypoint.sh), run by
 * real redis-server, with every app connected as the least-privilege `errand` user: all three
 * job types, schedules from a file and the API, the dashboard and its exporter, then ACL LOG
 * must hold no denial. And what `errand` must not do, it cannot.
 */

const PREFIX = 'errand';
const secret = () => randomBytes(24).toString('base64url');
const deployed = { prefix: PREFIX, password: secret(), adminPassword: secret() };
const SCHEDULES = `schedules:
  - id: every-second
    every: 1000
    job: { type: analytics-maintenance, data: {} }
`;

let redis: TestRedis;
let admin: Redis;
let smtp: SmtpSink;
let dir: string;
let worker: AppProcess;
let producer: ProducerProcess;
let dashboard: DashboardProcess;

beforeAll(async () => {
  redis = await startTestRedis({ deployed });
  admin = new Redis(redis.adminUrl ?? '');
  smtp = await SmtpSink.start();
  dir = await mkdtemp(join(tmpdir(), 'errand-acl-'));
  await mkdir(join(dir, 'storage', 'uploads'), { recursive: true });
  const photo = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#3a7' } })
    .png()
    .toBuffer();
  await writeFile(join(dir, 'storage', 'uploads', 'photo.png'), photo);
  await writeFile(join(dir, 'schedules.yaml'), SCHEDULES);
  const env = { REDIS_URL: redis.url, QUEUE_PREFIX: PREFIX, STORAGE_DIR: join(dir, 'storage') };
  worker = startApp('worker', {
    ...env,
    WORKER_PORT: String(await freePort()),
    SMTP_URL: smtp.url,
    SCHEDULES_FILE: join(dir, 'schedules.yaml'),
  });
  await worker.waitForLine('worker running');
  producer = await startProducerProcess(env);
  dashboard = await startDashboard(env);
}, 60_000);
afterAll(async () => {
  await Promise.all([worker?.stop(), producer?.stop(), dashboard?.stop()]);
  admin?.disconnect();
  await smtp?.close();
  await redis?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const api = (path: string, init: Parameters<typeof request>[1] = {}) =>
  request(`${producer.api}${path}`, init);

async function completed(type: string, id: string) {
  return eventually(
    async () => {
      const { body } = await api(`/v1/jobs/${type}/${id}`);
      return body?.state === 'completed' ? body : undefined;
    },
    { timeoutMs: 20_000 },
  );
}

/** One inline command on a connection that has not logged in, and the first line of its answer. */
function unauthenticated(command: string): Promise<string> {
  const { hostname, port } = new URL(redis.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(`${command}\r\n`));
    socket.once('data', (data) => {
      resolve(data.toString().split('\r\n')[0] ?? '');
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

describe('the shipped Redis configuration', () => {
  it('runs every app as the errand user without one denial in ACL LOG', async () => {
    const mail = { to: ['ada@example.com'], subject: 'Hi', text: 'Hello' };
    const email = await api('/v1/jobs/email', { method: 'POST', json: { data: mail } });
    const image = await api('/v1/jobs/image', {
      method: 'POST',
      json: {
        data: { source: { key: 'uploads/photo.png' }, outputs: [{ format: 'webp', width: 32 }] },
      },
    });
    const event = {
      id: 'e1',
      name: 'signup',
      timestamp: new Date().toISOString(),
      properties: { plan: 'pro' },
    };
    const analytics = await api('/v1/jobs/analytics', {
      method: 'POST',
      headers: { 'idempotency-key': 'acl-test-1' },
      json: { data: { events: [event] } },
    });
    const batch = await api('/v1/jobs/email/batch', {
      method: 'POST',
      json: { jobs: [{ data: mail }, { data: mail, delay: 3_600_000 }] },
    });
    expect([email.status, image.status, analytics.status, batch.status]).toEqual([
      202, 202, 202, 202,
    ]);
    await completed('email', email.body.id);
    await completed('image', image.body.id);
    await completed('analytics', analytics.body.id);
    await completed('email', batch.body.jobs[0].id);
    const delayed = batch.body.jobs[1].id;
    expect((await api(`/v1/jobs/email/${delayed}`, { method: 'DELETE' })).status).toBe(200);
    expect(smtp.messages.length).toBeGreaterThanOrEqual(2);

    const day = new Date().toISOString().slice(0, 10);
    const report = await api(
      `/v1/analytics/signup?granularity=hour&from=${day}T00:00:00Z&to=${day}T23:59:59Z&top=plan`,
    );
    expect(report.body.total.count).toBe(1);
    expect(report.body.top).toEqual({ plan: [{ value: 'pro', count: 1 }] });
    expect((await api('/v1/queues')).status).toBe(200);
    // the dead letter: listings (a sorted set, a list), a bulk retry and discard, their audit
    expect((await api('/v1/jobs/email?state=completed&limit=1')).body.jobs).toHaveLength(1);
    expect((await api('/v1/jobs/email?state=waiting')).status).toBe(200);
    const retry = { method: 'POST', json: { reasonPrefix: 'smtp' } };
    expect((await api('/v1/jobs/email/retry', retry)).status).toBe(200);
    const discard = await api('/v1/jobs/email?state=completed&limit=1', { method: 'DELETE' });
    expect(discard.body.removed).toBe(1);

    // schedules: the file's fires, and the API's writes and controls
    await eventually(
      async () => {
        const { body } = await api('/v1/schedules/every-second');
        return body?.lastRun?.state === 'completed' ? true : undefined;
      },
      { timeoutMs: 20_000 },
    );
    const schedule = { cron: '0 3 * * *', job: { type: 'analytics-maintenance', data: {} } };
    expect((await api('/v1/schedules/nightly', { method: 'PUT', json: schedule })).status).toBe(
      201,
    );
    for (const action of ['pause', 'resume', 'run']) {
      const answer = await api(`/v1/schedules/nightly/${action}`, { method: 'POST' });
      expect(answer.status, action).toBeLessThan(300);
    }
    expect((await api('/v1/schedules/nightly', { method: 'DELETE' })).status).toBe(200);

    // the dashboard: Bull Board, an operator's action, and the queue-state exporter
    const operator = await logIn(dashboard.url, testUsers.operator);
    expect((await operator.fetch('/api/queues')).status).toBe(200);
    expect((await operator.fetch('/api/queues/email/pause', { method: 'PUT' })).status).toBe(200);
    expect((await operator.fetch('/api/queues/email/resume', { method: 'PUT' })).status).toBe(200);
    const metrics = await (await fetch(`${dashboard.url}/metrics`)).text();
    expect(metrics).toMatch(/errand_queue_workers\{queue="email",app="dashboard"\} [1-9]/);
    expect(metrics).toContain('errand_redis_memory_max_bytes{app="dashboard"} 1073741824');
    expect(metrics).toContain('errand_redis_up{app="dashboard"} 1');
    for (const url of [producer.api, dashboard.url]) {
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
    }

    expect(await worker.stop()).toBe(0); // a graceful shutdown, too
    expect(await admin.call('ACL', 'LOG')).toEqual([]);
  });

  it('keeps every job through a restart: the AOF’s transactions replay under the off default user', async () => {
    // Redis replays the AOF as its `default` user and checks EXEC against that user's rights:
    // a default user without them dropped every MULTI and script (every BullMQ add) on restart.
    const mail = { to: ['ada@example.com'], subject: 'Later', text: 'Hello' };
    const key = { 'idempotency-key': 'acl-restart-1' };
    const body = { data: mail, delay: 3_600_000 };
    const added = await api('/v1/jobs/email', { method: 'POST', headers: key, json: body });
    const batch = await api('/v1/jobs/email/batch', {
      method: 'POST',
      json: { jobs: [body, body] },
    });
    expect([added.status, batch.status]).toEqual([202, 202]);
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // past appendfsync everysec
    await redis.kill();
    await redis.restart();
    await eventually(
      async () => ((await fetch(`${producer.api}/readyz`)).status === 200 ? true : undefined),
      {
        timeoutMs: 20_000,
      },
    );
    for (const id of [added.body.id, ...batch.body.jobs.map((job: { id: string }) => job.id)]) {
      expect((await api(`/v1/jobs/email/${id}`)).body.state).toBe('delayed');
    }
    const replay = await api('/v1/jobs/email', { method: 'POST', headers: key, json: body });
    expect(replay).toMatchObject({ status: 200, body: { id: added.body.id } });
  });

  it('refuses the errand user what the apps do not need, and lets no one in without a name', async () => {
    const errand = new Redis(redis.url, { maxRetriesPerRequest: 0 });
    try {
      const refused: [string, ...(string | number)[]][] = [
        ['FLUSHALL'],
        ['FLUSHDB'],
        ['CONFIG', 'GET', 'maxmemory'],
        ['KEYS', '*'],
        ['SET', 'elsewhere', '1'],
        ['GET', 'elsewhere'],
        ['EVAL', "return redis.call('GET', KEYS[1])", 1, 'elsewhere'],
        ['SHUTDOWN'],
        ['ACL', 'LIST'],
        ['DEBUG', 'SLEEP', 0],
        ['MONITOR'],
        ['SCRIPT', 'FLUSH'],
        ['MODULE', 'LIST'],
        ['SCAN', 0],
        ['PUBLISH', 'anything', 'x'],
      ];
      for (const [command, ...args] of refused) {
        // DEBUG is also off in the server's own settings, which answer first
        await expect(errand.call(command, ...args), command).rejects.toThrow(
          /NOPERM|DEBUG command not allowed/,
        );
      }
      expect(await errand.set(`${PREFIX}:mine`, '1')).toBe('OK');

      expect(await unauthenticated('PING')).toMatch(/^-NOAUTH/);
      expect(await unauthenticated('AUTH default anything')).toMatch(/^-WRONGPASS/);
    } finally {
      errand.disconnect();
    }
  });

  it('allows errand every command that a Lua script of BullMQ or Errand calls, on its keys', async () => {
    const commands = await scriptCommands();
    expect(commands).toContain('ZADD'); // the scripts were found and read
    const denied: string[] = [];
    for (const command of commands) {
      const [info] = (await admin.call('COMMAND', 'INFO', command)) as [[string, number] | null];
      if (!info) continue; // a word of a table that is no command, e.g. WITHSCORES
      const arity = info[1];
      const args = Array<string>(arity > 0 ? arity - 1 : -arity - 1).fill(`${PREFIX}:key`);
      const answer = await admin.call('ACL', 'DRYRUN', 'errand', command, ...args);
      if (answer !== 'OK') denied.push(`${command}: ${answer}`);
    }
    expect(denied).toEqual([]);
  });

  it('allows errand what an ioredis Cluster client sends of its own, so one users file serves a Cluster', async () => {
    const commands = await clusterClientCommands();
    expect(commands.map((c) => c.join(' ')).sort()).toEqual(
      expect.arrayContaining(['ASKING', 'CLUSTER INFO', 'CLUSTER SLOTS', 'READONLY', 'READWRITE']),
    );
    const denied: string[] = [];
    for (const command of commands) {
      const answer = await admin.call('ACL', 'DRYRUN', 'errand', ...command);
      if (answer !== 'OK') denied.push(`${command.join(' ')}: ${answer}`);
    }
    expect(denied).toEqual([]);
  });
});

/**
 * What an ioredis Cluster client sends of its own, read from its code: `cluster("SLOTS")`,
 * `.asking()`, and READONLY / READWRITE, sent by name or chosen between (`redis[readOnly ?
 * "readonly" : "readwrite"]()`) when a node's role changes.
 */
async function clusterClientCommands(): Promise<string[][]> {
  const built = dirname(createRequire(import.meta.url).resolve('ioredis'));
  const files = [
    ...(await readdir(join(built, 'cluster')))
      .filter((f) => f.endsWith('.js'))
      .map((f) => join(built, 'cluster', f)),
    join(built, 'redis', 'event_handler.js'),
  ];
  const commands = new Map<string, string[]>();
  for (const file of files) {
    const code = await readFile(file, 'utf8');
    for (const [, sub = ''] of code.matchAll(/\.cluster\(\s*"([A-Za-z]+)"/g)) {
      commands.set(`CLUSTER ${sub.toUpperCase()}`, ['CLUSTER', sub.toUpperCase()]);
    }
    const named = /\.(asking|readonly|readwrite)\(|"(readonly|readwrite)"\s*[:\]]/g;
    for (const [, called, chosen] of code.matchAll(named)) {
      const name = (called ?? chosen ?? '').toUpperCase();
      commands.set(name, [name]);
    }
  }
  return [...commands.values()];
}

/** The commands named in BullMQ's Lua scripts and in Errand's own (`.lua` files and inline). */
async function scriptCommands(): Promise<string[]> {
  const bullmqScripts = join(dirname(createRequire(import.meta.url).resolve('bullmq')), 'scripts');
  const files = (await readdir(bullmqScripts))
    .filter((f) => f.endsWith('.js'))
    .map((f) => join(bullmqScripts, f));
  const ours = glob(['libs/*/src/**/*.{lua,ts}', 'apps/*/src/**/*.{lua,ts}'], { cwd: REPO_ROOT });
  for await (const file of ours) files.push(join(REPO_ROOT, file));
  // `rcall('ZADD', …)`, and a command built as a table first: `{ 'ZUNION', #KEYS }` → unpack
  const named = /\b(?:rcall|redis\.p?call)\(\s*["']([A-Za-z]+)["']|\{\s*["']([A-Z]+)["']\s*,/g;
  const commands = new Set<string>();
  for (const file of files) {
    if (/\.(test|cases|testkit)\.ts$/.test(file)) continue; // tests try hostile scripts
    for (const [, called, built] of (await readFile(file, 'utf8')).matchAll(named)) {
      commands.add((called ?? built ?? '').toUpperCase());
    }
  }
  return [...commands].sort();
}
