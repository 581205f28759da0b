import type { ScheduleEntry } from '@errand/contract';
import { ScheduleSourceConflict, type Schedules } from './schedules.ts';

export interface ReconcileReport {
  created: string[];
  updated: string[];
  removed: string[];
  repaired: string[];
  /** Schedulers whose schedule's record is gone (a crash between the two writes). */
  orphans: string[];
  unchanged: number;
}

/**
 * Make the file's schedules true in Redis, idempotently: each file schedule is created or
 * updated, a file schedule no longer in the file is removed, schedules made through the API
 * are left alone, a schedule whose BullMQ scheduler went missing gets it back, and a
 * scheduler whose record went missing goes. Processes starting together take turns under
 * the schedules lock (the API's writes take it too); whoever comes second finds nothing to do
 * and touches nothing. An id the API owns stops start-up: the file cannot take it over.
 */
export function reconcileSchedules(
  schedules: Schedules,
  entries: ScheduleEntry[],
): Promise<ReconcileReport> {
  return schedules.lock(() => reconcile(schedules, entries));
}

async function reconcile(schedules: Schedules, entries: ScheduleEntry[]) {
  const { store, unlocked } = schedules;
  const report: ReconcileReport = {
    created: [],
    updated: [],
    removed: [],
    repaired: [],
    orphans: [],
    unchanged: 0,
  };
  const records = new Map((await store.all()).map((record) => [record.id, record]));
  for (const { id } of entries) {
    const record = records.get(id);
    if (record && record.source !== 'file') throw new ScheduleSourceConflict(id, record.source);
  }
  for (const { id, ...definition } of entries) {
    const { created, changed } = await unlocked.put(id, definition, 'file');
    if (created) report.created.push(id);
    else if (changed) report.updated.push(id);
    else report.unchanged++;
  }
  const inFile = new Set(entries.map(({ id }) => id));
  for (const record of records.values()) {
    if (record.source === 'file' && !inFile.has(record.id)) {
      await unlocked.remove(record.id, 'file');
      report.removed.push(record.id);
    }
  }
  const now = await store.all();
  for (const record of now) {
    if (await schedules.lacksScheduler(record)) {
      await unlocked.repair(record);
      report.repaired.push(record.id);
    }
  }
  report.orphans = await unlocked.dropOrphans(new Set(now.map((record) => record.id)));
  return report;
}
