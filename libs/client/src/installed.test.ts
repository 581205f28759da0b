import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_VERSION } from '@errand/contract';
import { freePort } from '@errand/devservers';
import {
  type AppProcess,
  REPO_ROOT,
  startApp,
  startTestRedis,
  type TestRedis,
} from '@errand/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BUN,
  installedIn,
  type Packed,
  packClient,
  runService,
  serviceProject,
  systemNode,
  typeCheck,
} from '../test/installed.testkit.ts';

const KEY = 'installed-client-key-0123456789';

/**
 * The client as a service in another repository gets it: `npm pack` of the workspace
 * package, installed with plain `npm install <tarball>` into a project in the system's temp
 * dir, its script type-checked against the installed `.d.ts`, then run on the machine's Node
 * 20, the project's Node 24 and Bun against a real producer (restarted in the middle) and a
 * real worker on a real Redis.
 */
describe('@errand/client installed from its tarball', () => {
  let packed: Packed;
  let project: string;
  let packDir: string;
  let redis: TestRedis;
  let producer: AppProcess;
  let restarting: Promise<void> = Promise.resolve();
  let worker: AppProcess;
  let port: number;
  let env: Record<string, string>;

  const startProducer = async () => {
    producer = startApp('producer', { ...env, PRODUCER_PORT: String(port) });
    await producer.waitForLine('producer listening');
  };
  /** Stop the producer; start it again a second later (the script's retries ride it out). */
  const restart = async () => {
    await producer.stop();
    restarting = new Promise((resolve) => setTimeout(resolve, 1_000)).then(startProducer);
  };

  beforeAll(async () => {
    redis = await startTestRedis();
    port = await freePort();
    env = {
      REDIS_URL: redis.url,
      QUEUE_PREFIX: 'installed',
      API_KEYS: JSON.stringify([{ name: 'svc', key: KEY, scopes: ['enqueue', 'read', 'admin'] }]),
    };
    const [, project_] = await Promise.all([
      (async () => {
        await startProducer();
        worker = startApp('worker', {
          ...env,
          WORKER_PORT: String(await freePort()),
          WORKER_QUEUES: 'analytics',
        });
        await worker.waitForLine('worker running');
      })(),
      (async () => {
        packDir = await mkdtemp(join(tmpdir(), 'errand-pack-'));
        packed = await packClient(packDir);
        return serviceProject(packed.tarball);
      })(),
    ]);
    project = project_;
  }, 240_000);

  afterAll(async () => {
    await restarting.catch(() => {});
    await Promise.all([producer?.stop(), worker?.stop()]);
    await redis?.stop();
    for (const dir of [project, packDir]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('packs built ESM, .d.ts, README and CHANGELOG: no sources, no tests', async () => {
    expect(packed.name).toBe('@errand/client');
    expect(packed.version, 'the client’s version is the API’s').toBe(API_VERSION);
    expect(packed.files).toEqual([
      'CHANGELOG.md',
      'README.md',
      'dist/index.d.ts',
      'dist/index.js',
      'package.json',
    ]);
    const changelog = await readFile(join(REPO_ROOT, 'libs', 'client', 'CHANGELOG.md'), 'utf8');
    expect(changelog).toContain(`## ${packed.version}`);
  });

  it('installs with nothing of the workspace: no @errand package but itself', async () => {
    expect(await installedIn(project, '@errand')).toEqual(['client']);
    const installed = join(project, 'node_modules', '@errand', 'client');
    const manifest = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8'));
    expect(Object.keys(manifest.dependencies).sort()).toEqual(['eventsource-parser', 'zod']);
    expect(manifest.devDependencies).toBeUndefined();
    for (const file of ['index.js', 'index.d.ts']) {
      const text = await readFile(join(installed, 'dist', file), 'utf8');
      expect(text).not.toMatch(/from ['"](@errand\/|node:|bullmq)/);
    }
  });

  it('type-checks the service’s script against the installed .d.ts', async () => {
    await typeCheck(project);
  }, 60_000);

  // The compiled script on Node (out/, from the type-check above); Bun runs the TypeScript.
  const runtimes = [
    {
      run: 'node20',
      name: 'Node 20 (the machine’s)',
      command: () => systemNode(20),
      script: 'out/service.js',
    },
    {
      run: 'node24',
      name: 'Node 24 (the project’s)',
      command: () => process.execPath,
      script: 'out/service.js',
    },
    { run: 'bun', name: 'Bun', command: () => BUN, script: 'src/service.ts' },
  ];
  for (const runtime of runtimes) {
    it(`runs on ${runtime.name}: idempotent enqueue through a producer restart, events to the result, analytics, schedules`, async () => {
      const command = runtime.command();
      expect(command, `${runtime.name} is installed`).toBeDefined();
      await restarting;
      const output = await runService(command as string, [runtime.script], {
        cwd: project,
        env: {
          ERRAND_URL: `http://127.0.0.1:${port}`,
          ERRAND_API_KEY: KEY,
          RUN: runtime.run,
        },
        restart,
      });
      expect(output).toMatch(/^ok job=\S+ events=\d+ schedules=\d+$/m);
    }, 90_000);
  }
});
