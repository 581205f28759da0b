import { constants, createWriteStream } from 'node:fs';
import {
  access,
  lstat,
  mkdir,
  open,
  opendir,
  realpath,
  rename,
  rm,
  rmdir,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { contentTypeOf } from '../content-types.ts';
import { exactLength } from '../spool.ts';
import {
  type ByteRange,
  checkKey,
  InvalidKeyError,
  type ObjectInfo,
  ObjectTooLargeError,
  type PutOptions,
  type Storage,
  StorageError,
} from '../storage.ts';

/** What a sweep did in one folder: entries left in it, and whether it deleted any. */
interface Swept {
  left: number;
  deleted: boolean;
}

const isCode = (error: unknown, ...codes: string[]) =>
  codes.includes((error as NodeJS.ErrnoException).code ?? '');

/** Undefined when the path is gone (another sweep, a retry's overwrite); other errors throw. */
const unlessGone = <T>(work: Promise<T>): Promise<T | undefined> =>
  work.catch((error) => {
    if (isCode(error, 'ENOENT')) return undefined;
    throw error;
  });

let temps = 0;

/**
 * Objects as files under one directory; writes go to a temp file first, then rename. A file
 * has no stored content type: its key's extension gives it. No presigned URLs: the API serves
 * and takes the files (`/v1/objects/…`, `/v1/uploads/…`).
 */
export class LocalStorage implements Storage {
  readonly root: string;
  readonly description: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.description = `folder ${this.root}`;
  }

  private path(key: string): string {
    const path = resolve(join(this.root, checkKey(key)));
    if (!path.startsWith(this.root + sep))
      throw new InvalidKeyError(`key "${key}" leaves the storage root`);
    return path;
  }

  /** The path of an existing regular file that really is under the root (no link out of it). */
  private async existing(key: string): Promise<string | undefined> {
    const path = this.path(key);
    const real = await unlessGone(realpath(path));
    if (real === undefined) return undefined;
    if (!real.startsWith((await realpath(this.root)) + sep))
      throw new InvalidKeyError(`key "${key}" leads out of the storage root`);
    return real;
  }

  async check(): Promise<void> {
    try {
      await mkdir(this.root, { recursive: true });
      await access(this.root, constants.R_OK | constants.W_OK);
    } catch (error) {
      throw new StorageError(`STORAGE_DIR: cannot use ${this.root}: ${(error as Error).message}`);
    }
  }

  async get(key: string, { maxBytes = Infinity } = {}): Promise<Buffer | undefined> {
    const path = await this.existing(key);
    if (path === undefined) return undefined;
    const file = await unlessGone(open(path));
    if (file === undefined) return undefined;
    try {
      const { size } = await file.stat();
      if (size > maxBytes)
        throw new ObjectTooLargeError(`"${key}" is ${size} bytes, more than ${maxBytes}`);
      return await file.readFile();
    } finally {
      await file.close();
    }
  }

  async put(key: string, body: Buffer | Readable, { contentLength }: PutOptions): Promise<void> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    const temp = `${path}.${process.pid}.${++temps}.tmp`;
    try {
      if (Buffer.isBuffer(body)) await writeFile(temp, body);
      else await pipeline(body, exactLength(key, contentLength), createWriteStream(temp));
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    const path = await this.existing(key);
    const stat = path === undefined ? undefined : await unlessGone(lstat(path));
    if (!stat?.isFile()) return undefined;
    return { size: stat.size, contentType: contentTypeOf(key), lastModified: stat.mtime };
  }

  async open(key: string, range?: ByteRange): Promise<Readable | undefined> {
    const path = await this.existing(key);
    const file = path === undefined ? undefined : await unlessGone(open(path));
    if (file === undefined) return undefined;
    return file.createReadStream({ ...range, autoClose: true });
  }

  async signedGet(key: string) {
    checkKey(key);
    return undefined;
  }

  async signedPut(key: string) {
    checkKey(key);
    return undefined;
  }

  close(): void {}

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  /**
   * By file modification time: a put's rename keeps the time its temp file was written, and
   * a temp file still being written is younger than any sensible cutoff, while one a crash
   * left behind ages and goes like the rest. Symbolic links are neither followed nor deleted,
   * and the prefix itself must resolve inside the root, so nothing outside it is reached.
   */
  async removeOlderThan(prefix: string, cutoff: Date, signal?: AbortSignal) {
    const counts = { removed: 0, kept: 0 };
    const top = await unlessGone(realpath(this.path(prefix.replace(/\/+$/, ''))));
    if (top === undefined) return counts;
    if (!top.startsWith((await realpath(this.root)) + sep))
      throw new InvalidKeyError(`prefix "${prefix}" leads out of the storage root`);
    await this.sweep(top, cutoff.getTime(), counts, signal);
    return counts;
  }

  /**
   * Depth first. A folder goes once it is empty if the sweep emptied it or it was already
   * old: one an image job has just made for its first output (new, empty) is left to it.
   */
  private async sweep(
    dir: string,
    cutoffMs: number,
    counts: { removed: number; kept: number },
    signal?: AbortSignal,
  ): Promise<Swept> {
    const swept: Swept = { left: 0, deleted: false };
    const entries = await unlessGone(opendir(dir));
    for await (const entry of entries ?? []) {
      signal?.throwIfAborted();
      const path = join(dir, entry.name);
      const stat = entry.isFile() || entry.isDirectory() ? await unlessGone(lstat(path)) : null;
      if (stat === undefined) continue; // gone meanwhile
      const old = stat !== null && stat.mtimeMs < cutoffMs;
      if (entry.isDirectory()) {
        const inner = await this.sweep(path, cutoffMs, counts, signal);
        if (inner.left === 0 && (inner.deleted || old) && (await removeEmptyDir(path))) {
          swept.deleted = true;
        } else swept.left++;
      } else if (entry.isFile() && old) {
        if (await removeFile(path)) counts.removed++;
        swept.deleted = true;
      } else {
        counts.kept++; // newer, or a link or other special file
        swept.left++;
      }
    }
    return swept;
  }
}

/** Whether `remove` removed it: false when it failed with one of `notRemoved` (error codes). */
async function removed(remove: () => Promise<void>, ...notRemoved: string[]): Promise<boolean> {
  try {
    await remove();
    return true;
  } catch (error) {
    if (isCode(error, ...notRemoved)) return false;
    throw error;
  }
}

/** Whether the file went; not if it was gone already. */
const removeFile = (path: string) => removed(() => unlink(path), 'ENOENT');

/** Whether the folder went; not if something was put in it meanwhile. */
const removeEmptyDir = (path: string) =>
  removed(() => rmdir(path), 'ENOTEMPTY', 'EEXIST', 'ENOENT');
