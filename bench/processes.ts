import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '@errand/devservers';
import type { HostPort } from '@errand/redis';

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
 * Start `script` (a .ts or .js file run by this Node, or by `runtime`, with `args`) and wait
 * for a line containing `ready` in its output. Output goes to `logFile`, not through a pipe to this
 * process, so reading 20,000 log lines a second does not cost the benchmark's own CPU.
 */
export async function startProcess(
  script: string,
  env: Record<string, string>,
  logFile: string,
  ready: string,
  args: readonly string[] = [],
  runtime: string = process.execPath,
): Promise<BenchProcess> {
  const fd = openSync(logFile, 'w');
  // BENCH_CPU_PROF=<dir>: every process of the run writes a .cpuprofile there as it exits
  const profile = process.env.BENCH_CPU_PROF;
  const child = spawn(runtime, [script, ...args], {
    env: {
      PATH: process.env.PATH ?? '',
      ...(profile ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profile}` } : {}),
      ...env,
    },
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

/** Where a process finds Redis: a URL (the run's own server), or the nodes of a Redis Cluster. */
export type RedisWhere = string | readonly HostPort[];

/** The settings that point an app at `where`: REDIS_URL, or REDIS_CLUSTER_NODES. */
export const redisEnv = (where: RedisWhere): Record<string, string> =>
  typeof where === 'string'
    ? { REDIS_URL: where }
    : { REDIS_CLUSTER_NODES: where.map(({ host, port }) => `${host}:${port}`).join(',') };

export const appScript = (app: 'producer' | 'worker') => join(ROOT, 'apps', app, 'src', 'main.ts');

/** The API key bench requests send: the producer runs with keys, as deployed. */
export const BENCH_API_KEY = 'bench-key-0123456789abcdef';

/**
 * A producer process of `prefix` on `port`, as deployed: an API key, logging at info, a rate
 * limit too high to matter (the bench measures the work, not the limit). BENCH_PRODUCER=<the
 * main.ts of another checkout's producer> measures that one instead, to compare two versions.
 */
export function startProducer(options: {
  redis: RedisWhere;
  prefix: string;
  port: number;
  logFile: string;
  env?: Record<string, string>;
}): Promise<BenchProcess> {
  const keys = [{ name: 'bench', key: BENCH_API_KEY, scopes: ['enqueue', 'read'] }];
  return startProcess(
    process.env.BENCH_PRODUCER ?? appScript('producer'),
    {
      ...redisEnv(options.redis),
      QUEUE_PREFIX: options.prefix,
      PRODUCER_PORT: String(options.port),
      API_KEYS: JSON.stringify(keys),
      API_RATE_LIMIT: '1000000',
      LOG_LEVEL: 'info',
      ...options.env,
    },
    options.logFile,
    'producer listening',
  );
}
/**
 * The floor (bench/floor-producer.ts) of `prefix` on `port`: node:http and `Queue.add`, no key,
 * no check, no limit, no log line.
 */
export const startFloorProducer = (options: {
  redis: string;
  prefix: string;
  port: number;
  logFile: string;
}): Promise<BenchProcess> =>
  startProcess(
    join(ROOT, 'bench', 'floor-producer.ts'),
    { REDIS_URL: options.redis, PREFIX: options.prefix, PORT: String(options.port) },
    options.logFile,
    'producer listening',
  );

const bareWorkerScript = join(ROOT, 'bench', 'bare-worker.ts');
const noopWorkerScript = join(ROOT, 'bench', 'noop-worker.ts');

/**
 * A worker process on the analytics queue of `prefix`, at the given concurrency: Errand's own
 * (`errand`, logging at info, as deployed), Errand's runtime with a processor that does
 * nothing (`noop`, bench/noop-worker.ts), the bare BullMQ baseline (`bare`), or a bare Worker
 * running Errand's analytics aggregation and nothing else (`aggregate`). The bare and noop
 * processors return the moment they started, as `{ startedAt }`.
 */
export function startWorker(
  side: 'bare' | 'aggregate' | 'errand' | 'noop',
  options: { redis: RedisWhere; prefix: string; concurrency: number; logFile: string },
): Promise<BenchProcess> {
  const { redis, prefix, concurrency, logFile } = options;
  if (side === 'bare' || side === 'aggregate') {
    if (typeof redis !== 'string') throw new Error('bench/bare-worker.ts takes a REDIS_URL only');
    const env = {
      REDIS_URL: redis,
      QUEUE: 'analytics',
      PREFIX: prefix,
      ...(side === 'aggregate' ? { AGGREGATE: '1' } : {}),
    };
    return startProcess(
      bareWorkerScript,
      { ...env, CONCURRENCY: String(concurrency) },
      logFile,
      'worker running',
    );
  }
  return startProcess(
    side === 'errand' ? appScript('worker') : noopWorkerScript,
    {
      ...redisEnv(redis),
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

/**
 * One side of an end-to-end case on the analytics queue of `prefix`: a worker process
 * (concurrency 100) and, unless the side enqueues by itself, a producer on a free port
 * (Errand's, or the floor's); their logs are `<prefix>-worker.log` and `<prefix>-producer.log`
 * in `dir`. `stop()` ends both.
 */
export async function startEndToEnd(
  ctx: { redisUrl: string; dir: string },
  prefix: string,
  side: { worker: 'bare' | 'errand' | 'noop'; producer: 'errand' | 'floor' | undefined },
) {
  const logFile = (name: string) => join(ctx.dir, `${prefix}-${name}.log`);
  const worker = await startWorker(side.worker, {
    redis: ctx.redisUrl,
    prefix,
    concurrency: 100,
    logFile: logFile('worker'),
  });
  const port = await freePort();
  const where = { redis: ctx.redisUrl, prefix, port, logFile: logFile('producer') };
  const producer =
    side.producer === 'errand'
      ? await startProducer(where)
      : side.producer === 'floor'
        ? await startFloorProducer(where)
        : undefined;
  return {
    worker,
    producer,
    port,
    async stop() {
      await producer?.stop();
      await worker.stop();
    },
  };
}
