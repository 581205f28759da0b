import type {
  AnalyticsReport,
  EnqueuedJob,
  EnqueueOptions,
  EventList,
  Granularity,
  JobType,
  JobView,
  PayloadInput,
  QueueStatus,
} from '@errand/contract';
import { deadLetterCalls } from './dead-letter.ts';
import { ErrandApiError } from './errors.ts';
import { isoOf, queryString } from './query.ts';
import { backoffMs, defaultRetryPolicy, type RetryPolicy, sleep } from './retry.ts';
import { scheduleCalls } from './schedules.ts';
import { type Call, makeSend } from './send.ts';
import { FINAL_EVENTS, type JobEvent, readEvents } from './sse.ts';
import { storageCalls } from './storage.ts';
import { webhookCalls } from './webhooks.ts';

export interface ClientOptions {
  /** Where the producer listens, e.g. `http://127.0.0.1:3000`. */
  baseUrl: string;
  /**
   * An API key with the scopes the calls need (enqueue, read, admin). Sent to `baseUrl` only,
   * never to an object store's presigned URL.
   */
  apiKey?: string;
  /** Retries on network errors, 429 and 503; default 5. */
  retries?: number;
  /** Backoff tuning; `retries` wins over `retry.retries`. */
  retry?: Partial<RetryPolicy>;
  fetch?: typeof fetch;
}

