import { execFile } from 'node:child_process';
import { appendFile, copyFile, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jobs, jobTypes } from '@errand/contract';
import { afterAll, describe, expect, it } from 'vitest';
import { DashboardEnv } from '../apps/dashboard/src/env.ts';
import { loadEnv as loadProducerEnv, ProducerEnv } from '../apps/producer/src/env.ts';
import { loadEnv as loadWorkerEnv, WorkerEnv } from '../apps/worker/src/env.ts';
import {
  CONFIGURATION_PAGE,
  settingNames,
  settingsTable,
  withTable,
} from '../scripts/settings-table.ts';

const root = join(import.meta.dirname, '..');
const remark = join(root, 'node_modules', 'remark-cli', 'cli.js');
// An absolute path, so the plugin loads from any directory; `repository: false` keeps it
// offline (no Git remote is asked which host the repository lives on).
const validateLinks = `${join(root, 'node_modules', 'remark-validate-links', 'index.js')}=repository:false`;
const PAGES = [
  'README.md',
  'CONTRIBUTING.md',
  'docs',
  'libs/client/README.md',
  'libs/client/CHANGELOG.md',
];

/** remark-validate-links over the pages, run in `cwd`: its exit code and its report. */
async function checkLinks(cwd: string) {
  const args = ['--frail', '--quiet', '--no-stdout', '--no-color', '--use', validateLinks];
  try {
    const { stderr } = await promisify(execFile)(process.execPath, [remark, ...args, ...PAGES], {
      cwd,
    });
    return { code: 0, report: stderr };
  } catch (error) {
    const { code, stderr } = error as { code: number; stderr: string };
    return { code, report: stderr };
  }
}

describe('links', () => {
  const temps: string[] = [];
  afterAll(() => Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true }))));

  it('every relative link and anchor of README, CONTRIBUTING, docs/ and the client package’s pages resolves', async () => {
    expect(await checkLinks(root)).toEqual({ code: 0, report: '' });
  });

  it('fails on a missing heading, a missing anchor in another page and a missing file', async () => {
    // The repository as it is, but for a README with three broken links at its end.
    const copy = await mkdtemp(join(tmpdir(), 'errand-docs-'));
    temps.push(copy);
    for (const entry of await readdir(root)) {
      if (entry !== 'README.md') await symlink(join(root, entry), join(copy, entry));
    }
    await copyFile(join(root, 'README.md'), join(copy, 'README.md'));
    await appendFile(
      join(copy, 'README.md'),
      '\n[a](#no-such-heading) [b](docs/api.md#no-such-heading) [c](docs/no-such-page.md)\n',
    );

    const { code, report } = await checkLinks(copy);
    expect(code).toBe(1);
    expect(report).toContain('Cannot find heading for `#no-such-heading`');
    expect(report).toContain('Cannot find heading for `#no-such-heading` in `docs/api.md`');
    expect(report).toContain('Cannot find file `docs/no-such-page.md`');
    expect(report).toContain('3 warnings');
  });
});

describe('the per-type settings table of docs/configuration.md', () => {
  it('is the one the catalog makes (npm run docs:settings rewrites it)', async () => {
    const page = await readFile(CONFIGURATION_PAGE, 'utf8');
    expect(page).toBe(withTable(page, settingsTable()));
  });

  it('gives the catalog’s defaults: the apps’ parsers default to them', () => {
    const worker = loadWorkerEnv({}).queues;
    const producer = loadProducerEnv({}).maxWaiting;
    for (const type of jobTypes) {
      expect(worker[type]).toMatchObject({
        concurrency: jobs[type].concurrency,
        timeoutMs: jobs[type].timeoutMs,
      });
      expect(producer[type]).toBe(jobs[type].maxWaiting);
    }
  });

  it.each(jobTypes)('names the variables the apps read for %s', (type) => {
    const names = settingNames(type);
    const queue = loadWorkerEnv({
      [names.concurrency]: '7',
      [names.timeoutMs]: '1234',
      [names.rateMax]: '9',
      [names.rateDurationMs]: '4321',
    }).queues[type];
    expect(queue).toMatchObject({
      concurrency: 7,
      timeoutMs: 1234,
      rateMax: 9,
      rateDurationMs: 4321,
    });
    expect(loadProducerEnv({ [names.maxWaiting]: '17' }).maxWaiting[type]).toBe(17);
  });
});

describe('docs/configuration.md', () => {
  it('names every variable of every app’s env schema', async () => {
    const page = await readFile(CONFIGURATION_PAGE, 'utf8');
    const variables = [ProducerEnv, WorkerEnv, DashboardEnv].flatMap((schema) =>
      Object.keys(schema.shape),
    );
    expect(variables.filter((name) => !page.includes(`\`${name}\``))).toEqual([]);
  });
});
