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
  /** Aborted when the job must stop (shutdown deadline, timeout). */
  signal: AbortSignal;
  progress(value: number | object): Promise<void>;
}

/** A processor is a plain function of (payload, context): throw to retry, PermanentError to stop. */
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
