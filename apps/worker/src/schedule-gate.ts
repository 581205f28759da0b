import { createHash } from 'node:crypto';
import type { ScheduleRun } from '@errand/contract';
import type { Logger } from '@errand/observability';
import { intervalAfter, makeScheduleStore, releaseLock, type ScheduleRecord } from '@errand/queues';
import type { RedisClient } from '@errand/redis';
import { DelayedError, type Job } from 'bullmq';
import type { RuntimeMetrics } from './runtime-metrics.ts';

/** A fire let through: what `finish` needs to record it. */
export interface Admission {
  id: string;
  record: ScheduleRecord;
  firedAt: number;
  startedAt: number;
  holdsLock: boolean;
}

/** A fire the policies stopped: recorded, and the job completes without doing its work. */
export interface Refusal {
  skipped: 'overlap' | 'missed' | 'paused' | 'ended' | 'removed';
  schedule: string;
  reason: string;
}

const LOCK_MARGIN_MS = 30_000;

/** `repeat:<schedule>:<millis>`: the time BullMQ planned a scheduler's fire for. */
const plannedAtOf = (job: Job) => {
  if (!job.repeatJobKey) return undefined;
  const millis = Number(String(job.id).slice(String(job.id).lastIndexOf(':') + 1));
  return Number.isFinite(millis) ? millis : undefined;
};

/** A fire's jitter: random across fires, but the same on every look at one fire. */
const jitterOf = (jobId: string, jitter: number) =>
  createHash('sha1').update(jobId).digest().readUInt32BE(0) % (jitter + 1);

/**
 * The schedule policies BullMQ does not have, applied by the runtime to every job a schedule
 * made (the platform decides, not the job):
 * 1. jitter: a fire is put back as delayed until its tick plus its own random share of `jitter`;
 * 2. `catchUp: none`: a fire due more than one interval ago is recorded as missed, not run;
 * 3. `overlap: skip`: a fire while the schedule's previous job runs is recorded as skipped
 *    (a lock per schedule in Redis, held until the run ends or its queue timeout passes);
 *    a fire of a paused schedule, or one past its `endAt`, is skipped too, and one of a
 *    deleted schedule does nothing;
 * 4. `finish` records each run (last 20 kept) and counts it in `errand_schedule_runs_total`.
 */
export function makeScheduleGate(deps: {
  redis: RedisClient;
  prefix: string;
  timeoutMs: number;
  metrics: RuntimeMetrics;
  logger: Logger;
}) {
  const store = makeScheduleStore(deps.redis, deps.prefix);

  async function note(id: string, run: ScheduleRun) {
    deps.metrics.scheduleRuns.inc({ schedule: id, outcome: run.state });
    await store.recordRun(id, run);
  }

  const refuse = async (
    job: Job,
    id: string,
    firedAt: number,
    skipped: Refusal['skipped'],
    reason: string,
  ): Promise<Refusal> => {
    await note(id, run(job, firedAt, skipped === 'missed' ? 'missed' : 'skipped', null, reason));
    return { skipped, schedule: id, reason };
  };

  /** Take the schedule's overlap lock for this job; the holder's id when another has it. */
  async function takeLock(id: string, jobId: string, ttl: number): Promise<string | undefined> {
    const key = store.keys.running(id);
    for (let tries = 0; tries < 3; tries++) {
      if ((await deps.redis.set(key, jobId, 'PX', ttl, 'NX')) === 'OK') return undefined;
      const holder = await deps.redis.get(key);
      if (holder === jobId) {
        await deps.redis.pexpire(key, ttl); // ours, from an earlier attempt
        return undefined;
      }
      if (holder !== null) return holder; // null: released in between, try again
    }
    return 'unknown';
  }

  return {
    /** Before the processor: an admission to run, a refusal, or DelayedError (jitter). */
    async admit(job: Job, id: string, token?: string): Promise<Admission | Refusal | undefined> {
      const record = await store.get(id);
      const plannedAt = plannedAtOf(job);
      if (!record) {
        // A fire of a schedule deleted meanwhile does nothing; a run by hand still runs.
        if (plannedAt === undefined) return undefined;
        return { skipped: 'removed', schedule: id, reason: 'the schedule was deleted' };
      }
      const { definition: d } = record;
      const now = Date.now();
      const firstTry = job.attemptsMade === 0;
      if (plannedAt !== undefined && firstTry) {
        if (record.paused) return refuse(job, id, plannedAt, 'paused', 'the schedule is paused');
        if (d.endAt && plannedAt > Date.parse(d.endAt)) {
          return refuse(job, id, plannedAt, 'ended', `after its endAt (${d.endAt})`);
        }
        const dueAt = plannedAt + jitterOf(String(job.id), d.jitter ?? 0);
        if (d.jitter && now < dueAt) {
          await job.moveToDelayed(dueAt, token);
          throw new DelayedError();
        }
        if (d.catchUp === 'none' && now - dueAt > intervalAfter(d, plannedAt)) {
          const due = new Date(dueAt).toISOString();
          return refuse(
            job,
            id,
            plannedAt,
            'missed',
            `due ${due}, over one interval late (workers down?)`,
          );
        }
      }
      const firedAt = plannedAt ?? job.timestamp;
      let holdsLock = false;
      if (d.overlap === 'skip') {
        const holder = await takeLock(id, String(job.id), deps.timeoutMs + LOCK_MARGIN_MS);
        if (holder) {
          return refuse(
            job,
            id,
            firedAt,
            'overlap',
            `the previous run (job ${holder}) is still active`,
          );
        }
        holdsLock = true;
      }
      return { id, record, firedAt, startedAt: now, holdsLock };
    },

    /**
     * After the processor: record the run when it is final. A failure that will be retried
     * keeps the overlap lock (the run is not over) through its backoff, until the retry ends
     * it or it expires. Never throws: a lost record must not fail a job that did its work.
     */
    async finish(
      job: Job,
      admission: Admission,
      outcome: 'completed' | 'failed' | 'retrying',
      error?: unknown,
    ): Promise<void> {
      const key = store.keys.running(admission.id);
      try {
        if (outcome === 'retrying') {
          if (admission.holdsLock) {
            await deps.redis.pexpire(key, deps.timeoutMs + LOCK_MARGIN_MS + backoffOf(job));
          }
          return;
        }
        const reason = error instanceof Error ? error.message.slice(0, 500) : null;
        await note(
          admission.id,
          run(job, admission.firedAt, outcome, Date.now() - admission.startedAt, reason),
        );
        if (admission.holdsLock) await releaseLock(deps.redis, key, String(job.id));
      } catch (err) {
        deps.logger.warn({ err, schedule: admission.id }, 'schedule run not recorded');
      }
    },
  };
}

/** The longest wait before a job's next attempt, by its backoff options (BullMQ's formula). */
function backoffOf(job: Job): number {
  const backoff = job.opts.backoff;
  if (typeof backoff === 'number') return backoff;
  const delay = backoff?.delay ?? 0;
  return backoff?.type === 'exponential' ? delay * 2 ** job.attemptsMade : delay;
}

export type ScheduleGate = ReturnType<typeof makeScheduleGate>;

const run = (
  job: Job,
  firedAt: number,
  state: ScheduleRun['state'],
  durationMs: number | null,
  reason: string | null,
): ScheduleRun => ({
  jobId: String(job.id),
  firedAt: new Date(firedAt).toISOString(),
  state,
  durationMs,
  reason,
});
