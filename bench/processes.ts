import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..');

/** Every process the run started and has not stopped, so a failed run leaves none behind. */
const running = new Set<ChildProcess>();
export const killAll = () => {
  for (const child of running) child.kill('SIGKILL');
};

/** A process of the run; its output goes to a file, as a real deployment's logs would. */
export interface BenchProcess {
  child: ChildProcess;
  logFile: string;
  stop(): Promise<void>;
}

/**
 * Start `script` (a .ts file run by this Node) and wait for a line containing `ready` in its
 * output. Output goes to `logFile`, not through a pipe to this process, so reading 20,000
 * log lines a second does not cost the benchmark's own CPU.
 */
export async function startProcess(
  script: string,
  env: Record<string, string>,
  logFile: string,
  ready: string,
): Promise<BenchProcess> {
  const fd = openSync(logFile, 'w');
  const child = spawn(process.execPath, [script], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  running.add(child);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      running.delete(child);
      resolve();
    }),
  );
  const deadline = Date.now() + 30_000;
  while (!readFileSync(logFile, 'utf8').includes(ready)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`${script} did not say "${ready}":\n${readFileSync(logFile, 'utf8')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    child,
    logFile,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

export const appScript = (app: 'producer' | 'worker') => join(ROOT, 'apps', app, 'src', 'main.ts');
const bareWorkerScript = join(ROOT, 'bench', 'bare-worker.ts');

/**
 * A worker process on the analytics queue of `prefix`: Errand's own (`errand`, logging at
 * info, as deployed) or the bare BullMQ baseline (`bare`), at the same concurrency.
 */
export function startWorker(
  side: 'bare' | 'errand',
  options: { redisUrl: string; prefix: string; concurrency: number; logFile: string },
): Promise<BenchProcess> {
  const { redisUrl, prefix, concurrency, logFile } = options;
  return side === 'bare'
    ? startProcess(
        bareWorkerScript,
        {
          REDIS_URL: redisUrl,
          QUEUE: 'analytics',
          PREFIX: prefix,
          CONCURRENCY: String(concurrency),
        },
        logFile,
        'worker running',
      )
    : startProcess(
        appScript('worker'),
        {
          REDIS_URL: redisUrl,
          QUEUE_PREFIX: prefix,
          WORKER_QUEUES: 'analytics',
          WORKER_PORT: '0',
          ANALYTICS_CONCURRENCY: String(concurrency),
          LOG_LEVEL: 'info',
        },
        logFile,
        'worker running',
      );
}
