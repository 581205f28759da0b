import {
  type JobType,
  jobs,
  type ScheduleBody,
  type ScheduleDetail,
  type ScheduleView,
} from '@errand/contract';
import type { Redis } from 'ioredis';
import type { Queues } from './queues.ts';
import { makeScheduleStore, type ScheduleRecord, type ScheduleSource } from './schedule-store.ts';
import { fireTimes } from './schedule-times.ts';

/** The BullMQ job name of every job a schedule makes: its schedule id travels with the job. */
export const scheduleJobName = (id: string) => `schedule:${id}`;

/** The schedule id of a job made by a schedule, from its name; undefined for other jobs. */
export const scheduleIdOf = (jobName: string | undefined) =>
  jobName?.startsWith('schedule:') ? jobName.slice('schedule:'.length) : undefined;

/** A write through the API to a schedule of the file (or the other way round). */
export class ScheduleSourceConflict extends Error {
  override name = 'ScheduleSourceConflict';
  readonly source: ScheduleSource;

  constructor(id: string, source: ScheduleSource) {
    super(
      source === 'file'
        ? `Schedule "${id}" comes from the schedules file; change or remove it there, then restart the workers.`
        : `Schedule "${id}" was made through the API; the schedules file cannot take it over (delete it through the API first, or rename it in the file).`,
    );
    this.source = source;
  }
}

const NEXT_RUNS = 5;
const iso = (ms: number) => new Date(ms).toISOString();

/** Equal definitions: the same JSON once keys are sorted. */
export const sameDefinition = (a: ScheduleBody, b: ScheduleBody) => canonical(a) === canonical(b);
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => x.localeCompare(y)))
      : v,
  );

/**
 * Schedules over BullMQ job schedulers. A schedule's record (definition, source, paused)
 * lives in Redis beside its scheduler, which BullMQ keeps in the queue of the schedule's job
 * type: BullMQ fires it (one job per tick, however many workers), Errand adds what BullMQ
 * lacks (source, pause, run history, overlap and catch-up policies in the worker runtime).
 * Writes change the scheduler first and the record after, so a crash in between leaves a
 * record that differs from what was asked, and the next write or reconcile fixes it.
 */