/** Per call: an Idempotency-Key of your own (one is generated otherwise), and cancellation. */
export interface CallOptions {
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export type BatchItem<T extends JobType> = { data: PayloadInput<T> } & EnqueueOptions;

/** What `analytics()` asks for; every field optional (the last 24 h by the hour). */
export interface AnalyticsQueryOptions extends CallOptions {
  from?: Date | string;
  to?: Date | string;
  granularity?: Granularity;
  /** String properties whose most frequent values to list. */
  top?: string[];
  /** Values per `top` property (default 10). */
  limit?: number;
}

/**
 * A typed client of the Errand enqueue API. Payloads and results are typed by the job
 * contract. Every enqueue carries one Idempotency-Key for all its tries, so retrying after a
 * network error, a 429 or a 503 never makes a second job.
 */
export function createClient(options: ClientOptions) {
  const policy: RetryPolicy = {
    ...defaultRetryPolicy,
    ...options.retry,
    ...(options.retries === undefined ? {} : { retries: options.retries }),
  };
  const send = makeSend({
    baseUrl: options.baseUrl,
    apiKey: options.apiKey,
    policy,
    fetch: options.fetch ?? fetch,
  });
  const path = (type: string, id?: string, tail = '') =>
    `/v1/jobs/${encodeURIComponent(type)}${id === undefined ? '' : `/${encodeURIComponent(id)}`}${tail}`;
  const json = async <R>(call: Call): Promise<R> => (await (await send(call)).json()) as R;

  return {
    /** Enqueue one job; `replayed` is true when an earlier try with the same key made it. */
    async enqueue<T extends JobType>(
      type: T,
      data: PayloadInput<T>,
      opts: EnqueueOptions & CallOptions = {},
    ): Promise<EnqueuedJob<T> & { replayed: boolean }> {
      const { idempotencyKey = crypto.randomUUID(), signal, ...schedule } = opts;
      const response = await send({
        method: 'POST',
        path: path(type),
        body: { data, ...schedule },
        headers: { 'idempotency-key': idempotencyKey },
        repeatable: true,
        signal,
      });
      const job = (await response.json()) as EnqueuedJob<T>;
      return { ...job, replayed: response.status === 200 };
    },

    /** Enqueue 1 to 1,000 jobs of one type, all or none. */
    async enqueueBatch<T extends JobType>(
      type: T,
      jobs: BatchItem<T>[],
      opts: CallOptions = {},
    ): Promise<EnqueuedJob<T>[]> {
      const answer = await json<{ jobs: EnqueuedJob<T>[] }>({
        method: 'POST',
        path: path(type, undefined, '/batch'),
        body: { jobs },
        headers: { 'idempotency-key': opts.idempotencyKey ?? crypto.randomUUID() },
        repeatable: true,
        signal: opts.signal,
      });
      return answer.jobs;
    },

    /** A job's state, attempts, progress, result (typed by its job type) or failure. */
    get<T extends JobType>(type: T, id: string, opts: CallOptions = {}): Promise<JobView<T>> {
      return json({ method: 'GET', path: path(type, id), repeatable: true, signal: opts.signal });
    },

    /**
     * The job's events as they happen: `state` first, `progress`, then a final one. When the
     * connection drops before the final event, it reconnects with `Last-Event-ID` (backing
     * off as for any call; it gives up after `retries` reconnects in a row without a new
     * event) and goes on where it was: every event once. A job removed meanwhile (the
     * reconnect finds no job) ends with `removed`, as the stream would have.
     */
    async *events<T extends JobType>(
      type: T,
      id: string,
      opts: Omit<CallOptions, 'idempotencyKey'> & { lastEventId?: string } = {},
    ): AsyncGenerator<JobEvent<T>> {
      let lastId = opts.lastEventId;
      let failures = 0; // connections in a row that failed or dropped before a new event
      for (;;) {
        const resumed = lastId;
        let error: unknown;
        try {
          const response = await send({
            method: 'GET',
            path: path(type, id, '/events'),
            headers: {
              accept: 'text/event-stream',
              ...(resumed === undefined ? {} : { 'last-event-id': resumed }),
            },
            // A network error is retried below, counted with the drops: one budget for both.
            repeatable: false,
            signal: opts.signal,
          });
          for await (const e of readEvents(response.body ?? new ReadableStream())) {
            // A resumed stream starts with `state` again, with the id resumed from when nothing
            // was lost in between: the consumer has seen all of it.
            if (e.event === 'state' && resumed !== undefined && e.id === resumed) continue;
            lastId = e.id ?? lastId;
            failures = 0;
            yield { event: e.event, data: JSON.parse(e.data), id: e.id } as JobEvent<T>;
            if (FINAL_EVENTS.has(e.event)) return;
          }
        } catch (caught) {
          const gone = caught instanceof ErrandApiError && caught.code === 'job-not-found';
          if (gone && resumed !== undefined) {
            yield { event: 'removed', data: { id, type, state: 'removed' } } as JobEvent<T>;
            return;
          }
          if (opts.signal?.aborted || caught instanceof ErrandApiError) throw caught;
          error = caught;
        }
        if (failures >= policy.retries) {
          throw new Error(`The event stream of ${type} job ${id} ended before the job did`, {
            cause: error,
          });
        }
        await sleep(backoffMs(policy, failures++), opts.signal);
      }
    },

    /** Cancel a job that has not started (waiting, delayed or prioritized); a running or finished one is a 409 `conflict`. */
    async cancel(type: JobType, id: string, opts: CallOptions = {}): Promise<void> {
      await send({ method: 'DELETE', path: path(type, id), repeatable: true, signal: opts.signal });
    },

    /** Run a failed job again; any other state is a 409 `conflict`. */
    retry<T extends JobType>(type: T, id: string, opts: CallOptions = {}): Promise<EnqueuedJob<T>> {
      // Not repeated after a network error: the first try may have retried the job already.
      return json({
        method: 'POST',
        path: path(type, id, '/retry'),
        repeatable: false,
        signal: opts.signal,
      });
    },

    /** Every queue: counts by state, paused, age of the oldest waiting job. */
    async queues(opts: CallOptions = {}): Promise<QueueStatus[]> {
      const answer = await json<{ queues: QueueStatus[] }>({
        method: 'GET',
        path: '/v1/queues',
        repeatable: true,
        signal: opts.signal,
      });
      return answer.queues;
    },

    /** Counts, unique users (approximate) and top property values of one event over a range. */
    analytics(event: string, opts: AnalyticsQueryOptions = {}): Promise<AnalyticsReport> {
      const query = queryString({
        from: isoOf(opts.from),
        to: isoOf(opts.to),
        granularity: opts.granularity,
        top: opts.top?.join(','),
        limit: opts.limit === undefined ? undefined : String(opts.limit),
      });
      return json({
        method: 'GET',
        path: `/v1/analytics/${encodeURIComponent(event)}${query}`,
        repeatable: true,
        signal: opts.signal,
      });
    },

    /** The analytics event names seen, most recently arrived first. */
    analyticsEvents(opts: CallOptions & { limit?: number } = {}): Promise<EventList> {
      const query = queryString({
        limit: opts.limit === undefined ? undefined : String(opts.limit),
      });
      return json({
        method: 'GET',
        path: `/v1/analytics${query}`,
        repeatable: true,
        signal: opts.signal,
      });
    },

    /** Schedules: list, get, put, delete, pause, resume, run. */
    schedules: scheduleCalls(json),

    /** Webhooks: putWebhook, getWebhook, listWebhooks, deleteWebhook, rotateWebhookSecret, webhookDeliveries, replayWebhook; and rotateSigningSecret. */
    ...webhookCalls(send),
    /** The dead letter: `listJobs`, `retryJobs`, `discardJobs`. */
    ...deadLetterCalls(json),
    /** Images in and out: `upload`, `createUpload`, `sendUpload`, `download`, `fetchObject`. */
    ...storageCalls(send),
  };
}

export type ErrandClient = ReturnType<typeof createClient>;
