import { hostname } from 'node:os';
import { type JobType, jobs } from '@errand/contract';
import { errorLines, type Logger, type Metrics } from '@errand/observability';
import { queuePrefix } from '@errand/queues';
import { createRedis, type RedisLocation } from '@errand/redis';
import {
  type BackendFactory,
  createRedisBackend,
  type Job,
  MetricsTime,
  Queue,
  type RedisClient,
  type RedisQueueBackend,
  UnrecoverableError,
  Worker,
} from 'bullmq';
import type { Attempt } from './attempt.ts';
import { makeBackoffStrategy, WEBHOOK_SCHEDULE_MS } from './backoff.ts';
import type { JobOutcomes } from './job-outcomes.ts';
import type { FetchWatch, Liveness, WorkerState } from './liveness.ts';
import type { Processor, Processors } from './processor.ts';
import { ShutdownAbort } from './processor.ts';
import { promptStart } from './prompt-start.ts';
import type { QueueSettings } from './queue-settings.ts';
import { makeRunner } from './run-job.ts';
import { runtimeMetrics } from './runtime-metrics.ts';
import { makeScheduleGate } from './schedule-gate.ts';

export interface RuntimeOptions {
  types: JobType[];
  processors: Processors;
  settings: Record<JobType, QueueSettings>;
  redisLocation: RedisLocation | string;
  prefix: string;
  lockDurationMs: number;
  stalledIntervalMs: number;
  retention: {
    failedHours: number;
    failedCount: number;
    completedHours: number;
    completedCount: number;
  };
  logger: Logger;
  metrics: Metrics;
  /** Told what each Worker does, for `/readyz` and `/healthz`; none in tests that need no probes. */
  liveness?: Liveness;
  /** The waits between a webhook delivery's attempts; Standard Webhooks' (`backoff.ts`) by default. */
  webhookScheduleMs?: readonly number[];
  /** Completion webhooks of finished jobs; none in tests that need none. */
  outcomes?: JobOutcomes;
}

const HOUR_S = 3600;
const WORKER_NAME = `${hostname()}:${process.pid}`;
const UNLIMITED = 1_000_000_000;
const elapsed = (job: Job) =>
  job.finishedOn && job.processedOn ? job.finishedOn - job.processedOn : undefined;

/**
 * BullMQ's own Redis backend (the documented extension point; the Worker's own fetch methods
 * are private), with:
 * - the fetch loop's calls (the blocking wait, the fetch, the stalled check) sent through
 *   `watch`, so that a call that never gets its answer (a connection that says `ready` but is
 *   cut off) shows;
 * - a job that wakes the idle Worker started at once (`promptStart`).
 */
const fetchBackend =
  (watch: FetchWatch | undefined): BackendFactory<RedisQueueBackend> =>
  (name, opts, extra) => {
    const backend = createRedisBackend(name, opts, extra);
    if (watch) {
      const { waitForJob, moveToActive, moveStalledJobsToWait } = backend;
      backend.waitForJob = (...args) =>
        watch.track('waitForJob', () => waitForJob.apply(backend, args));
      backend.moveToActive = (...args) =>
        watch.track('moveToActive', () => moveToActive.apply(backend, args));
      backend.moveStalledJobsToWait = (...args) =>
        watch.track('moveStalledJobsToWait', () => moveStalledJobsToWait.apply(backend, args));
    }
    promptStart(backend);
    return backend;
  };

/**
 * The only module that touches BullMQ's Worker: one Worker per served queue, each with its
 * own connection, concurrency, global rate limit and stalled-job recovery. Lifecycle:
 * 1. start: Workers connect and take jobs (`ready()` resolves when all are connected);
 * 2. each job runs through `makeRunner` (timeout, throttle, hand-back);
 * 3. completed / failed are logged once here, with duration;
 * 4. `close(deadline)`: stop taking jobs, let running ones finish; at the deadline running
 *    jobs are aborted and handed back to their queue; then connections close.
 * Throughout, each Worker's fetch loop and blocking connection are shown to `liveness`.
 */
export function startWorkers(options: RuntimeOptions) {
  const metrics = runtimeMetrics(options.metrics);
  const running = new Set<Attempt>();
  const { retention } = options;
  const backoffStrategy = makeBackoffStrategy({
    webhookScheduleMs: options.webhookScheduleMs ?? WEBHOOK_SCHEDULE_MS,
  });

  const served = options.types.map((type) => {
    const settings = options.settings[type];
    const connection = createRedis(options.redisLocation, 'worker');
    const prefix = queuePrefix(options.prefix, jobs[type].queue);
    const queue = new Queue(jobs[type].queue, { connection, prefix });
    const logger = options.logger.child({ queue: type });
    // One line per distinct error while Redis is away, instead of BullMQ's printed stacks.
    queue.on('error', errorLines(logger, 'queue error'));
    let blocking: RedisClient | undefined;
    const watch = options.liveness?.watch(
      type,
      (): WorkerState => ({
        running: worker.isRunning(),
        blocking: blocking?.status,
      }),
    );
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
      ...(options.outcomes ? { outcomes: options.outcomes } : {}),
    });
    const worker = new Worker(
      jobs[type].queue,
      runner,
      {
        // Which process ran a job: kept on the job (`processedBy`), shown in the dashboard.
        name: WORKER_NAME,
        connection,
        prefix,
        concurrency: settings.concurrency,
        // BullMQ checks manual throttles (ThrottleError) only when a limiter is set, so a queue
        // that may throttle without a configured limit gets one too high to matter.
        ...(settings.rateMax !== undefined || settings.throttles
          ? { limiter: { max: settings.rateMax ?? UNLIMITED, duration: settings.rateDurationMs } }
          : {}),
        settings: { backoffStrategy },
        lockDuration: options.lockDurationMs,
        stalledInterval: options.stalledIntervalMs,
        maxStalledCount: 2,
        removeOnComplete: {
          age: retention.completedHours * HOUR_S,
          count: retention.completedCount,
        },
        removeOnFail: { age: retention.failedHours * HOUR_S, count: retention.failedCount },
        // Completed and failed jobs per minute, kept in Redis for Bull Board's throughput chart
        // (every worker of a queue must keep the same number). A day, not BullMQ's suggested two
        // weeks: Bull Board 9 draws the last 60 minutes but reads the whole list at every poll
        // of an open queue page, so 20,160 points would be read for 60; one day still answers
        // `queue.getMetrics` about last night, and longer history is Prometheus' (jobs_finished_total).
        metrics: { maxDataPoints: MetricsTime.ONE_HOUR * 24 },
      },
      fetchBackend(watch),
    );
    // The Worker's own connection for BZPOPMIN (a duplicate of `connection`): its status is the
    // first sign of an outage or a reconnect.
    worker
      .getBackend()
      .blockingClient?.then((client) => {
        blocking = client;
      })
      .catch(() => {}); // closed before it connected: nothing to watch

    // Every series of the queue exists from the start at 0, so that rate() and increase()
    // see the first failure (a series born at 1 has no increase to show).
    for (const outcome of ['completed', 'failed', 'retried', 'handed_back']) {
      metrics.finished.inc({ queue: type, outcome }, 0);
    }
    metrics.throttled.inc({ queue: type }, 0);
    const completed = metrics.finished.labels({ queue: type, outcome: 'completed' });
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
    // Reconnect errors repeat every second or two during an outage: one warn line each, counted.
    worker.on('error', errorLines(logger, 'worker error'));
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
