import { type JobType, jobs } from '@errand/contract';
import type { Logger } from '@errand/observability';
import { scheduleIdOf } from '@errand/queues';
import {
  DelayedError,
  type Job,
  type Queue,
  UnrecoverableError,
  WaitingError,
  Worker,
} from 'bullmq';
import { z } from 'zod';
import { Attempt, makeDeadlines } from './attempt.ts';
import type { JobOutcomes } from './job-outcomes.ts';
import {
  JobTimeoutError,
  PermanentError,
  type Processor,
  ShutdownAbort,
  SnoozeError,
  ThrottleError,
} from './processor.ts';
import type { QueueSettings } from './queue-settings.ts';
import type { RuntimeMetrics } from './runtime-metrics.ts';
import type { Admission, ScheduleGate } from './schedule-gate.ts';

export interface RunnerDeps {
  type: JobType;
  processor: Processor<JobType>;
  settings: QueueSettings;
  queue: Queue;
  logger: Logger;
  metrics: RuntimeMetrics;
  /** The attempts running now, so shutdown can abort them. */
  running: Set<Attempt>;
  /** Schedule policies (jitter, catch-up, overlap) and run history for jobs made by schedules. */
  gate: ScheduleGate;
  /** Completion webhooks: the deliveries of a job's outcome, added before BullMQ records it. */
  outcomes?: JobOutcomes;
}

/**
 * The function BullMQ calls for each job of one queue:
 * 1. parse the payload against the contract again (a bad payload fails permanently);
 * 2. a job made by a schedule passes the schedule's policies first (`schedule-gate.ts`) and
 *    its outcome is recorded in the schedule's history;
 * 3. run the processor as an `Attempt`, aborted by its timeout or the shutdown deadline
 *    even when the processor ignores its signal;
 * 4. a job that completed, or failed for good, has its webhook deliveries added (`outcomes`)
 *    before BullMQ records the outcome;
 * 5. turn the processor's signals into BullMQ's: a throttle pauses the queue and puts the
 *    job back unspent; a snooze delays this job alone, unspent; a shutdown puts the job back
 *    in the queue (neither lost nor failed).
 * It runs for every job, thousands a second: what it does not need per job, it does once.
 */
