/**
 * Where image inputs and outputs live. Keys are relative, slash-separated paths
 * (`images/42/0-320x240.webp`); one file per implementation in `storages/`.
 */
export interface Storage {
  /** The object's bytes, or undefined when no object has that key. */
  get(key: string): Promise<Buffer | undefined>;
  put(key: string, body: Buffer, contentType?: string): Promise<void>;
  delete(key: string): Promise<void>;
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
