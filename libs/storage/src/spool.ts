import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StorageError } from './storage.ts';

/**
 * A pass-through that fails unless exactly `length` bytes go through it (when given): a body
 * that ends short or runs long fails its write, as one that errors (a client gone mid-upload)
 * does, so no store keeps part of an object.
 */
export function exactLength(key: string, length: number | undefined): Transform {
  let seen = 0;
  const mismatch = () =>
    new StorageError(`"${key}": ${seen} bytes came of the ${length} announced`);
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (length !== undefined && seen > length) done(mismatch());
      else done(null, chunk);
    },
    flush(done) {
      done(length !== undefined && seen !== length ? mismatch() : null);
    },
  });
}

/**
 * `body` written whole to a temp file and checked (`exactLength`), then handed to `use` as a
 * stream of known size; the file is gone afterwards, whatever happened.
 */
export async function withSpooled<T>(
  key: string,
  body: Readable,
  length: number | undefined,
  use: (file: Readable, size: number) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'errand-spool-'));
  try {
    const path = join(dir, 'body');
    await pipeline(body, exactLength(key, length), createWriteStream(path));
    return await use(createReadStream(path), (await stat(path)).size);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