export function makeRunner(deps: RunnerDeps) {
  const { type, settings, metrics } = deps;
  const logger = deps.logger.child({ queue: type });
  const series = {
    wait: metrics.wait.labels({ queue: type }),
    duration: metrics.duration.labels({ queue: type }),
    handedBack: metrics.finished.labels({ queue: type, outcome: 'handed_back' }),
    throttled: metrics.throttled.labels({ queue: type }),
  };
  // The contract compiled once (z.compile): a valid payload is taken by generated code; one it
  // refuses is parsed again by zod itself, whose message the permanent failure carries.
  const contract = z.compile(jobs[type].schema);
  const timedOut = () => new JobTimeoutError(`attempt ran over ${settings.timeoutMs} ms`);
  const onTheClock = makeDeadlines(settings.timeoutMs, (attempt) => attempt.abort(timedOut()));
  metrics.countActive(type, () => onTheClock.size);

  return async (job: Job, token?: string): Promise<unknown> => {
    const number = Math.max(job.attemptsStarted ?? 0, job.attemptsMade + 1);
    const attempt = new Attempt(job, number, logger);
    const parsed = contract.safeParse(job.data);
    if (!parsed.success) {
      const error = new PermanentError(
        `payload breaks the ${type} contract: ${parsed.error.message}`,
      );
      const outcome = deps.outcomes ? await failedOutcome(deps.outcomes, type, job, error) : error;
      if (outcome instanceof SnoozeError) {
        await job.moveToDelayed(Date.now() + outcome.delayMs, token);
        throw new DelayedError();
      }
      throw error;
    }
    const scheduleId = scheduleIdOf(job.name);
    let admission: Admission | undefined;
    if (scheduleId) {
      const verdict = await deps.gate.admit(job, scheduleId, token);
      if (verdict && 'skipped' in verdict) {
        logger.info({ jobId: attempt.id, ...verdict }, 'schedule fire skipped');
        return verdict;
      }
      admission = verdict;
    }
    if (number === 1) {
      // opts.delay: BullMQ zeroes job.delay once a delayed job is promoted to waiting
      series.wait.observe((Date.now() - job.timestamp - (job.opts.delay ?? 0)) / 1000);
    }
    const startedAt = performance.now();
    onTheClock.add(attempt, startedAt);
    deps.running.add(attempt);
    // Debug, not info: the line that ends an attempt gives its duration, so its start; one that
    // never ends is logged as failed (its timeout), stalled (its worker died) or handed back.
    logger.debug({ jobId: attempt.id, attempt: number }, 'job started');
    try {
      const result = await attempt.run(() => deps.processor(parsed.data, attempt));
      if (deps.outcomes) await completedOutcome(deps.outcomes, type, job, result);
      if (admission) await deps.gate.finish(job, admission, 'completed');
      return result;
    } catch (caught) {
      // A job that failed for good has its deliveries added first; if Redis refuses them, it
      // waits and runs again rather than fail without them.
      const error =
        deps.outcomes && isFinal(job, caught)
          ? await failedOutcome(deps.outcomes, type, job, caught)
          : caught;
      const final = isFinal(job, error);
      if (admission) {
        await deps.gate.finish(job, admission, final ? 'failed' : 'retrying', error);
      }
      if (error instanceof SnoozeError) {
        await job.moveToDelayed(Date.now() + error.delayMs, token);
        attempt.logger.debug({ delayMs: error.delayMs, reason: error.message }, 'job snoozed');
        throw new DelayedError();
      }
      if (error instanceof ShutdownAbort) {
        await job.moveToWait(token);
        series.handedBack.inc();
        attempt.logger.warn('shutdown deadline reached: job handed back to the queue');
        throw new WaitingError();
      }
      if (error instanceof ThrottleError) {
        await deps.queue.rateLimit(error.delayMs);
        series.throttled.inc();
        attempt.logger.warn(
          { delayMs: error.delayMs, reason: error.message },
          'queue throttled; job will run again',
        );
        throw Worker.RateLimitError();
      }
      throw error;
    } finally {
      onTheClock.delete(attempt);
      series.duration.observe((performance.now() - startedAt) / 1000);
      deps.running.delete(attempt);
    }
  };
}

/**
 * The deliveries of a completed job. If Redis refuses them, the job must not be recorded
 * completed without them, nor failed for them on its last attempt: it waits a moment and runs
 * again, its attempt not spent (at least once, as a worker killed at this point would). The
 * same holds for a job that failed for good (`failedOutcome`).
 */
async function completedOutcome(outcomes: JobOutcomes, type: JobType, job: Job, result: unknown) {
  try {
    await outcomes(type, job, { type: 'job.completed', result });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new SnoozeError(`its webhook deliveries could not be added: ${reason}`, OUTCOME_RETRY_MS);
  }
}

/**
 * The deliveries of a job that failed for good: `job.failed` for a permanent failure,
 * `job.dead` when its attempts ran out. The job's own error, or a snooze if Redis refused them.
 */
async function failedOutcome(outcomes: JobOutcomes, type: JobType, job: Job, error: unknown) {
  const permanent = error instanceof UnrecoverableError;
  const reason = error instanceof Error ? error.message : String(error);
  try {
    await outcomes(type, job, { type: permanent ? 'job.failed' : 'job.dead', reason });
    return error;
  } catch (refused) {
    const why = refused instanceof Error ? refused.message : String(refused);
    return new SnoozeError(`its webhook deliveries could not be added: ${why}`, OUTCOME_RETRY_MS);
  }
}

/** How soon a job whose deliveries Redis refused runs again. */
const OUTCOME_RETRY_MS = 2_000;

/**
 * Whether a failed attempt is the job's last: no retry follows it. By attempts made, not
 * started: a jitter delay, a hand-back or a stall starts an attempt without making one.
 */
const isFinal = (job: Job, error: unknown) =>
  !(
    error instanceof ShutdownAbort ||
    error instanceof ThrottleError ||
    error instanceof SnoozeError
  ) &&
  (error instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1));
