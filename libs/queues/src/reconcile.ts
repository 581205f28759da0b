import { randomUUID } from 'node:crypto';
import type { ScheduleEntry } from '@errand/contract';
import type { Redis } from 'ioredis';
import { ScheduleSourceConflict, type Schedules } from './schedules.ts';

export interface ReconcileReport {
  created: string[];
  updated: string[];
  removed: string[];
  repaired: string[];
  unchanged: number;
}

const LOCK_MS = 15_000;
const WAIT_MS = 60_000;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * Make the file's schedules true in Redis, idempotently: each file schedule is created or
 * updated, a file schedule no longer in the file is removed, schedules made through the API
 * are left alone, and a schedule whose BullMQ scheduler went missing gets it back. Processes
 * starting together take turns under a Redis lock; whoever comes second finds nothing to do
 * and touches nothing, so no pending fire is replaced or doubled. An id the API owns stops
 * start-up: the file cannot take it over.
 */
export async function reconcileSchedules(
  redis: Redis,
  schedules: Schedules,
  entries: ScheduleEntry[],
): Promise<ReconcileReport> {
  const lock = schedules.store.keys.reconcileLock;
  const token = randomUUID();
  const deadline = Date.now() + WAIT_MS;
  while ((await redis.set(lock, token, 'PX', LOCK_MS, 'NX')) !== 'OK') {
    if (Date.now() > deadline) {
      throw new Error(`another process has held ${lock} for over ${WAIT_MS / 1000} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 100));
  }
  try {
    return await reconcile(schedules, entries);
  } finally {
    await redis.eval(RELEASE, 1, lock, token);
  }
}

async function reconcile(schedules: Schedules, entries: ScheduleEntry[]) {
  const report: ReconcileReport = {
    created: [],
    updated: [],
    removed: [],
    repaired: [],
    unchanged: 0,
  };
  const records = new Map((await schedules.store.all()).map((record) => [record.id, record]));
  for (const { id } of entries) {
    const record = records.get(id);
    if (record && record.source !== 'file') throw new ScheduleSourceConflict(id, record.source);
  }
  for (const { id, ...definition } of entries) {
    const { created, changed } = await schedules.put(id, definition, 'file');
    if (created) report.created.push(id);
    else if (changed) report.updated.push(id);
    else report.unchanged++;
  }
  const inFile = new Set(entries.map(({ id }) => id));
  for (const record of records.values()) {
    if (record.source === 'file' && !inFile.has(record.id)) {
      await schedules.remove(record.id, 'file');
      report.removed.push(record.id);
    }
  }
  for (const record of await schedules.store.all()) {
    if (await schedules.lacksScheduler(record)) {
      await schedules.sync(record);
      report.repaired.push(record.id);
    }
  }
  return report;
}
