import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '@errand/devservers';

export const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');

export interface AppProcess {
  child: ChildProcess;
  /** Everything the process wrote so far, stdout and stderr together. */
  output(): string;
  /** Resolves with the exit code once the process ends. */
  exited: Promise<number | null>;
  /** Resolves once a log line contains `text`; rejects if the process ends first. */
  waitForLine(text: string, timeoutMs?: number): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Run an app's main.ts as its own process, the way `npm run start:<app>` does. */
export function startApp(
  app: 'producer' | 'worker' | 'dashboard',
  env: Record<string, string>,
): AppProcess {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'apps', app, 'src', 'main.ts')], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return {
    child,
    output: () => output,
    exited,
    waitForLine(text, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!output.includes(text)) return;
          done();
          resolve();
        };
        const timer = setTimeout(() => {
          done();
          reject(
            new Error(`${app}: no line with "${text}" within ${timeoutMs} ms; output:\n${output}`),
          );
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        exited.then(() => {
          if (!output.includes(text)) {
            done();
            reject(new Error(`${app} exited before "${text}"; output:\n${output}`));
          }
        });
        listeners.add(check);
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** A producer process and its base URL. */
export type ProducerProcess = AppProcess & { api: string };

/** A producer process on a free port, once it listens. */
export async function startProducerProcess(env: Record<string, string>): Promise<ProducerProcess> {
  const port = await freePort();
  const producer = startApp('producer', { ...env, PRODUCER_PORT: String(port) });
  await producer.waitForLine('producer listening');
  return Object.assign(producer, { api: `http://127.0.0.1:${port}` });
}
