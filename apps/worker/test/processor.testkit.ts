import { createLogger } from '@errand/observability';
import type { JobContext } from '../src/processor.ts';

/** A context for calling a processor directly in a test: silent logger, live signal. */
export const testContext = (
  id = '1',
  attempt = 1,
  more: Partial<Pick<JobContext, 'lastAttempt' | 'producer'>> = {},
): JobContext => ({
  id,
  attempt,
  lastAttempt: more.lastAttempt ?? false,
  createdAt: 0,
  producer: more.producer ?? null,
  logger: createLogger('test', 'silent'),
  signal: new AbortController().signal,
  progress: async () => {},
});
