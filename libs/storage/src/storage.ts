import type { Readable } from 'node:stream';

/** What a store knows of one object without reading it. */
export interface ObjectInfo {
  size: number;
  contentType: string;
  lastModified: Date;
}

/** Bytes `start` to `end` of an object, both included (as HTTP ranges count). */
export interface ByteRange {
  start: number;
  end: number;
}

/** How an object is written: its type, and how long a browser or CDN may keep it. */
export interface PutOptions {
  contentType: string;
  cacheControl?: string;
  /** Required for a stream body: a store is told the size before the first byte. */
  contentLength?: number;
}

/** A URL that reads or writes one object directly in the store, until `expiresAt`. */
export interface SignedUrl {
  url: string;
  expiresAt: Date;
}

/**
 * Where image inputs and outputs live. Keys are relative, slash-separated paths
 * (`images/42/0.webp`); one file per implementation in `storages/`. Every method refuses a key
 * `checkKey` refuses, before any file or request.
 */
export interface Storage {
  /** Where it is, for messages and logs (a folder, or `s3://bucket/prefix at endpoint`). */
  readonly description: string;
  /** Start-up: fails with a message naming the setting when the store cannot be used. */
  check(): Promise<void>;
  /**
   * The object's bytes, or undefined when no object has that key; `ObjectTooLargeError`
   * past `maxBytes`, before more than that is read.
   */
  get(key: string, options?: { maxBytes?: number }): Promise<Buffer | undefined>;
  put(key: string, body: Buffer | Readable, options: PutOptions): Promise<void>;
  /** Size, type and time of an object, or undefined when there is none. */
  stat(key: string): Promise<ObjectInfo | undefined>;
  /** The object's bytes as a stream (a range of them if given), or undefined when there is none. */
  open(key: string, range?: ByteRange): Promise<Readable | undefined>;
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
  /**
   * A URL that reads the object straight from the store for `expiresInSeconds`; undefined
   * when the store has none to give (local files: the API serves them).
   */
  signedGet(key: string, expiresInSeconds: number): Promise<SignedUrl | undefined>;
  /**
   * A URL that writes the object straight into the store, signed for exactly this type and
   * size; undefined when the store has none to give (local files: upload through the API).
   */
  signedPut(
    key: string,
    upload: { contentType: string; contentLength: number },
    expiresInSeconds: number,
  ): Promise<SignedUrl | undefined>;
  /** Let go of connections (an object store's client); nothing for local files. */
  close(): void;
}

export class InvalidKeyError extends Error {
  override name = 'InvalidKeyError';
}

/** An object larger than the reader allowed. */
export class ObjectTooLargeError extends Error {
  override name = 'ObjectTooLargeError';
}

/**
 * The store could not be used (unreachable, refused, misconfigured); the message names the
 * store and what was being done, never a credential.
 */
export class StorageError extends Error {
  override name = 'StorageError';
}

const KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,511}$/;

/** Refuse keys that could leave the storage root: "..", absolute paths, odd characters. */
export function checkKey(key: string): string {
  if (
    typeof key !== 'string' ||
    !KEY.test(key) ||
    key.split('/').some((part) => part === '..' || part === '.' || part === '')
  ) {
    throw new InvalidKeyError(`invalid storage key "${String(key).slice(0, 80)}"`);
  }
  return key;
}

/** `checkKey` for a prefix, which ends in "/". */
export function checkPrefix(prefix: string): string {
  checkKey(prefix.replace(/\/+$/, ''));
  return prefix.endsWith('/') ? prefix : `${prefix}/`;
}
