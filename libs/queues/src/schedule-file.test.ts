import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadScheduleFile, parseScheduleFile, ScheduleFileError } from './schedule-file.ts';

const FILE = 'config/schedules.yaml';
const refuse = (text: string) => () => parseScheduleFile(text, FILE);

describe('the schedules file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'errand-schedules-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads the shipped file: the three built-in schedules', async () => {
    const entries = await loadScheduleFile(
      join(import.meta.dirname, '../../../config/schedules.yaml'),
      {
        required: true,
      },
    );
    expect(entries?.map((entry) => [entry.id, entry.job.type])).toEqual([
      ['daily-digest', 'digest'],
      ['nightly-image-cleanup', 'image-cleanup'],
      ['hourly-analytics-maintenance', 'analytics-maintenance'],
    ]);
    expect(entries?.[0]).toMatchObject({ cron: '0 7 * * *', tz: 'Europe/Berlin', overlap: 'skip' });
  });

  it('applies the defaults of the API schema', () => {
    const [entry] = parseScheduleFile(
      'schedules:\n  - id: a\n    every: 5000\n    job: { type: analytics-maintenance }\n',
      FILE,
    );
    expect(entry).toEqual({
      id: 'a',
      every: 5000,
      overlap: 'allow',
      catchUp: 'latest',
      job: { type: 'analytics-maintenance', data: {} },
    });
  });

  it('tells a missing file apart, and refuses it when it was asked for by name', async () => {
    const missing = join(dir, 'nothing.yaml');
    await expect(loadScheduleFile(missing, { required: false })).resolves.toBeUndefined();
    await expect(loadScheduleFile(missing, { required: true })).rejects.toThrow(
      /nothing\.yaml: cannot be read/,
    );
    await writeFile(join(dir, 'empty.yaml'), '');
    await expect(loadScheduleFile(join(dir, 'empty.yaml'), { required: true })).resolves.toEqual(
      [],
    );
    await expect(loadScheduleFile('/dev/zero', { required: true })).rejects.toThrow(
      /\/dev\/zero: cannot be read: not a regular file/,
    );
    await expect(loadScheduleFile(dir, { required: true })).rejects.toThrow(/not a regular file/);
  });

  it('names the file, the schedule and the reason of each fault', () => {
    const text = [
      'schedules:',
      '  - id: fine',
      '    every: 60000',
      '    job: { type: analytics-maintenance }',
      '  - id: digest',
      '    cron: "0 7 * *"',
      '    job: { type: digest, data: { events: [signup], to: [not-an-address] } }',
    ].join('\n');
    let message = '';
    try {
      parseScheduleFile(text, FILE);
    } catch (error) {
      expect(error).toBeInstanceOf(ScheduleFileError);
      message = (error as Error).message;
    }
    expect(message).toContain('config/schedules.yaml: invalid schedules');
    expect(message).toContain(
      'schedule "digest" cron: expected a cron expression of 5 or 6 fields',
    );
    expect(message).toContain('schedule "digest" job.data.to.0:');
    expect(message).not.toContain('"fine"');
  });

  it.each([
    ['not YAML', 'schedules: [', /not valid YAML/],
    ['a list at the top', '- id: a', /invalid schedules/],
    ['an unknown top-level key', 'schedules: []\nextra: 1', /invalid schedules/],
    [
      'an id twice',
      'schedules:\n  - { id: a, every: 5000, job: { type: analytics-maintenance } }\n  - { id: a, every: 6000, job: { type: analytics-maintenance } }',
      /schedule "a" is declared twice/,
    ],
    [
      'a duplicate key',
      'schedules:\n  - id: a\n    id: b\n    every: 5000\n    job: { type: analytics-maintenance }',
      /not valid YAML/,
    ],
    [
      'a bad id',
      'schedules:\n  - { id: "a b", every: 5000, job: { type: analytics-maintenance } }',
      /schedule "a b" id:/,
    ],
    [
      'an unknown job type',
      'schedules:\n  - { id: a, every: 5000, job: { type: sms } }',
      /schedule "a" job.type:/,
    ],
    [
      'an alias bomb',
      `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\nschedules: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d]`,
      /not valid YAML|invalid schedules/,
    ],
    [
      'a custom tag',
      'schedules: !!js/function "function () {}"',
      /not valid YAML|invalid schedules/,
    ],
    ['over a megabyte', `# ${'x'.repeat(1024 * 1024)}\nschedules: []`, /larger than/],
  ])('refuses %s', (_name, text, reason) => {
    expect(refuse(text)).toThrow(reason);
  });
});
