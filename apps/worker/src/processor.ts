import type { JobType, PayloadOf, ResultOf } from '@errand/contract';
import type { Logger } from '@errand/observability';
import { UnrecoverableError } from 'bullmq';

/** What a processor knows of the job it runs, besides the payload. */
export interface JobContext {
  id: string;
  /** 1 on the first try. */
  attempt: number;
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
 * - throw `ThrottleError` → the whole queue pauses for a while; the job waits, attempt not spent.
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

/** The attempt ran past its queue's timeout and was aborted; it is retried like any failure. */
export class JobTimeoutError extends Error {
  override name = 'JobTimeoutError';
}

/** The worker is shutting down past its deadline: the job goes back to the queue. */
export class ShutdownAbort extends Error {
  override name = 'ShutdownAbort';
}
