import { type JobType, jobs } from '@errand/contract';
import type { Logger, Metrics } from '@errand/observability';
import { createRedis } from '@errand/redis';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Counter, Histogram } from 'prom-client';
import type { JobContext, Processors } from './processor.ts';

export interface RuntimeOptions {
  types: JobType[];
  processors: Processors;
  redisUrl: string;
  prefix: string;
  concurrency: Record<JobType, number>;
  logger: Logger;
  metrics: Metrics;
}

interface RuntimeMetrics {
  finished: Counter<'queue' | 'outcome'>;
  duration: Histogram<'queue'>;
  wait: Histogram<'queue'>;
}

function runtimeMetrics(metrics: Metrics): RuntimeMetrics {
  const buckets = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
  return {
    finished: metrics.counter({
      name: 'jobs_finished_total',
      help: 'Job attempts that ended, by queue and outcome (completed, failed, retried)',
      labelNames: ['queue', 'outcome'],
    }),
    duration: metrics.histogram({
      name: 'job_duration_seconds',
      help: 'Processing time of a job attempt',
      labelNames: ['queue'],
      buckets,
    }),
    wait: metrics.histogram({
      name: 'job_wait_seconds',
      help: 'Time from enqueue (or end of delay) to the start of the first attempt',
      labelNames: ['queue'],
      buckets,
    }),
  };
}

/**
 * The only module that touches BullMQ's Worker. For each served queue:
 * 1. take a job and parse its payload against the contract again (a bad payload is permanent);
 * 2. run the processor with a context (child logger, abort signal, progress);
 * 3. log started / completed / failed once, with duration, and count it in metrics.
 */
export function startWorkers(options: RuntimeOptions) {
  const metrics = runtimeMetrics(options.metrics);
  const aborts = new Map<string, AbortController>();

  const workers = options.types.map((type) => {
    const run = async (job: Job) => {
      const attempt = Math.max(job.attemptsStarted ?? 0, job.attemptsMade + 1);
      const logger = options.logger.child({ queue: type, jobId: job.id, attempt });
      const parsed = jobs[type].schema.safeParse(job.data);
      if (!parsed.success) {
        throw new UnrecoverableError(
          `payload does not match the ${type} contract: ${parsed.error.message}`,
        );
      }
      const controller = new AbortController();
      aborts.set(`${type}:${job.id}`, controller);
      const ctx: JobContext = {
        id: String(job.id),
        attempt,
        logger,
        signal: controller.signal,
        progress: (value) => job.updateProgress(value),
      };
      if (attempt === 1) {
        metrics.wait.observe(
          { queue: type },
          (Date.now() - job.timestamp - (job.delay ?? 0)) / 1000,
        );
      }
      logger.info('job started');
      const stop = metrics.duration.startTimer({ queue: type });
      try {
        // The processor map is typed per job type; TypeScript cannot follow `type` through it.
        const processor = options.processors[type] as (
          p: unknown,
          c: JobContext,
        ) => Promise<unknown>;
        return await processor(parsed.data, ctx);
      } finally {
        stop();
        aborts.delete(`${type}:${job.id}`);
      }
    };

    const connection = createRedis(options.redisUrl, 'worker');
    const worker = new Worker(jobs[type].queue, run, {
      connection,
      prefix: options.prefix,
      concurrency: options.concurrency[type],
      autorun: true,
    });

    worker.on('completed', (job) => {
      metrics.finished.inc({ queue: type, outcome: 'completed' });
      options.logger.info(
        { queue: type, jobId: job.id, attempt: job.attemptsMade, durationMs: elapsed(job) },
        'job completed',
      );
    });
    worker.on('failed', (job, error) => {
      const willRetry =
        job !== undefined &&
        job.attemptsMade < (job.opts.attempts ?? 1) &&
        !(error instanceof UnrecoverableError);
      metrics.finished.inc({ queue: type, outcome: willRetry ? 'retried' : 'failed' });
      options.logger.warn(
        {
          queue: type,
          jobId: job?.id,
          attempt: job?.attemptsMade,
          durationMs: job && elapsed(job),
          err: error,
          willRetry,
        },
        willRetry ? 'job failed, will retry' : 'job failed',
      );
    });
    worker.on('error', (error) =>
      options.logger.error({ queue: type, err: error }, 'worker error'),
    );
    return { worker, connection };
  });

  let closing: Promise<void> | undefined;
  return {
    workers: workers.map(({ worker }) => worker),
    /** Wait until every worker is connected and taking jobs. */
    ready: () => Promise.all(workers.map(({ worker }) => worker.waitUntilReady())),
    /** Stop taking jobs and let running ones finish; safe to call twice. */
    close(): Promise<void> {
      closing ??= Promise.all(
        workers.map(async ({ worker, connection }) => {
          await worker.close();
          // The connection was handed to BullMQ, which leaves a given connection open.
          connection.disconnect();
        }),
      ).then(() => undefined);
      return closing;
    },
  };
}

const elapsed = (job: Job) =>
  job.finishedOn && job.processedOn ? job.finishedOn - job.processedOn : undefined;
