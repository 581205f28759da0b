import type { Metrics } from '@errand/observability';
import { withTimeout } from '@errand/redis';
import { SCRAPE_READ_TIMEOUT_MS } from './read-timeout.ts';
import type { Schedules } from './schedules.ts';

const seconds = (iso: string) => Date.parse(iso) / 1000;
/** Runs that did their work: a skipped or missed fire is no "last run" for an alert. */
const RAN = new Set(['completed', 'failed']);
/**
 * Schedule state for Prometheus, read from Redis at scrape time by the one process that
 * exports queue state (the dashboard): when each schedule fires next and last fired, and
 * whether it is paused. An alert on `time() > errand_schedule_next_run_timestamp_seconds + grace`
 * says "schedule X missed its run". One bounded read per scrape (the list, then every
 * history in parallel), shared by the three gauges.
 */
export function scheduleMetrics(metrics: Metrics, schedules: Schedules) {
  type Read = { schedules: Awaited<ReturnType<Schedules['list']>>; lastRan: Map<string, string> };
  let reading: Promise<Read> | undefined;
  const readAll = async (): Promise<Read> => {
    const list = await schedules.list();
    const histories = await Promise.all(list.map((s) => schedules.store.history(s.id)));
    const lastRan = new Map<string, string>();
    list.forEach((s, i) => {
      const ran = histories[i]?.find((run) => RAN.has(run.state));
      if (ran) lastRan.set(s.id, ran.firedAt);
    });
    return { schedules: list, lastRan };
  };
  const read = () => {
    // Redis unreadable or slow: no samples (errand_redis_up says why), never a failed or hung scrape.
    reading ??= withTimeout(readAll(), SCRAPE_READ_TIMEOUT_MS, 'schedule read')
      .catch(() => ({ schedules: [], lastRan: new Map<string, string>() }))
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
      for (const s of (await read()).schedules) {
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
      for (const [id, firedAt] of (await read()).lastRan)
        this.set({ schedule: id }, seconds(firedAt));
    },
  });
  metrics.gauge({
    name: 'schedule_paused',
    help: '1 while a schedule is paused',
    labelNames: ['schedule'],
    async collect() {
      this.reset();
      for (const s of (await read()).schedules) this.set({ schedule: s.id }, s.paused ? 1 : 0);
    },
  });
}
