import type { ProblemDocument } from '@errand/contract';

/** The API answered with an error (a problem+json document), after any retries. */
export class ErrandApiError extends Error {
  override name = 'ErrandApiError';
  readonly status: number;
  /** The problem document; its `type` ends in a stable name such as `job-not-found`. */
  readonly problem: ProblemDocument | undefined;

  constructor(status: number, problem: ProblemDocument | undefined) {
    super(problem ? `${problem.title}: ${problem.detail}` : `The Errand API answered ${status}`);
    this.status = status;
    this.problem = problem;
  }

  /** The last segment of the problem's type URI, e.g. `conflict`. */
  get code(): string | undefined {
    return this.problem?.type.split('/').pop();
  }
}

/**
 * An object store refused a presigned request (an upload's PUT, an output's GET), after any
 * retries. A presigned URL past its `expiresAt` is refused (403): ask the API for a fresh one.
 */
export class ObjectStoreError extends Error {
  override name = 'ObjectStoreError';
  readonly status: number;
  /** The store's error code, e.g. `SignatureDoesNotMatch` (S3's `<Code>`), when it gave one. */
  readonly code: string | undefined;

  constructor(status: number, body: string) {
    const code = /<Code>([^<]{1,100})<\/Code>/.exec(body)?.[1];
    super(`The object store answered ${status}${code ? ` (${code})` : ''}`);
    this.status = status;
    this.code = code;
  }
}
