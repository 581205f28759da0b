/**
 * Where image inputs and outputs live. Keys are relative, slash-separated paths
 * (`images/42/0-320x240.webp`); one file per implementation in `storages/`.
 */
export interface Storage {
  /** The object's bytes, or undefined when no object has that key. */
  get(key: string): Promise<Buffer | undefined>;
  put(key: string, body: Buffer, contentType?: string): Promise<void>;
  delete(key: string): Promise<void>;
  /**
   * Delete the objects under `prefix` (a key ending in "/") last written before `cutoff`, and
   * the folders that leaves empty; how many objects went and how many stayed. Nothing under
   * the prefix is no error (0 and 0). `signal` is checked between objects, so a long sweep
   * stops when its job is aborted; what it deleted so far stays deleted.
   */
  removeOlderThan(
    prefix: string,
    cutoff: Date,
    signal?: AbortSignal,
  ): Promise<{ removed: number; kept: number }>;
}

export class InvalidKeyError extends Error {
  override name = 'InvalidKeyError';
}

const KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,511}$/;

/** Refuse keys that could leave the storage root: "..", absolute paths, odd characters. */
export function checkKey(key: string): string {
  if (
    !KEY.test(key) ||
    key.split('/').some((part) => part === '..' || part === '.' || part === '')
  ) {
    throw new InvalidKeyError(`invalid storage key "${key.slice(0, 80)}"`);
  }
  return key;
}
