import {
  canonicalJson,
  type JobType,
  jobs,
  type ScheduleBody,
  type ScheduleDetail,
  type ScheduleView,
} from '@errand/contract';
import type { RedisClient } from '@errand/redis';
import type { Queues } from './queues.ts';
import { makeLock } from './schedule-lock.ts';
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

/** Equal definitions: the same canonical JSON (keys sorted, undefined ones left out). */
export const sameDefinition = (a: ScheduleBody, b: ScheduleBody) =>
  canonicalJson(a) === canonicalJson(b);

/**
 * Schedules over BullMQ job schedulers. A schedule's record (definition, source, paused)
 * lives in Redis beside its scheduler, which BullMQ keeps in the queue of the schedule's job
 * type: BullMQ fires it (one job per tick, however many workers), Errand adds what BullMQ
 * lacks (source, pause, run history, overlap and catch-up policies in the worker runtime).
 * Writes change the scheduler first and the record after, so a crash in between leaves a
 * record that differs from what was asked, and the next write or reconcile fixes it.
 */
export function makeSchedules(redis: RedisClient, queues: Queues, prefix: string) {
  const store = makeScheduleStore(redis, prefix);
  const lock = makeLock(redis, store.keys.lock);

  const queueOf = (definition: ScheduleBody) => queues[definition.job.type];

  /**
   * The fire BullMQ holds for a schedule: when, its number (BullMQ counts fires for `limit`
   * on the jobs, not the scheduler), and whether it is still to run. None once a schedule
   * has ended (its limit reached or its end passed): BullMQ then keeps the scheduler, its
   * `next` pointing at the last fire.
   */
  async function pendingFire(definition: ScheduleBody, id: string) {
    const queue = queueOf(definition);
    const scheduler = await queue.getJobScheduler(id);
    if (scheduler?.next === undefined) return undefined;
    const job = await queue.getJob(`repeat:${id}:${scheduler.next}`);
    const state = job ? await job.getState() : 'unknown';
    const repeat = (job?.opts as { repeat?: { count?: number } } | undefined)?.repeat;
    const count = repeat?.count ?? scheduler.iterationCount ?? 1;
    return { next: scheduler.next, count, pending: PENDING.has(state) };
  }

  /** How many fires a schedule has had: what a replaced or resumed scheduler counts on from. */
  async function firedSoFar(record: ScheduleRecord): Promise<number> {
    const fire = await pendingFire(record.definition, record.id);
    if (!fire) return record.fired ?? 0;
    return fire.pending ? fire.count - 1 : fire.count;
  }

  /**
   * Remove a scheduler and its next fire. BullMQ's own removal drops that fire only while it
   * is delayed, not once it is due (an `every` schedule fires at once). A fire the runtime put
   * back to wait out its jitter may remain: the worker's schedule gate lets no fire of a
   * paused or deleted schedule do anything, which costs nothing here, where searching the
   * queue for such fires would cost a read of every job waiting in it.
   */
  async function drop(definition: ScheduleBody, id: string): Promise<void> {
    const queue = queueOf(definition);
    const scheduler = await queue.getJobScheduler(id);
    await queue.removeJobScheduler(id);
    if (scheduler?.next !== undefined) {
      await queue.remove(`repeat:${id}:${scheduler.next}`); // 0 when a worker already has it
    }
  }

  /**
   * Make BullMQ's scheduler match the record: absent while paused, else upserted, counting on
   * from the fires it had (so a change or a pause does not restart its `limit`).
   */
  async function sync(record: ScheduleRecord, before?: ScheduleRecord): Promise<ScheduleRecord> {
    const { definition: d } = record;
    const fired = before ? await firedSoFar(before) : (record.fired ?? 0);
    if (before && before.definition.job.type !== d.job.type)
      await drop(before.definition, record.id);
    if (record.paused) {
      await drop(d, record.id);
      return { ...record, fired };
    }
    await queueOf(d).upsertJobScheduler(
      record.id,
      {
        ...(d.cron ? { pattern: d.cron, tz: d.tz ?? 'UTC' } : { every: d.every }),
        ...(d.startAt ? { startDate: d.startAt } : {}),
        ...(d.endAt ? { endDate: d.endAt } : {}),
        ...(d.limit ? { limit: d.limit } : {}),
        ...(fired > 0 ? { count: fired } : {}),
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
    return { ...record, fired };
  }

  async function view(record: ScheduleRecord): Promise<ScheduleView> {
    const { definition: d } = record;
    const [fire, [lastRun]] = await Promise.all([
      record.paused ? undefined : pendingFire(d, record.id),
      store.history(record.id, 1),
    ]);
    const ended = d.endAt ? Date.parse(d.endAt) : Number.POSITIVE_INFINITY;
    const next = fire?.pending && fire.next <= ended ? fire.next : undefined;
    const left = d.limit === undefined ? NEXT_RUNS : d.limit - (fire?.count ?? 1) + 1;
    // BullMQ's pending fire first, then those after it (counting from just before it could
    // miss a fire that a DST gap moved, which BullMQ counted from earlier).
    const count = Math.min(NEXT_RUNS, left);
    const nextRuns =
      next === undefined || count < 1 ? [] : [next, ...fireTimes(d, next + 1, count - 1)];
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

  /** Writes without the lock: for the reconcile, which holds it through all of its writes. */
  const unlocked = {
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
      await store.save(await sync(record, before));
      return { created: !before, changed: true };
    },
    async remove(id: string, source: ScheduleSource): Promise<boolean> {
      const record = await store.get(id);
      if (!record) return false;
      if (record.source !== source) throw new ScheduleSourceConflict(id, record.source);
      await drop(record.definition, id);
      await store.delete(id);
      return true;
    },
    /** Make a record's scheduler exist again (see `lacksScheduler`). */
    async repair(record: ScheduleRecord): Promise<void> {
      await store.save(await sync(record));
    },
    /** Remove schedulers named like a schedule's whose record is gone (a crash mid-write). */
    async dropOrphans(known: Set<string>): Promise<string[]> {
      const dropped: string[] = [];
      for (const queue of Object.values(queues)) {
        for (const scheduler of await queue.getJobSchedulers()) {
          const id = scheduleIdOf(scheduler.name);
          const key = scheduler.id ?? scheduler.key;
          if (id !== undefined && id === key && !known.has(id)) {
            await queue.removeJobScheduler(id);
            dropped.push(id);
          }
        }
      }
      return dropped;
    },
  };

  return {
    store,
    lock,
    unlocked,
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
     * (BullMQ is not touched). Writes take the schedules lock, so two writers (an API call and
     * a worker reconciling the file) cannot interleave their two steps.
     */
    put: (id: string, definition: ScheduleBody, source: ScheduleSource) =>
      lock(() => unlocked.put(id, definition, source)),
    /** Remove a schedule, its scheduler, its fires still to run and its history; false when there was none. */
    remove: (id: string, source: ScheduleSource) => lock(() => unlocked.remove(id, source)),
    /** Pause (no fires until resumed) or resume; the record keeps its definition and count. */
    setPaused: (id: string, paused: boolean): Promise<ScheduleRecord | undefined> =>
      lock(async () => {
        const record = await store.get(id);
        if (!record) return undefined;
        if (record.paused === paused) return record;
        const changed = await sync(
          { ...record, paused, updatedAt: new Date().toISOString() },
          record,
        );
        await store.save(changed);
        return changed;
      }),
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
     * A schedule that ended (limit reached, endAt passed) keeps its scheduler in BullMQ.
     */
    async lacksScheduler(record: ScheduleRecord): Promise<boolean> {
      const d = record.definition;
      if (record.paused) return false;
      if (d.endAt && Date.parse(d.endAt) <= Date.now()) return false;
      return !(await queueOf(d).getJobScheduler(record.id));
    },
  };
}

const PENDING = new Set(['delayed', 'waiting', 'prioritized', 'waiting-children']);

export type Schedules = ReturnType<typeof makeSchedules>;
