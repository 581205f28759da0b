/**
 * `npm start`: the whole platform on one machine.
 * 1. Redis: REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES when given; else reuse or start a local redis-server
 *    with AOF in data/redis.
 * 2. SMTP: SMTP_URL when given; else a local catcher that saves each message in data/mail.
 *    Image storage: STORAGE_URL or STORAGE_DIR when given; else the folder data/storage.
 * 3. Dashboard users: with no users file, an `admin` with a random password, printed once.
 * 4. Producer, worker and dashboard, each its own process (as in production).
 * 5. Ctrl-C: stop the apps (they drain), then the catcher, then Redis. A second Ctrl-C forces.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isListening, RedisServer, SmtpSink } from '@errand/devservers';

const root = join(import.meta.dirname, '..');
const env = process.env;
const LOCAL_REDIS_PORT = Number(env.ERRAND_LOCAL_REDIS_PORT ?? 6380);
const LOCAL_SMTP_PORT = Number(env.ERRAND_LOCAL_SMTP_PORT ?? 2525);
const DATA_DIR = env.ERRAND_DATA_DIR ?? join(root, 'data');

let redis: RedisServer | undefined;
let smtp: SmtpSink | undefined;
const apps: { name: string; child: ChildProcess }[] = [];

/** The REDIS_URL the apps get; none when the environment says where Redis is (URL, Sentinel, Cluster). */
async function startRedis(): Promise<Record<string, string>> {
  if (env.REDIS_URL || env.REDIS_SENTINELS || env.REDIS_CLUSTER_NODES) return {};
  const url = `redis://127.0.0.1:${LOCAL_REDIS_PORT}`;
  if (await isListening(LOCAL_REDIS_PORT)) {
    console.log(`redis:     reusing the Redis that answers at ${url}`);
    return { REDIS_URL: url };
  }
  const dir = join(DATA_DIR, 'redis');
  redis = await RedisServer.start({ port: LOCAL_REDIS_PORT, dir, detached: true });
  console.log(`redis:     started redis-server at ${url} with AOF in ${dir}`);
  return { REDIS_URL: url };
}

async function startSmtp(): Promise<string> {
  if (env.SMTP_URL) return env.SMTP_URL;
  const saveDir = join(DATA_DIR, 'mail');
  const port = (await isListening(LOCAL_SMTP_PORT)) ? 0 : LOCAL_SMTP_PORT;
  smtp = await SmtpSink.start({ port, saveDir });
  console.log(`smtp:      catching mail at ${smtp.url}; each message is saved in ${saveDir}`);
  return smtp.url;
}

/** The dashboard needs a user: make `admin` (its password printed once) when there is no file. */
async function ensureDashboardUser(): Promise<void> {
  const file = env.DASHBOARD_USERS_FILE ?? join(root, 'config', 'dashboard-users.yaml');
  if (existsSync(file)) return;
  console.log(`dashboard: no users file at ${file}; adding the user "admin"`);
  const command = join(root, 'apps', 'dashboard', 'src', 'users-command.ts');
  const child = spawn(process.execPath, [command, 'add', 'admin', '--role', 'admin'], {
    env: { ...env, DASHBOARD_USERS_FILE: file },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`could not create ${file} (exit ${code})`);
}

function startApp(name: string, extra: Record<string, string>) {
  const child = spawn(process.execPath, [join(root, 'apps', name, 'src', 'main.ts')], {
    env: { ...env, ...extra },
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
  });
  apps.push({ name, child });
  child.once('exit', (code, signal) => {
    if (!stopping) {
      console.error(`${name} exited (${signal ?? code}); stopping everything`);
      void stop(1);
    }
  });
}

let stopping = false;
async function stop(exitCode: number) {
  if (stopping) return;
  stopping = true;
  console.log('stopping: apps first (they finish running jobs), then SMTP and Redis');
  await Promise.all(
    apps.map(
      ({ child }) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    ),
  );
  await smtp?.close();
  await redis?.stop();
  process.exitCode = exitCode;
}

process.on('SIGINT', () => (stopping ? forceQuit() : void stop(0)));
process.on('SIGTERM', () => (stopping ? forceQuit() : void stop(0)));

function forceQuit() {
  for (const { child } of apps) child.kill('SIGKILL');
  void redis?.kill();
  process.exit(130);
}

try {
  const redisEnv = await startRedis();
  const smtpUrl = await startSmtp();
  const ports = {
    PRODUCER_PORT: env.PRODUCER_PORT ?? '3000',
    DASHBOARD_PORT: env.DASHBOARD_PORT ?? '3001',
    WORKER_PORT: env.WORKER_PORT ?? '3002',
  };
  await ensureDashboardUser();
  // Producer and worker must see the same storage: uploads in, outputs out.
  const storageEnv: Record<string, string> =
    env.STORAGE_URL || env.STORAGE_DIR ? {} : { STORAGE_DIR: join(DATA_DIR, 'storage') };
  console.log(`storage:   ${env.STORAGE_URL ?? env.STORAGE_DIR ?? storageEnv.STORAGE_DIR}`);
  const common = { ...redisEnv, ...storageEnv, SMTP_URL: smtpUrl, ...ports };
  startApp('producer', common);
  startApp('worker', common);
  startApp('dashboard', common);
  console.log(`producer:  http://127.0.0.1:${ports.PRODUCER_PORT}  (POST /v1/jobs/email)`);
  console.log(
    `dashboard: http://127.0.0.1:${ports.DASHBOARD_PORT}  (log in; users: npm run dashboard:user -- list)`,
  );
  console.log(`worker:    http://127.0.0.1:${ports.WORKER_PORT}/healthz`);
  console.log('Ctrl-C stops everything.');
} catch (error) {
  console.error(`errand did not start: ${(error as Error).message}`);
  await stop(1);
}
