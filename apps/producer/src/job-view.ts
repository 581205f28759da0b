import { type JobType, storedMetaOf } from '@errand/contract';
import { scheduleIdOf } from '@errand/queues';
import type { Job, Queue } from 'bullmq';

const iso = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : null);

/**
 * What the API shows of a job: state, attempts, progress, outcome and timestamps. Read the
 * state before the job, never after: a job read first could finish in between, and the view
 * would say "completed" with no result.
 */
export async function readJob(queue: Queue, type: JobType, id: string) {
  const state = await queue.getJobState(id);
  const job = state === 'unknown' ? undefined : await queue.getJob(id);
  return job ? jobView(type, job, state) : undefined;
}

export function jobView(type: JobType, job: Job, state: string) {
  const schedule = scheduleIdOf(job.name);
  return {
    id: job.id,
    type,
    state,
    // The job's name is the name of the API key that enqueued it, or `schedule:<id>`.
    producer: (!schedule && job.name) || null,
    schedule: schedule ?? null,
    meta: storedMetaOf(job.opts),
    // BullMQ does not count a permanent failure in attemptsMade; attemptsStarted counts every try.
    attemptsMade: Math.max(job.attemptsMade, job.attemptsStarted ?? 0),
    progress: job.progress,
    result: job.returnvalue ?? null,
    failedReason: job.failedReason ?? null,
    createdAt: iso(job.timestamp),
    processedAt: iso(job.processedOn),
    finishedAt: iso(job.finishedOn),
  };
}
