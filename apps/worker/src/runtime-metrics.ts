import type { Metrics } from '@errand/observability';

const BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** What the worker runtime counts, per queue. */
export function runtimeMetrics(metrics: Metrics) {
  const running = new Map<string, () => number>();
  return {
    finished: metrics.counter({
      name: 'jobs_finished_total',
      help: 'Job attempts that ended, by queue and outcome (completed, failed, retried, handed_back)',
      labelNames: ['queue', 'outcome'],
    }),
    duration: metrics.histogram({
      name: 'job_duration_seconds',
      help: 'Processing time of a job attempt',
      labelNames: ['queue'],
      buckets: BUCKETS,
    }),
    wait: metrics.histogram({
      name: 'job_wait_seconds',
      help: 'Time from enqueue (or end of delay) to the start of the first attempt',
      labelNames: ['queue'],
      buckets: BUCKETS,
    }),
    active: metrics.gauge({
      name: 'jobs_active',
      help: 'Jobs running in this process',
      labelNames: ['queue'],
      // Read when scraped, not counted up and down for every job.
      collect() {
        for (const [queue, count] of running) this.set({ queue }, count());
      },
    }),
    /** `jobs_active{queue}` is `count()` at each scrape. */
    countActive(queue: string, count: () => number) {
      running.set(queue, count);
    },
    throttled: metrics.counter({
      name: 'rate_limit_hits_total',
      help: 'Times a queue was throttled because a downstream asked to slow down',
      labelNames: ['queue'],
    }),
    scheduleRuns: metrics.counter({
      name: 'schedule_runs_total',
      help: 'Fires of a schedule that ended, by outcome (completed, failed, skipped, missed)',
      labelNames: ['schedule', 'outcome'],
    }),
  };
}

export type RuntimeMetrics = ReturnType<typeof runtimeMetrics>;
