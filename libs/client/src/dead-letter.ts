import type {
  JobList,
  JobsDiscarded,
  JobsRetried,
  JobType,
  ListedJobState,
} from '@errand/contract';
import { isoOf, numberOf, queryString } from './query.ts';
import type { ScheduleCall } from './schedules.ts';

type Json = <R>(call: ScheduleCall) => Promise<R>;

/** Which jobs a bulk action takes: failed ones (by time, by reason), at most `limit` a call. */
export interface JobFilter {
  since?: Date | string;
  until?: Date | string;
  /** Only jobs whose failedReason starts with it. */
  reasonPrefix?: string;
  /** 1 to 1,000; the API's default is 100. */
  limit?: number;
  /** The `cursor` of the previous answer. */
  cursor?: string;
  signal?: AbortSignal;
}

export interface JobListOptions extends Omit<JobFilter, 'reasonPrefix'> {
  /** Default `failed`; `dead` is the same. */
  state?: ListedJobState | 'dead';
}

const jobsOf = (type: JobType, tail = '') => `/v1/jobs/${encodeURIComponent(type)}${tail}`;

/**
 * The dead-letter calls of the client. All are repeated on network errors: a listing reads,
 * and a bulk retry or discard done once finds nothing to do again (a retried job has left
 * the failed set; a removed job is gone).
 */
export function deadLetterCalls(json: Json) {
  return {
    /** A page of a type's jobs in one state, newest first; go on with the answer's `cursor`. */
    listJobs<T extends JobType>(type: T, opts: JobListOptions = {}): Promise<JobList<T>> {
      const query = queryString({
        state: opts.state,
        since: isoOf(opts.since),
        until: isoOf(opts.until),
        limit: numberOf(opts.limit),
        cursor: opts.cursor,
      });
      return json({
        method: 'GET',
        path: jobsOf(type, query),
        repeatable: true,
        signal: opts.signal,
      });
    },

    /** Run failed jobs of the filter again (`admin`); `cursor` non-null: there may be more. */
    retryJobs(type: JobType, filter: JobFilter = {}): Promise<JobsRetried> {
      const { signal, since, until, ...rest } = filter;
      return json({
        method: 'POST',
        path: jobsOf(type, '/retry'),
        // Fields left undefined are left out of the JSON.
        body: { ...rest, since: isoOf(since), until: isoOf(until) },
        repeatable: true,
        signal,
      });
    },

    /** Remove failed (default) or completed jobs of the filter for good (`admin`). */
    discardJobs(
      type: JobType,
      filter: JobFilter & { state?: 'failed' | 'dead' | 'completed' } = {},
    ): Promise<JobsDiscarded> {
      const query = queryString({
        state: filter.state,
        since: isoOf(filter.since),
        until: isoOf(filter.until),
        reasonPrefix: filter.reasonPrefix,
        limit: numberOf(filter.limit),
        cursor: filter.cursor,
      });
      return json({
        method: 'DELETE',
        path: jobsOf(type, query),
        repeatable: true,
        signal: filter.signal,
      });
    },
  };
}
