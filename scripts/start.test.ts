import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, isListening } from '@errand/devservers';
import { eventually, request } from '@errand/testing';
import { afterAll, expect, it } from 'vitest';
import { logIn } from '../apps/dashboard/test/dashboard.testkit.ts';

const dataDir = await mkdtemp(join(tmpdir(), 'errand-start-'));
afterAll(() => rm(dataDir, { recursive: true, force: true }));

/** The README's first command: everything up, a first email to .eml, Ctrl-C stops it all. */
it('npm start runs the platform on its own Redis and SMTP catcher, and stops cleanly', async () => {
  const [redisPort, smtpPort, producerPort, workerPort, dashboardPort] = (await Promise.all(
    Array.from({ length: 5 }, () => freePort()),
  )) as [number, number, number, number, number];
  const { REDIS_URL: _r, SMTP_URL: _s, ...env } = process.env;
  const child = spawn(process.execPath, [join(import.meta.dirname, 'start.ts')], {
    env: {
      ...env,
      ERRAND_DATA_DIR: dataDir,
      ERRAND_LOCAL_REDIS_PORT: String(redisPort),
      ERRAND_LOCAL_SMTP_PORT: String(smtpPort),
      PRODUCER_PORT: String(producerPort),
      WORKER_PORT: String(workerPort),
      DASHBOARD_PORT: String(dashboardPort),
      DASHBOARD_USERS_FILE: join(dataDir, 'dashboard-users.yaml'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    const up = ['producer listening', 'dashboard listening', 'worker running'];
    await eventually(() => (up.every((line) => output.includes(line)) ? true : undefined), {
      timeoutMs: 20_000,
      what: 'all apps up',
    });
    expect(output).toContain(`started redis-server at redis://127.0.0.1:${redisPort} with AOF`);
    expect((await request(`http://127.0.0.1:${dashboardPort}/healthz`)).status).toBe(200);
    // no users file: an admin with a random password, printed once, that logs in
    const password = /password: ([A-Za-z0-9_-]{22}) /.exec(output)?.[1] ?? '';
    const admin = await logIn(`http://127.0.0.1:${dashboardPort}`, { name: 'admin', password });
    expect((await admin.fetch('/api/queues')).status).toBe(200);

    const api = `http://127.0.0.1:${producerPort}`;
    const job = await request(`${api}/v1/jobs/email`, {
      method: 'POST',
      json: { data: { to: 'first@example.com', subject: 'First', text: 'It works' } },
    });
    expect(job.status).toBe(202);
    const [eml] = await eventually(async () => {
      const files = await readdir(join(dataDir, 'mail')).catch(() => []);
      return files.length > 0 ? files : undefined;
    });
    const raw = await readFile(join(dataDir, 'mail', eml as string), 'utf8');
    expect(raw).toContain('Subject: First');
    expect(raw).toContain('It works');
    expect(await readdir(join(dataDir, 'redis'))).toContain('appendonlydir');
  } finally {
    child.kill('SIGINT');
  }
  expect(await exited).toBe(0);
  expect(await isListening(redisPort)).toBe(false);
  expect(output).toContain('"msg":"stopped"');
});
