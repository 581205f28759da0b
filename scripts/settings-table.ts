/**
 * The per-job-type settings table of docs/configuration.md, made from the catalog
 * (`libs/contract/src/catalog.ts`) and the defaults the apps' own env parsers give, so the
 * page cannot name a type or a default the code does not have. `npm run docs:settings` rewrites
 * the table in place; `docs/docs.test.ts` fails while the page differs from it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { envNameOf, jobs, jobTypes } from '@errand/contract';
import { loadEnv as loadProducerEnv } from '../apps/producer/src/env.ts';
import { loadEnv as loadWorkerEnv } from '../apps/worker/src/env.ts';

export const CONFIGURATION_PAGE = join(import.meta.dirname, '..', 'docs', 'configuration.md');

const START = '<!-- settings-table:start -->';
const END = '<!-- settings-table:end -->';

/** The variables of one job type, by the field of the settings they set. */
export const settingNames = (type: (typeof jobTypes)[number]) => {
  const T = envNameOf(type);
  return {
    concurrency: `${T}_CONCURRENCY`,
    timeoutMs: `${T}_TIMEOUT_MS`,
    rateMax: `${T}_RATE_MAX`,
    rateDurationMs: `${T}_RATE_DURATION_MS`,
    maxWaiting: `${T}_MAX_WAITING`,
  };
};

const cell = (name: string, value: number | undefined) =>
  `\`${name}\` = ${value === undefined ? 'none' : `\`${value}\``}`;

/** The table as markdown, one row per job type, every variable named with its default. */
export function settingsTable(): string {
  const worker = loadWorkerEnv({}).queues;
  const producer = loadProducerEnv({}).maxWaiting;
  const rows = jobTypes.map((type) => {
    const names = settingNames(type);
    const queue = worker[type];
    return [
      `\`${type}\``,
      { admin: '`enqueue` + `admin`', enqueue: '`enqueue`', none: 'none (Errand makes them)' }[
        jobs[type].enqueueScope
      ],
      cell(names.concurrency, queue.concurrency),
      cell(names.timeoutMs, queue.timeoutMs),
      `${cell(names.rateMax, queue.rateMax)}, ${cell(names.rateDurationMs, queue.rateDurationMs)}`,
      cell(names.maxWaiting, producer[type]),
    ];
  });
  return [
    '| type | key scopes to enqueue | concurrency (worker) | timeout (worker) | rate limit (worker) | depth limit (producer) |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

/** The page with its table replaced by `table`; throws when the page lost its markers. */
export function withTable(page: string, table: string): string {
  const start = page.indexOf(START);
  const end = page.indexOf(END);
  if (start < 0 || end < start) throw new Error(`the page lacks ${START} … ${END}`);
  return `${page.slice(0, start + START.length)}\n${table}\n${page.slice(end)}`;
}

if (import.meta.main) {
  const page = readFileSync(CONFIGURATION_PAGE, 'utf8');
  writeFileSync(CONFIGURATION_PAGE, withTable(page, settingsTable()));
  console.log(`${CONFIGURATION_PAGE}: settings table written`);
}
