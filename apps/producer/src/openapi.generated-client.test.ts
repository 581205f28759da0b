import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '@errand/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProducer } from '../test/app.testkit.ts';

const run = promisify(execFile);
const KEY = 'generated-client-key-0123456789';
const bin = (pkg: string, path: string) => join(REPO_ROOT, 'node_modules', pkg, path);

/** Run a Node script; on failure, its output in the error. */
async function node(args: string[], options: { cwd: string; env?: Record<string, string> }) {
  try {
    return (
      await run(process.execPath, args, { ...options, env: { ...process.env, ...options.env } })
    ).stdout;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`node ${args.join(' ')} failed:\n${stdout}${stderr}`);
  }
}

/**
 * The served document is generator-friendly: openapi-typescript makes TypeScript types of it
 * (as docs/clients.md tells callers without the SDK), a call written with openapi-fetch
 * type-checks against them, refuses what the API refuses, and works against the producer.
 */
describe('a TypeScript client generated from /openapi.json', () => {
  let producer: Awaited<ReturnType<typeof startProducer>>;
  let dir: string;

  beforeAll(async () => {
    producer = await startProducer('generated', {
      apiKeys: [{ name: 'svc', key: KEY, scopes: ['enqueue', 'read'] }],
    });
    dir = await mkdtemp(join(tmpdir(), 'errand-generated-'));
    await copyFile(
      join(REPO_ROOT, 'apps', 'producer', 'test', 'openapi-client', 'call.ts'),
      join(dir, 'call.ts'),
    );
    // openapi-fetch and Node's types, from the workspace.
    await symlink(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'es2022',
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          noUncheckedIndexedAccess: true,
          outDir: 'out',
          types: ['node'],
        },
        files: ['call.ts', 'schema.d.ts'],
      }),
    );
  });
  afterAll(async () => {
    await producer?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('generates types from the served document, with the queue counts’ seven states named', async () => {
    await node(
      [
        bin('openapi-typescript', 'bin/cli.js'),
        `${producer.api}/openapi.json`,
        '-o',
        'schema.d.ts',
      ],
      {
        cwd: dir,
      },
    );
    const schema = await readFile(join(dir, 'schema.d.ts'), 'utf8');
    expect(schema).toContain('"/v1/jobs/{type}": {');
    const counts = schema.slice(schema.indexOf('QueueStatus: {'));
    for (const state of ['waiting', 'prioritized', 'delayed', 'active', 'failed', 'completed']) {
      expect(counts).toMatch(new RegExp(`\\b${state}: number;`));
    }
    expect(counts).toContain('"waiting-children": number;');
  }, 60_000);

  it('type-checks a call made with openapi-fetch, and the call works', async () => {
    await node([bin('typescript', 'bin/tsc'), '-p', dir], { cwd: dir });
    const output = await node([join(dir, 'out', 'call.js')], {
      cwd: dir,
      env: { ERRAND_URL: producer.api, ERRAND_API_KEY: KEY },
    });
    const answer = JSON.parse(output) as {
      id: string;
      state: string;
      waiting: number;
      children: number;
    };
    expect(answer.state).toBe('waiting');
    expect(answer.waiting).toBe(1);
    expect(answer.children).toBe(0);
    const job = await producer.queues.analytics.getJob(answer.id);
    expect(job?.data.events[0].id).toBe('g-1');
  }, 60_000);
});
