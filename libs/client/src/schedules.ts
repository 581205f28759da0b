import type { JobType, ScheduleDetail, ScheduleInput, ScheduleView } from '@errand/contract';

/** One API call as the client sends it (see `createClient`). */
export interface ScheduleCall {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  body?: unknown;
  repeatable: boolean;
  signal?: AbortSignal | undefined;
}

type Json = <R>(call: ScheduleCall) => Promise<R>;
type Opts = { signal?: AbortSignal };

const at = (id: string, tail = '') => `/v1/schedules/${encodeURIComponent(id)}${tail}`;

/**
 * The schedule calls of the client: `client.schedules.put('nightly', { cron, job })`. Reads
 * and writes are repeated on network errors (a PUT or DELETE repeated changes nothing more);
 * `run` is not, so a lost answer cannot fire twice.
 */
export function scheduleCalls(json: Json) {
  return {
    /** Every schedule with its next fires, last run, source and paused state. */
    async list(opts: Opts = {}): Promise<ScheduleView[]> {
      const answer = await json<{ schedules: ScheduleView[] }>({
        method: 'GET',
        path: '/v1/schedules',
        repeatable: true,
        signal: opts.signal,
      });
      return answer.schedules;
    },
    /** One schedule with its last 20 runs. */
    get(id: string, opts: Opts = {}): Promise<ScheduleDetail> {
      return json({ method: 'GET', path: at(id), repeatable: true, signal: opts.signal });
    },
    /** Create or replace (`admin`); the same definition again changes nothing. */
    put(id: string, schedule: ScheduleInput, opts: Opts = {}): Promise<ScheduleDetail> {
      return json({
        method: 'PUT',
        path: at(id),
        body: schedule,
        repeatable: true,
        signal: opts.signal,
      });
    },
    async delete(id: string, opts: Opts = {}): Promise<void> {
      await json({ method: 'DELETE', path: at(id), repeatable: true, signal: opts.signal });
    },
    pause(id: string, opts: Opts = {}): Promise<ScheduleDetail> {
      return json({
        method: 'POST',
        path: at(id, '/pause'),
        repeatable: true,
        signal: opts.signal,
      });
    },
    resume(id: string, opts: Opts = {}): Promise<ScheduleDetail> {
      return json({
        method: 'POST',
        path: at(id, '/resume'),
        repeatable: true,
        signal: opts.signal,
      });
    },
    /** Fire once now; the answer names the job it added. */
    run(id: string, opts: Opts = {}): Promise<{ schedule: string; type: JobType; jobId: string }> {
      return json({ method: 'POST', path: at(id, '/run'), repeatable: false, signal: opts.signal });
    },
  };
}
