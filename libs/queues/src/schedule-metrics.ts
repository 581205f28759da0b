import type { Metrics } from '@errand/observability';
import type { Schedules } from './schedules.ts';

const seconds = (iso: string) => Date.parse(iso) / 1000;
/** Runs that did their work: a skipped or missed fire is no "last run" for an alert. */
const RAN = new Set(['completed', 'failed']);

/**
 * Schedule state for Prometheus, read from Redis at scrape time by the one process that
 * exports queue state (the dashboard): when each schedule fires next and last fired, and
 * whether it is paused. An alert on `time() > errand_schedule_next_run_timestamp_seconds + grace`
 * says "schedule X missed its run". One read per scrape, shared by the three gauges.
 */
export function scheduleMetrics(metrics: Metrics, schedules: Schedules) {
  let reading: Promise<Awaited<ReturnType<Schedules['list']>>> | undefined;
  const read = () => {
    // Redis unreadable: no samples (errand_redis_up says why), never a failed scrape.
    reading ??= schedules
      .list()
      .catch(() => [])
      .finally(() => {
        setTimeout(() => {
          reading = undefined;
        }, 1_000);
      });
    return reading;
  };
  metrics.gauge({
    name: 'schedule_next_run_timestamp_seconds',
    help: 'When each schedule fires next (absent while paused or ended)',
    labelNames: ['schedule'],
    async collect() {
      this.reset();
      for (const s of await read()) {
        if (s.nextRunAt) this.set({ schedule: s.id }, seconds(s.nextRunAt));
      }
    },
  });
  metrics.gauge({
    name: 'schedule_last_run_timestamp_seconds',
    help: 'When the last run of each schedule that did its work (completed or failed) was due',
    labelNames: ['schedule'],
    async collect() {
      this.reset();
      for (const s of await read()) {
        const history = await schedules.store.history(s.id).catch(() => []);
        const ran = history.find((run) => RAN.has(run.state));
        if (ran) this.set({ schedule: s.id }, seconds(ran.firedAt));
      }
    },
  });
  metrics.gauge({
    name: 'schedule_paused',
    help: '1 while a schedule is paused',
    labelNames: ['schedule'],
    async collect() {
      this.reset();
      for (const s of await read()) this.set({ schedule: s.id }, s.paused ? 1 : 0);
    },
  });
}
