import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chooseCases, writeResults } from './case-runs.ts';

const cases = [{ id: 'R1' }, { id: 'R2' }, { id: 'R3' }];
const idOf = (c: { id: string }) => c.id;

describe('chooseCases', () => {
  it('runs every case when none is named, and the named ones in their own order', () => {
    expect(chooseCases(cases, idOf, 'scenario', [])).toEqual({ quick: false, chosen: cases });
    expect(chooseCases(cases, idOf, 'scenario', ['r3', '--quick', 'R1'])).toEqual({
      quick: true,
      chosen: [{ id: 'R1' }, { id: 'R3' }],
    });
  });

  it('refuses an unknown name, listing the real ones, with exit code 2', () => {
    const root = join(import.meta.dirname, '..');
    const run = spawnSync(process.execPath, [join(root, 'chaos', 'main.ts'), '--quick', 'R99'], {
      encoding: 'utf8',
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(
      /^unknown scenario\(s\) R99; the scenarios are R1, R2, R3, .*R9, R10, R11\n$/,
    );
  });
});

describe('writeResults', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

  it("replaces the rerun cases' entries of the day's file and keeps the others'", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'errand-case-runs-'));
    dirs.push(dir);
    type Entry = { id?: string; figure: number };
    const write = (fresh: Entry[]) =>
      writeResults({
        dir,
        quick: false,
        field: 'results',
        fresh,
        caseOf: (entry: Entry) => entry.id,
        document: (entries) => ({ results: entries }),
      });
    const file = await write([
      { id: 'R1', figure: 1 },
      { id: 'R2', figure: 2 },
    ]);
    expect(file).toBe(join(dir, `${new Date().toISOString().slice(0, 10)}.json`));
    await write([{ id: 'R2', figure: 20 }]);
    const text = await readFile(file, 'utf8');
    expect(text.endsWith('}\n')).toBe(true);
    expect(JSON.parse(text).results).toEqual([
      { id: 'R1', figure: 1 },
      { id: 'R2', figure: 20 },
    ]);
  });

  it('writes quick.json with --quick, and starts afresh over a file that does not parse', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'errand-case-runs-'));
    dirs.push(dir);
    await writeFile(join(dir, 'quick.json'), '{ cut off');
    const file = await writeResults({
      dir,
      quick: true,
      field: 'rows',
      fresh: [{ bench: 'email' }],
      caseOf: (row: { bench?: string }) => row.bench,
      document: (rows) => ({ quick: true, rows }),
    });
    expect(file).toBe(join(dir, 'quick.json'));
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({
      quick: true,
      rows: [{ bench: 'email' }],
    });
  });
});
