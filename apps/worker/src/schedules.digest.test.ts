import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_DEDUPE_WINDOW_S, DEFAULT_RETENTION_S, makeIngest } from '@errand/analytics';
import { freePort } from '@errand/devservers';
import { closeQueues, makeSchedules, openQueues, type Queues } from '@errand/queues';
import {
  type AppProcess,
  eventually,
  SmtpSink,
  startApp,
  startTestRedis,
  type TestRedis,
} from '@errand/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';

const DAY_MS = 86_400_000;
const PREFIX = 'digest-e2e';
const FILE = `schedules:
  - id: daily-digest
    cron: "0 7 * * *"
    job:
      type: digest
      data: { events: [signup, purchase, login], to: [ops@example.com], subject: Daily }
`;

let redis: TestRedis;
let smtp: SmtpSink;
let worker: AppProcess;
let connection: Redis;
let queues: Queues;
let dir: string;

beforeAll(async () => {
  redis = await startTestRedis();
  smtp = await SmtpSink.start();
  dir = await mkdtemp(join(tmpdir(), 'errand-digest-'));
  await writeFile(join(dir, 'schedules.yaml'), FILE);
  connection = new Redis(redis.url);
  queues = openQueues(connection, PREFIX);
  worker = startApp('worker', {
    REDIS_URL: redis.url,
    QUEUE_PREFIX: PREFIX,
    WORKER_PORT: String(await freePort()),
    SMTP_URL: smtp.url,
    STORAGE_DIR: join(dir, 'storage'),
    SCHEDULES_FILE: join(dir, 'schedules.yaml'),
  });
  await worker.waitForLine('worker running');
});
afterAll(async () => {
  await worker?.stop();
  await closeQueues(queues);
  connection?.disconnect();
  await smtp?.close();
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

/**
 * The built-in digest end to end: analytics in Redis → `run` the file's digest schedule →
 * the worker's digest job reads yesterday's numbers and adds an email job → the same worker
 * sends it → one mail in a real SMTP server, with the numbers.
 */
it('mails yesterday’s counts and unique users once when the digest schedule is run', async () => {
  const yesterday = new Date(Date.now() - DAY_MS).toISOString().slice(0, 10);
  const at = (time: string) => `${yesterday}T${time}Z`;
  const today = new Date().toISOString().slice(0, 10);
  await makeIngest(connection, {
    prefix: PREFIX,
    retentionS: DEFAULT_RETENTION_S,
    dedupeWindowS: DEFAULT_DEDUPE_WINDOW_S,
    topProperties: undefined,
  })([
    { id: 's1', name: 'signup', timestamp: at('00:00:00'), userId: 'ada' },
    { id: 's2', name: 'signup', timestamp: at('09:30:00'), userId: 'bob' },
    { id: 's3', name: 'signup', timestamp: at('23:59:59'), userId: 'ada' },
    { id: 's4', name: 'signup', timestamp: `${today}T00:00:00Z`, userId: 'cy' }, // today
    { id: 'p1', name: 'purchase', timestamp: at('12:00:00'), anonymousId: 'anon' },
  ]);

  const schedules = makeSchedules(connection, queues, PREFIX);
  expect((await schedules.get('daily-digest'))?.source).toBe('file');
  const run = await schedules.runNow('daily-digest');
  const [mail] = await smtp.waitFor(1);
  expect(mail?.envelope.to).toEqual(['ops@example.com']);
  expect(mail?.parsed.subject).toBe(`Daily — ${yesterday}`);
  expect(mail?.parsed.text).toContain(`Your digest for ${yesterday}`);
  expect(mail?.parsed.text).toContain('- signup: 3 events, 2 users');
  expect(mail?.parsed.text).toContain('- purchase: 1 events, 1 users');
  expect(mail?.parsed.text).toContain('- login: 0 events, 0 users');

  await eventually(async () => {
    const [last] = (await schedules.get('daily-digest'))?.history ?? [];
    expect(last).toMatchObject({ jobId: run?.jobId, state: 'completed' });
    return true;
  });
  const digestJob = await queues.digest.getJob(run?.jobId ?? '');
  expect(digestJob?.returnvalue).toMatchObject({
    day: yesterday,
    rows: [
      { event: 'signup', count: 3, users: 2 },
      { event: 'purchase', count: 1, users: 1 },
      { event: 'login', count: 0, users: 0 },
    ],
  });
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  expect(smtp.messages).toHaveLength(1);
});
