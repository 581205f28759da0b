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
