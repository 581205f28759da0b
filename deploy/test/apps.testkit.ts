import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@errand/devservers';
import { type AppProcess, startApp } from '@errand/testing';
import { startDashboard } from '../../apps/dashboard/test/dashboard.testkit.ts';

/** An app process and the base URL of its HTTP server (API, board, or health and metrics). */
export interface Served {
  app: AppProcess;
  url: string;
}

type AppName = 'producer' | 'worker';

const PORT_VARIABLE = {
  producer: 'PRODUCER_PORT',
  worker: 'WORKER_PORT',
} satisfies Record<AppName, string>;
const READY_LINE = {
  producer: 'producer listening',
  worker: 'worker running',
} satisfies Record<AppName, string>;

/**
 * The dashboard process on a free port, with a users file (it refuses to start without one),
 * once it listens; stopping it deletes the file.
 */
export async function startDashboardApp(
  env: Record<string, string>,
  started: (app: AppProcess) => void,
): Promise<Served> {
  const app = await startDashboard(env);
  started(app);
  return { app, url: app.url };
}

/** An app on a free port; `started` hears of the process before it is waited for. */
async function serve(
  name: AppName,
  env: Record<string, string>,
  started: (app: AppProcess) => void,
): Promise<Served> {
  const port = await freePort();
  const app = startApp(name, { ...env, [PORT_VARIABLE[name]]: String(port) });
  started(app);
  await app.waitForLine(READY_LINE[name]);
  return { app, url: `http://127.0.0.1:${port}` };
}

/** The apps as deployed, each its own process on one Redis; a worker only if asked for. */
export interface Stack {
  producer: Served;
  dashboard: Served;
  worker: Served | undefined;
  /** Stop every process (SIGTERM: they drain) and delete the worker's files. */
  stop(): Promise<void>;
}

/**
 * Producer, dashboard and (with `worker: true`) a worker, as `npm start` runs them, on the
 * given Redis and queue prefix. The producer has no API keys: open, on loopback.
 */
export async function startStack(
  env: { REDIS_URL: string; QUEUE_PREFIX: string },
  options: { worker: boolean },
): Promise<Stack> {
  const apps: AppProcess[] = [];
  const started = (app: AppProcess) => apps.push(app);
  const dir = await mkdtemp(join(tmpdir(), 'errand-deploy-'));
  const stop = async () => {
    await Promise.all(apps.map((app) => app.stop()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const [producer, dashboard, worker] = await Promise.all([
      serve('producer', env, started),
      startDashboardApp(env, started),
      options.worker
        ? serve('worker', { ...env, STORAGE_DIR: join(dir, 'storage') }, started)
        : undefined,
    ]);
    return { producer, dashboard, worker, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
