import { analyticsBase } from '@errand/analytics';
import { jobs, jobTypes } from '@errand/contract';
import { oldQueueBase, queuePrefix } from '@errand/queues';
import type { Redis } from 'ioredis';

/**
 * Moves a Redis from the key layout of releases before the per-queue hash tag to today's
 * (libs/queues key-layout.ts), offline and in place:
 * - every key `<prefix>:<queue>:…` of a queue (waiting, delayed, prioritized, active,
 *   completed, failed, the jobs, `:id`, `:meta`, `:events`, schedulers and `:repeat:*`,
 *   dedupe keys, the limiter, the email send ledger `:sent:*`) is renamed to
 *   `<prefix>:{<queue>}:<queue>:…`, value and expiry as they were;
 * - every idempotency record `<prefix>:idempotency:<id>` is copied into each queue's tag
 *   with its expiry, then deleted: the old record stood for every job type at once (the same
 *   key on another type was a 422), and a copy per queue keeps exactly that answer.
 * Keys one command reads or writes (rate limits, sessions, audit, schedule records,
 * analytics) keep their names. RENAME needs both names on one server: the old layout only
 * ever ran on one Redis (or a Sentinel primary), so that is where this runs.
 */

export interface MigrationOptions {
  /** Migrate jobs left `active` by a worker that stopped without finishing them. */
  stalled?: boolean;
  /** Count what would move, change nothing. */
  dryRun?: boolean;
}

export interface MigrationReport {
  /** Keys renamed per queue (the ledger's entries among them, for email). */
  queues: Record<string, number>;
  ledgerEntries: number;
  idempotencyRecords: number;
  /** Jobs that were active, now stalled jobs in the new layout (with `stalled`). */
  stalledJobs: number;
}

export class MigrationRefused extends Error {
  override name = 'MigrationRefused';
}

const SCAN_COUNT = 1_000;
const queueNames = () => [...new Set(jobTypes.map((type) => jobs[type].queue))];

async function* scan(redis: Redis, match: string) {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT);
    cursor = next;
    yield* keys;
  } while (cursor !== '0');
}

/**
 * Keys under `<prefix>:analytics:` that are analytics, not the analytics queue's: the names
 * index and every key of an event (`{<event>}`); job ids hold no braces.
 */
function belongsToQueue(prefix: string, queue: string, key: string) {
  const base = oldQueueBase(prefix, queue);
  if (base !== `${analyticsBase(prefix)}:`) return true;
  const rest = key.slice(base.length);
  return rest !== 'names' && !rest.startsWith('{');
}

/**
 * Refuse while anything else is connected (an app of either release would write keys in
 * the middle of the move): replicas and sentinels aside, this must be Redis' only client.
 */
async function refuseOthers(redis: Redis) {
  const self = String(await redis.client('ID'));
  const lines = String(await redis.client('LIST'))
    .split('\n')
    .filter(Boolean)
    .map((line) => Object.fromEntries(line.split(' ').map((field) => field.split('=', 2))))
    .filter(
      (client) =>
        client.id !== self &&
        !client.flags?.includes('S') &&
        !client.flags?.includes('M') &&
        !client.name?.startsWith('sentinel-'),
    );
  if (lines.length === 0) return;
  const who = lines.map((client) => `${client.addr}${client.name ? ` (${client.name})` : ''}`);
  throw new MigrationRefused(
    `${lines.length} other client(s) are connected to Redis: ${who.slice(0, 10).join(', ')}. ` +
      'Stop every producer, worker and dashboard first; the migration runs offline.',
  );
}

async function refuseActive(redis: Redis, prefix: string) {
  const active = await Promise.all(
    queueNames().map(async (queue) => ({
      queue,
      count: await redis.llen(`${oldQueueBase(prefix, queue)}active`),
    })),
  );
  const held = active.filter((entry) => entry.count > 0);
  if (held.length === 0) return 0;
  throw new MigrationRefused(
    `Jobs are active: ${held.map((entry) => `${entry.count} in ${entry.queue}`).join(', ')}. ` +
      'A worker stopped without finishing them. Run again with --stalled to move them as ' +
      'they are: the first worker of this release finds them stalled and runs them again ' +
      '(the email send ledger moves too, so no mail goes out twice).',
  );
}

async function moveQueue(redis: Redis, prefix: string, queue: string, dryRun: boolean) {
  const from = oldQueueBase(prefix, queue);
  const to = `${queuePrefix(prefix, queue)}:${queue}:`;
  let moved = 0;
  let ledger = 0;
  // Renamed keys leave the match; a second pass proves none was missed by the cursor.
  for (let pass = 0; ; pass += 1) {
    let found = 0;
    for await (const key of scan(redis, `${from}*`)) {
      if (!belongsToQueue(prefix, queue, key)) continue;
      found += 1;
      if (key.startsWith(`${from}sent:`)) ledger += 1;
      if (dryRun) continue;
      const target = `${to}${key.slice(from.length)}`;
      if ((await redis.renamenx(key, target)) === 0) {
        throw new MigrationRefused(
          `${target} exists already: this Redis holds both layouts. Nothing of ${key} was changed.`,
        );
      }
      moved += 1;
    }
    if (dryRun) return { moved: found, ledger };
    if (found === 0 || pass > 0) return { moved, ledger };
  }
}

async function copyIdempotency(redis: Redis, prefix: string, dryRun: boolean) {
  const from = `${prefix}:idempotency:`;
  let records = 0;
  for await (const key of scan(redis, `${from}*`)) {
    records += 1;
    if (dryRun) continue;
    const [value, ttl] = await Promise.all([redis.get(key), redis.pttl(key)]);
    if (value === null) continue;
    const id = key.slice(from.length);
    for (const queue of queueNames()) {
      const target = `${queuePrefix(prefix, queue)}:idempotency:${id}`;
      if (ttl > 0) await redis.set(target, value, 'PX', ttl, 'NX');
      else await redis.set(target, value, 'NX');
    }
    await redis.del(key);
  }
  return records;
}

export async function migrateKeyLayout(
  redis: Redis,
  prefix: string,
  options: MigrationOptions = {},
): Promise<MigrationReport> {
  await refuseOthers(redis);
  const dryRun = options.dryRun ?? false;
  const stalledJobs = options.stalled
    ? (
        await Promise.all(
          queueNames().map((queue) => redis.llen(`${oldQueueBase(prefix, queue)}active`)),
        )
      ).reduce((a, b) => a + b, 0)
    : await refuseActive(redis, prefix);
  const report: MigrationReport = {
    queues: {},
    ledgerEntries: 0,
    idempotencyRecords: 0,
    stalledJobs,
  };
  for (const queue of queueNames()) {
    const { moved, ledger } = await moveQueue(redis, prefix, queue, dryRun);
    report.queues[queue] = moved;
    report.ledgerEntries += ledger;
  }
  report.idempotencyRecords = await copyIdempotency(redis, prefix, dryRun);
  return report;
}