export function makeSchedules(redis: Redis, queues: Queues, prefix: string) {
  const store = makeScheduleStore(redis, prefix);

  const queueOf = (definition: ScheduleBody) => queues[definition.job.type];

  /**
   * Remove a scheduler and its pending fire. BullMQ's own removal drops the fire only while it
   * is delayed; one already due (an `every` schedule fires at once) would still run.
   */
  async function drop(definition: ScheduleBody, id: string): Promise<void> {
    const queue = queueOf(definition);
    const scheduler = await queue.getJobScheduler(id);
    await queue.removeJobScheduler(id);
    if (scheduler?.next !== undefined) {
      await queue.remove(`repeat:${id}:${scheduler.next}`); // 0 when a worker already has it
    }
  }

  /** Make BullMQ's scheduler match the record: absent while paused, else upserted. */
  async function sync(record: ScheduleRecord, before?: ScheduleRecord): Promise<void> {
    const { definition: d } = record;
    if (before && before.definition.job.type !== d.job.type)
      await drop(before.definition, record.id);
    if (record.paused) {
      await drop(d, record.id);
      return;
    }
    await queueOf(d).upsertJobScheduler(
      record.id,
      {
        ...(d.cron ? { pattern: d.cron, tz: d.tz ?? 'UTC' } : { every: d.every }),
        ...(d.startAt ? { startDate: d.startAt } : {}),
        ...(d.endAt ? { endDate: d.endAt } : {}),
        ...(d.limit ? { limit: d.limit } : {}),
      },
      {
        name: scheduleJobName(record.id),
        data: d.job.data,
        opts: {
          ...jobs[d.job.type].defaults,
          ...(d.job.attempts ? { attempts: d.job.attempts } : {}),
          ...(d.job.priority ? { priority: d.job.priority } : {}),
        },
      },
    );
  }

  async function view(record: ScheduleRecord): Promise<ScheduleView> {
    const { definition: d } = record;
    const [scheduler, [lastRun]] = await Promise.all([
      record.paused ? undefined : queueOf(d).getJobScheduler(record.id),
      store.history(record.id, 1),
    ]);
    const next = scheduler?.next;
    const remaining =
      d.limit === undefined
        ? NEXT_RUNS
        : Math.max(1, d.limit - (scheduler?.iterationCount ?? 0) + 1);
    const nextRuns = next === undefined ? [] : fireTimes(d, next, Math.min(NEXT_RUNS, remaining));
    return {
      id: record.id,
      ...d,
      source: record.source,
      paused: record.paused,
      nextRunAt: next === undefined ? null : iso(next),
      nextRuns: nextRuns.map(iso),
      lastRun: lastRun ?? null,
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
    };
  }

  return {
    store,
    async list(): Promise<ScheduleView[]> {
      return Promise.all((await store.all()).map(view));
    },
    async get(id: string): Promise<ScheduleDetail | undefined> {
      const record = await store.get(id);
      if (!record) return undefined;
      const [shown, history] = await Promise.all([view(record), store.history(id)]);
      return { ...shown, history };
    },
    /**
     * Create or replace a schedule. Idempotent: the same definition again changes nothing
     * (BullMQ is not touched, so replicas writing at boot cannot disturb a pending fire).
     */
    async put(
      id: string,
      definition: ScheduleBody,
      source: ScheduleSource,
    ): Promise<{ created: boolean; changed: boolean }> {
      const before = await store.get(id);
      if (before && before.source !== source) throw new ScheduleSourceConflict(id, before.source);
      if (before && sameDefinition(before.definition, definition)) {
        return { created: false, changed: false };
      }
      const now = new Date().toISOString();
      const record: ScheduleRecord = {
        id,
        definition,
        source,
        paused: before?.paused ?? false,
        createdAt: before?.createdAt ?? now,
        updatedAt: now,
      };
      await sync(record, before);
      await store.save(record);
      return { created: !before, changed: true };
    },
    /** Remove a schedule, its scheduler and its history; false when there was none. */
    async remove(id: string, source: ScheduleSource): Promise<boolean> {
      const record = await store.get(id);
      if (!record) return false;
      if (record.source !== source) throw new ScheduleSourceConflict(id, record.source);
      await drop(record.definition, id);
      await store.delete(id);
      return true;
    },
    /** Pause (no fires until resumed) or resume; the record keeps its definition. */
    async setPaused(id: string, paused: boolean): Promise<ScheduleRecord | undefined> {
      const record = await store.get(id);
      if (!record) return undefined;
      if (record.paused === paused) return record;
      const changed = { ...record, paused, updatedAt: new Date().toISOString() };
      await sync(changed);
      await store.save(changed);
      return changed;
    },
    /** Fire once now, outside the rhythm (paused or not); the job carries the schedule id. */
    async runNow(id: string): Promise<{ jobId: string; type: JobType } | undefined> {
      const record = await store.get(id);
      if (!record) return undefined;
      const { job } = record.definition;
      const added = await queueOf(record.definition).add(scheduleJobName(id), job.data, {
        ...(job.attempts ? { attempts: job.attempts } : {}),
        ...(job.priority ? { priority: job.priority } : {}),
      });
      return { jobId: String(added.id), type: job.type };
    },
    /**
     * Whether a schedule's scheduler should exist but does not (a crash between the two
     * writes, a Redis restored from an older file): the repair the reconcile does at start.
     * A schedule that ended (limit reached, endAt passed) has none by design.
     */
    async lacksScheduler(record: ScheduleRecord): Promise<boolean> {
      const d = record.definition;
      if (record.paused || d.limit !== undefined) return false;
      if (d.endAt && Date.parse(d.endAt) <= Date.now()) return false;
      return !(await queueOf(d).getJobScheduler(record.id));
    },
    sync,
  };
}

export type Schedules = ReturnType<typeof makeSchedules>;
