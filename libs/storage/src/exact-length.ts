import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StorageError } from './storage.ts';

/**
 * `body` passed through as it comes, failing unless it brings exactly `length` bytes (when
 * given): a stream that errors (a client gone mid-upload), ends short or runs long fails the
 * write, so a store never keeps part of an object. `failed` resolves with the error, for a
 * writer that must abort its own request.
 */
export function exactLength(key: string, body: Readable, length: number | undefined) {
  let seen = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (length !== undefined && seen > length) done(mismatch(key, seen, length));
      else done(null, chunk);
    },
    flush(done) {
      done(length !== undefined && seen !== length ? mismatch(key, seen, length) : null);
    },
  });
  const failed = pipeline(body, counted).then(
    () => undefined,
    (error: unknown) => error as Error,
  );
  return { stream: counted, failed };
}

const mismatch = (key: string, seen: number, length: number) =>
  new StorageError(`"${key}": ${seen} bytes came of the ${length} announced`);
