import { createHash } from 'node:crypto';
import type { ScheduleRun } from '@errand/contract';
import type { Logger } from '@errand/observability';
import { intervalAfter, makeScheduleStore, type ScheduleRecord } from '@errand/queues';
import { DelayedError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
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
  skipped: 'overlap' | 'missed';
  schedule: string;
  reason: string;
}

const LOCK_MARGIN_MS = 30_000;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

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
 * 4. `finish` records each run (last 20 kept) and counts it in `errand_schedule_runs_total`.
 */
export function makeScheduleGate(deps: {
  redis: Redis;
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

  return {
    /** Before the processor: an admission to run, a refusal, or DelayedError (jitter). */
    async admit(job: Job, id: string, token?: string): Promise<Admission | Refusal | undefined> {
      const record = await store.get(id);
      if (!record) return undefined; // a run-now or last fire of a schedule since removed
      const { definition: d } = record;
      const plannedAt = plannedAtOf(job);
      const dueAt =
        plannedAt === undefined ? undefined : plannedAt + jitterOf(String(job.id), d.jitter ?? 0);
      const now = Date.now();
      if (dueAt !== undefined && plannedAt !== undefined) {
        if (d.jitter && now < dueAt && job.attemptsMade === 0) {
          await job.moveToDelayed(dueAt, token);
          throw new DelayedError();
        }
        if (d.catchUp === 'none' && now - dueAt > intervalAfter(d, plannedAt)) {
          const reason = `due ${new Date(dueAt).toISOString()}, over one interval late (workers down?)`;
          await note(id, run(job, plannedAt, 'missed', null, reason));
          return { skipped: 'missed', schedule: id, reason };
        }
      }
      let holdsLock = false;
      if (d.overlap === 'skip') {
        const key = store.keys.running(id);
        const ttl = deps.timeoutMs + LOCK_MARGIN_MS;
        const taken = await deps.redis.set(key, String(job.id), 'PX', ttl, 'NX');
        const holder = taken === 'OK' ? String(job.id) : await deps.redis.get(key);
        if (holder !== String(job.id)) {
          const reason = `the previous run (job ${holder}) is still active`;
          await note(id, run(job, plannedAt ?? job.timestamp, 'skipped', null, reason));
          return { skipped: 'overlap', schedule: id, reason };
        }
        if (taken !== 'OK') await deps.redis.pexpire(key, ttl); // ours, from an earlier attempt
        holdsLock = true;
      }
      return { id, record, firedAt: plannedAt ?? job.timestamp, startedAt: now, holdsLock };
    },

    /**
     * After the processor: record the run when it is final. A failure that will be retried
     * keeps the overlap lock (the run is not over) until the retry ends it or it expires.
     */
    async finish(
      job: Job,
      admission: Admission,
      outcome: 'completed' | 'failed' | 'retrying',
      error?: unknown,
    ) {
      if (outcome !== 'retrying') {
        const reason = error instanceof Error ? error.message.slice(0, 500) : null;
        await note(
          admission.id,
          run(job, admission.firedAt, outcome, Date.now() - admission.startedAt, reason),
        ).catch((err) =>
          deps.logger.warn({ err, schedule: admission.id }, 'schedule run not recorded'),
        );
      }
      if (admission.holdsLock && outcome !== 'retrying') {
        await deps.redis.eval(RELEASE, 1, store.keys.running(admission.id), String(job.id));
      }
    },
  };
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
