import { hostname } from 'node:os';
import { type JobType, jobs } from '@errand/contract';
import type { Logger, Metrics } from '@errand/observability';
import { createRedis } from '@errand/redis';
import { type Job, MetricsTime, Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Attempt } from './attempt.ts';
import type { Processor, Processors } from './processor.ts';
import { ShutdownAbort } from './processor.ts';
import type { QueueSettings } from './queue-settings.ts';
import { makeRunner } from './run-job.ts';
import { runtimeMetrics } from './runtime-metrics.ts';
import { makeScheduleGate } from './schedule-gate.ts';

export interface RuntimeOptions {
  types: JobType[];
  processors: Processors;
  settings: Record<JobType, QueueSettings>;
  redisUrl: string;
  prefix: string;
  lockDurationMs: number;
  stalledIntervalMs: number;
  retention: { failedHours: number; completedHours: number; completedCount: number };
  logger: Logger;
  metrics: Metrics;
}

const HOUR_S = 3600;
const WORKER_NAME = `${hostname()}:${process.pid}`;
const UNLIMITED = 1_000_000_000;
const elapsed = (job: Job) =>
  job.finishedOn && job.processedOn ? job.finishedOn - job.processedOn : undefined;

/**
 * The only module that touches BullMQ's Worker: one Worker per served queue, each with its
 * own connection, concurrency, global rate limit and stalled-job recovery. Lifecycle:
 * 1. start: Workers connect and take jobs (`ready()` resolves when all are connected);
 * 2. each job runs through `makeRunner` (timeout, throttle, hand-back);
 * 3. completed / failed are logged once here, with duration;
 * 4. `close(deadline)`: stop taking jobs, let running ones finish; at the deadline running
 *    jobs are aborted and handed back to their queue; then connections close.
 */
export function startWorkers(options: RuntimeOptions) {
  const metrics = runtimeMetrics(options.metrics);
  const running = new Set<Attempt>();
  const { retention } = options;

  const served = options.types.map((type) => {
    const settings = options.settings[type];
    const connection = createRedis(options.redisUrl, 'worker');
    const queue = new Queue(jobs[type].queue, { connection, prefix: options.prefix });
    const runner = makeRunner({
      type,
      gate: makeScheduleGate({
        redis: connection,
        prefix: options.prefix,
        timeoutMs: settings.timeoutMs,
        metrics,
        logger: options.logger,
      }),
      processor: options.processors[type] as Processor<JobType>,
      settings,
      queue,
      logger: options.logger,
      metrics,
      running,
    });
    const worker = new Worker(jobs[type].queue, runner, {
      // Which process ran a job: kept on the job (`processedBy`), shown in the dashboard.
      name: WORKER_NAME,
      connection,
      prefix: options.prefix,
      concurrency: settings.concurrency,
      // BullMQ checks manual throttles (ThrottleError) only when a limiter is set, so a queue
      // that may throttle without a configured limit gets one too high to matter.
      ...(settings.rateMax !== undefined || settings.throttles
        ? { limiter: { max: settings.rateMax ?? UNLIMITED, duration: settings.rateDurationMs } }
        : {}),
      lockDuration: options.lockDurationMs,
      stalledInterval: options.stalledIntervalMs,
      maxStalledCount: 2,
      removeOnComplete: { age: retention.completedHours * HOUR_S, count: retention.completedCount },
      removeOnFail: { age: retention.failedHours * HOUR_S },
      // Completed and failed jobs per minute, kept in Redis for Bull Board's throughput chart
      // (every worker of a queue must keep the same number). A day, not BullMQ's suggested two
      // weeks: Bull Board 9 draws the last 60 minutes but reads the whole list at every poll
      // of an open queue page, so 20,160 points would be read for 60; one day still answers
      // `queue.getMetrics` about last night, and longer history is Prometheus' (jobs_finished_total).
      metrics: { maxDataPoints: MetricsTime.ONE_HOUR * 24 },
    });

    // Every series of the queue exists from the start at 0, so that rate() and increase()
    // see the first failure (a series born at 1 has no increase to show).
    for (const outcome of ['completed', 'failed', 'retried', 'handed_back']) {
      metrics.finished.inc({ queue: type, outcome }, 0);
    }
    metrics.throttled.inc({ queue: type }, 0);
    const completed = metrics.finished.labels({ queue: type, outcome: 'completed' });
    const logger = options.logger.child({ queue: type });
    worker.on('completed', (job) => {
      completed.inc();
      logger.info(
        { jobId: job.id, attempt: job.attemptsMade, durationMs: elapsed(job) },
        'job completed',
      );
    });
    worker.on('failed', (job, error) => {
      const permanent = error instanceof UnrecoverableError || error.name === 'UnrecoverableError';
      const willRetry = !!job && !permanent && job.attemptsMade < (job.opts.attempts ?? 1);
      metrics.finished.inc({ queue: type, outcome: willRetry ? 'retried' : 'failed' });
      logger.warn(
        {
          jobId: job?.id,
          attempt: job?.attemptsStarted,
          durationMs: job && elapsed(job),
          err: error,
          willRetry,
        },
        willRetry ? 'job failed, will retry' : 'job failed',
      );
    });
    worker.on('stalled', (jobId) =>
      logger.warn({ jobId }, 'job stalled (its worker died?); back in the queue'),
    );
    worker.on('error', (error) => logger.error({ err: error }, 'worker error'));
    return { worker, queue, connection };
  });

  let closing: Promise<void> | undefined;
  return {
    workers: served.map(({ worker }) => worker),
    /** Resolves once every Worker is connected and taking jobs. */
    ready: () => Promise.all(served.map(({ worker }) => worker.waitUntilReady())),
    /** Stop taking jobs; hand back what still runs at `deadlineMs`. Safe to call twice. */
    close(deadlineMs: number): Promise<void> {
      closing ??= (async () => {
        const deadline = setTimeout(() => {
          for (const attempt of running) attempt.abort(new ShutdownAbort('shutdown deadline'));
        }, deadlineMs);
        await Promise.all(served.map(({ worker }) => worker.close()));
        clearTimeout(deadline);
        await Promise.all(served.map(({ queue }) => queue.close()));
        // The connections were handed to BullMQ, which leaves given connections open.
        for (const { connection } of served) connection.disconnect();
      })();
      return closing;
    },
  };
}
