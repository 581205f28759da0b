import { HttpProblem } from '@errand/http';
import type { Logger } from '@errand/observability';
import { StorageError } from '@errand/storage';

/** Seconds a caller waits before trying again after a 503 of the storage. */
const RETRY_AFTER_S = 5;

/**
 * Run a storage operation; a store that is down or refusing becomes a 503 that says so (its
 * detail names no bucket or credential: the logs have the whole error).
 */
export async function withStorage<T>(logger: Logger, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (!(error instanceof StorageError)) throw error;
    logger.warn({ err: error.message }, 'storage unavailable');
    throw new HttpProblem('storage-unavailable', 'The image storage did not answer; try again.', {
      headers: { 'retry-after': String(RETRY_AFTER_S) },
    });
  }
}
