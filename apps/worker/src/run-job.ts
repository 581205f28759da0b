import { type JobType, jobs } from '@errand/contract';
import type { Logger } from '@errand/observability';
import { type Job, type Queue, WaitingError, Worker } from 'bullmq';
import {
  type JobContext,
  JobTimeoutError,
  PermanentError,
  type Processor,
  ShutdownAbort,
  ThrottleError,
} from './processor.ts';
import type { QueueSettings } from './queue-settings.ts';
import type { RuntimeMetrics } from './runtime-metrics.ts';

export interface RunnerDeps {
  type: JobType;
  processor: Processor<JobType>;
  settings: QueueSettings;
  queue: Queue;
  logger: Logger;
  metrics: RuntimeMetrics;
  /** Abort controllers of the attempts running now, so shutdown can reach them. */
  running: Set<AbortController>;
}

const rejectOnAbort = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });

/**
 * The function BullMQ calls for each job of one queue:
 * 1. parse the payload against the contract again (a bad payload fails permanently);
 * 2. run the processor with a context, racing it against the abort signal, so a timeout
 *    or the shutdown deadline ends the attempt even when the processor ignores the signal;
 * 3. turn the processor's signals into BullMQ's: a throttle pauses the queue and puts the
 *    job back unspent; a shutdown puts the job back in the queue (neither lost nor failed).
 */
export function makeRunner(deps: RunnerDeps) {
  const { type, settings, metrics } = deps;
  return async (job: Job, token?: string): Promise<unknown> => {
    const attempt = Math.max(job.attemptsStarted ?? 0, job.attemptsMade + 1);
    const logger = deps.logger.child({ queue: type, jobId: job.id, attempt });
    const parsed = jobs[type].schema.safeParse(job.data);
    if (!parsed.success) {
      throw new PermanentError(`payload breaks the ${type} contract: ${parsed.error.message}`);
    }
    if (attempt === 1) {
      metrics.wait.observe({ queue: type }, (Date.now() - job.timestamp - (job.delay ?? 0)) / 1000);
    }
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new JobTimeoutError(`attempt ran over ${settings.timeoutMs} ms`)),
      settings.timeoutMs,
    );
    const ctx: JobContext = {
      id: String(job.id),
      attempt,
      logger,
      signal: controller.signal,
      progress: (value) => job.updateProgress(value),
    };
    deps.running.add(controller);
    metrics.active.inc({ queue: type });
    const stopTimer = metrics.duration.startTimer({ queue: type });
    logger.info('job started');
    try {
      return await Promise.race([
        deps.processor(parsed.data as never, ctx),
        rejectOnAbort(controller.signal),
      ]);
    } catch (error) {
      if (error instanceof ShutdownAbort) {
        await job.moveToWait(token);
        metrics.finished.inc({ queue: type, outcome: 'handed_back' });
        logger.warn('shutdown deadline reached: job handed back to the queue');
        throw new WaitingError();
      }
      if (error instanceof ThrottleError) {
        await deps.queue.rateLimit(error.delayMs);
        metrics.throttled.inc({ queue: type });
        logger.warn(
          { delayMs: error.delayMs, reason: error.message },
          'queue throttled; job will run again',
        );
        throw Worker.RateLimitError();
      }
      throw error;
    } finally {
      clearTimeout(timer);
      stopTimer();
      metrics.active.dec({ queue: type });
      deps.running.delete(controller);
    }
  };
}
