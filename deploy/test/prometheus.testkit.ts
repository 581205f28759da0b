import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@errand/devservers';
import { eventually } from '@errand/testing';
import { parse, stringify } from 'yaml';

/** The shipped Prometheus files: prometheus.yml, alerts.yml, alerts.test.yml. */
export const PROMETHEUS_DIR = join(import.meta.dirname, '..', 'prometheus');

const MISSING =
  'not found on PATH. Install Prometheus (Debian/Ubuntu: apt install prometheus, which brings promtool too).';

/** Run a Prometheus binary (promtool, prometheus) to its end: exit code and all it printed. */
export function run(
  binary: string,
  args: string[],
  cwd = PROMETHEUS_DIR,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'ENOENT' ? new Error(`${binary} ${MISSING}`) : error),
    );
    child.once('close', (code) => resolve({ code, output }));
  });
}

interface ScrapeConfig {
  job_name: string;
  static_configs?: { targets: string[] }[];
  [setting: string]: unknown;
}

interface PrometheusConfig {
  global?: Record<string, unknown>;
  scrape_configs?: ScrapeConfig[];
  [section: string]: unknown;
}

/**
 * The shipped prometheus.yml as a test runs it, changed in targets and intervals only: each
 * scrape job's targets are `targets[job_name]` (static, any service discovery dropped), and
 * scrapes and rule evaluations happen every `interval`. Every job must be given targets, and
 * no job the file lacks, so a renamed job fails here rather than going unscraped.
 */
export function testConfig(
  shipped: string,
  targets: Record<string, string[]>,
  interval = '1s',
): string {
  const config = parse(shipped) as PrometheusConfig;
  const jobs = (config.scrape_configs ?? []).map((job) => job.job_name);
  const given = Object.keys(targets);
  if ([...jobs].sort().join() !== [...given].sort().join()) {
    throw new Error(`prometheus.yml scrapes jobs [${jobs}]; the test gave targets for [${given}]`);
  }
  config.global = { ...config.global, scrape_interval: interval, evaluation_interval: interval };
  delete config.global.scrape_timeout;
  for (const job of config.scrape_configs ?? []) {
    for (const setting of Object.keys(job)) {
      if (setting.endsWith('_sd_configs') || /^scrape_(interval|timeout)$/.test(setting)) {
        delete job[setting];
      }
    }
    job.static_configs = [{ targets: targets[job.job_name] ?? [] }];
  }
  return stringify(config);
}

/** One sample of an instant query's answer. */
export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** An alert as `/api/v1/alerts` lists it. */
export interface ActiveAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  value: string;
}

export interface PrometheusProcess {
  url: string;
  /** Everything it logged so far. */
  output(): string;
  /** GET an HTTP API path; the `data` of a success, else throws with Prometheus's error. */
  api<T>(path: string): Promise<T>;
  /** An instant query's vector. */
  query(expr: string): Promise<Sample[]>;
  /** Stop it (SIGTERM, then SIGKILL after 10 s) and delete its config and data. */
  stop(): Promise<void>;
}

/**
 * A real Prometheus on a free loopback port, running the shipped prometheus.yml (through
 * `testConfig`) and alerts.yml, with its data in a temp dir. Resolves once it is ready.
 */
export async function startPrometheus(options: {
  targets: Record<string, string[]>;
  interval?: string;
}): Promise<PrometheusProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'errand-prometheus-'));
  const shipped = await readFile(join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8');
  await writeFile(
    join(dir, 'prometheus.yml'),
    testConfig(shipped, options.targets, options.interval),
  );
  await copyFile(join(PROMETHEUS_DIR, 'alerts.yml'), join(dir, 'alerts.yml'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  let spawnError: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('close', () => resolve());
    child.once('error', (error: NodeJS.ErrnoException) => {
      spawnError = error.code === 'ENOENT' ? new Error(`prometheus ${MISSING}`) : error;
      resolve();
    });
  });

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${url}${path}`);
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`${path}: ${body.error ?? response.status}`);
    return body.data;
  };

  try {
    await Promise.race([
      eventually(async () => (await fetch(`${url}/-/ready`)).ok || undefined, {
        timeoutMs: 30_000,
        intervalMs: 100,
        what: 'prometheus ready',
      }),
      exited.then(() => {
        throw spawnError ?? new Error('prometheus exited');
      }),
    ]);
  } catch (error) {
    await stop();
    throw new Error(`${String(error)}\n${output}`);
  }

  return {
    url,
    output: () => output,
    api,
    async query(expr) {
      const data = await api<{ resultType: string; result: Sample[] }>(
        `/api/v1/query?query=${encodeURIComponent(expr)}`,
      );
      if (data.resultType !== 'vector') throw new Error(`${expr}: a ${data.resultType}`);
      return data.result;
    },
    stop,
  };
}
