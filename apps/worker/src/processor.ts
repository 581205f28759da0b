import type { JobType, PayloadOf, ResultOf } from '@errand/contract';
import type { Logger } from '@errand/observability';
import { UnrecoverableError } from 'bullmq';

/** What a processor knows of the job it runs, besides the payload. */
export interface JobContext {
  id: string;
  /** 1 on the first try. */
  attempt: number;
  /**
   * Whether a failure of this attempt ends the job: its attempts are used up. (`attempt` also
   * counts starts that spent none, after a snooze or a stall, so it cannot tell.)
   */
  lastAttempt: boolean;
  /** When the job was made (epoch ms): with its id, it tells one job from a later one of that id. */
  createdAt: number;
  /** The API key that enqueued the job; null for a schedule's job. */
  producer: string | null;
  /** A child logger carrying queue, job id and attempt. */
  logger: Logger;
  /** Aborted when the attempt must stop: its timeout, or the shutdown deadline. */
  signal: AbortSignal;
  progress(value: number | object): Promise<void>;
}

/**
 * A processor is a plain function of (payload, context). Its outcome is the error taxonomy:
 * - return a result → completed;
 * - throw anything → retried with backoff while attempts remain;
 * - throw `PermanentError` → failed now, no more attempts;
 * - throw `ThrottleError` → the whole queue pauses for a while; the job waits, attempt not spent;
 * - throw `SnoozeError` → this job waits a while (a target at its limit), attempt not spent;
 * - throw `RetryAfterError` → retried like any failure, but not before the time it names.
 */
export type Processor<T extends JobType> = (
  payload: PayloadOf<T>,
  ctx: JobContext,
) => Promise<ResultOf<T>>;

/** One processor per job type of the contract: leaving one out is a compile error. */
export type Processors = { [T in JobType]: Processor<T> };

/** A failure that retrying cannot fix (bad address, undecodable image): no more attempts. */
export class PermanentError extends UnrecoverableError {
  override name = 'PermanentError';
}

/** The downstream asked us to slow down (SMTP 421/451): pause the queue for `delayMs`. */
export class ThrottleError extends Error {
  override name = 'ThrottleError';
  readonly delayMs: number;

  constructor(message: string, delayMs: number) {
    super(message);
    this.delayMs = delayMs;
  }
}

/** Not now, and not a failure: the job goes back to wait `delayMs`, its attempt not spent. */
export class SnoozeError extends Error {
  override name = 'SnoozeError';
  readonly delayMs: number;

  constructor(message: string, delayMs: number) {
    super(message);
    this.delayMs = delayMs;
  }
}

/** A failure the other side said when to retry after (Retry-After): the backoff waits that long. */
export class RetryAfterError extends Error {
  override name = 'RetryAfterError';
  readonly retryAfterMs: number | undefined;

  constructor(message: string, retryAfterMs: number | undefined) {
    super(message);
    this.retryAfterMs = retryAfterMs;
  }
}

/** The attempt ran past its queue's timeout and was aborted; it is retried like any failure. */
export class JobTimeoutError extends Error {
  override name = 'JobTimeoutError';
}

/** The worker is shutting down past its deadline: the job goes back to the queue. */
export class ShutdownAbort extends Error {
  override name = 'ShutdownAbort';
}
