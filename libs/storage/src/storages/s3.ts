import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { withSpooled } from '../spool.ts';
import {
  type ByteRange,
  checkKey,
  checkPrefix,
  type ObjectInfo,
  ObjectTooLargeError,
  type PutOptions,
  type SignedUrl,
  type Storage,
  StorageError,
} from '../storage.ts';
import { isMissing, reasonOf, startupHintOf } from './s3-errors.ts';

/** Where the objects are in an S3-compatible store (`STORAGE_URL=s3://bucket/prefix` and `S3_*`). */
export interface S3Location {
  bucket: string;
  /** Prepended to every key: "" or a path ending in "/" (`errand/`). */
  prefix: string;
  /** For stores other than AWS (MinIO, Ceph RGW, R2, GCS): their URL; unset for AWS. */
  endpoint?: string;
  /** The endpoint presigned URLs name, when callers reach the store by another address. */
  publicEndpoint?: string;
  region: string;
  /** `host/bucket/key` rather than `bucket.host/key`: most self-hosted stores want it. */
  forcePathStyle: boolean;
  /** Explicit keys; unset, the AWS SDK's own chain (AWS_* variables, profile, web identity). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** Sweeps delete in batches of at most this many keys (S3's own limit per request). */
const DELETE_BATCH = 1000;

/**
 * Objects in a bucket of an S3-compatible store, through the AWS SDK. Failures are
 * `StorageError`s that name the bucket, endpoint, action and key; a missing object is
 * undefined, as for local files.
 */
export class S3Storage implements Storage {
  readonly description: string;
  private readonly client: S3Client;
  /** Signs URLs for callers: the same client, or one naming `publicEndpoint`. */
  private readonly signer: S3Client;

  private readonly location: S3Location;

  constructor(location: S3Location) {
    this.location = location;
    const where = location.endpoint ?? `AWS ${location.region}`;
    this.description = `s3://${location.bucket}/${location.prefix} at ${where}`;
    const config = (endpoint?: string): S3ClientConfig => ({
      endpoint,
      region: location.region,
      forcePathStyle: location.forcePathStyle,
      credentials: location.credentials,
      // Short connect timeout: a store that is down fails the attempt in seconds, and the
      // job's own retries take over. Two tries inside the SDK cover a dropped connection.
      maxAttempts: 2,
      requestHandler: {
        connectionTimeout: 3_000,
        requestTimeout: 60_000,
        throwOnRequestTimeout: true,
      },
      // Checksums only where S3 requires them: many S3-compatible stores refuse the newer
      // default ones, and a presigned PUT would otherwise carry the checksum of no body.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    this.client = new S3Client(config(location.endpoint));
    this.signer = location.publicEndpoint
      ? new S3Client(config(location.publicEndpoint))
      : this.client;
  }

  private keyOf(key: string) {
    return this.location.prefix + checkKey(key);
  }

  private failed(action: string, key: string | undefined, error: unknown): StorageError {
    const what = key === undefined ? action : `${action} "${key}"`;
    return new StorageError(`${this.description}: ${what} failed: ${reasonOf(error)}`, {
      cause: error,
    });
  }

  async check(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.location.bucket }));
    } catch (error) {
      const hint = startupHintOf(error);
      throw new StorageError(`STORAGE_URL: ${this.description}: ${hint}`, { cause: error });
    }
  }

  async get(key: string, { maxBytes = Infinity } = {}): Promise<Buffer | undefined> {
    const Key = this.keyOf(key);
    try {
      const answer = await this.client.send(
        new GetObjectCommand({ Bucket: this.location.bucket, Key }),
      );
      const body = answer.Body as Readable;
      if ((answer.ContentLength ?? 0) > maxBytes) {
        body.destroy();
        throw new ObjectTooLargeError(
          `"${key}" is ${answer.ContentLength} bytes, more than ${maxBytes}`,
        );
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of body) {
        size += (chunk as Buffer).length;
        if (size > maxBytes) {
          body.destroy();
          throw new ObjectTooLargeError(`"${key}" is more than ${maxBytes} bytes`);
        }
        chunks.push(chunk as Buffer);
      }
      return Buffer.concat(chunks);
    } catch (error) {
      if (error instanceof ObjectTooLargeError) throw error;
      if (isMissing(error)) return undefined;
      throw this.failed('reading', key, error);
    }
  }

  /**
   * A stream (an upload through the API) is spooled to a temp file first, checked for its
   * announced size, and only then sent: a client gone mid-upload never reaches the store,
   * whatever a store would have kept of a cut-off PUT.
   */
  async put(key: string, body: Buffer | Readable, options: PutOptions): Promise<void> {
    this.keyOf(key);
    if (Buffer.isBuffer(body)) return this.send(key, body, body.length, options);
    await withSpooled(key, body, options.contentLength, (file, size) =>
      this.send(key, file, size, options),
    );
  }

  private async send(key: string, Body: Buffer | Readable, size: number, options: PutOptions) {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.location.bucket,
          Key: this.keyOf(key),
          Body,
          ContentType: options.contentType,
          CacheControl: options.cacheControl,
          ContentLength: size,
        }),
      );
    } catch (error) {
      throw this.failed('writing', key, error);
    }
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    const Key = this.keyOf(key);
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.location.bucket, Key }),
      );
      return {
        size: head.ContentLength ?? 0,
        contentType: head.ContentType ?? 'application/octet-stream',
        lastModified: head.LastModified ?? new Date(0),
      };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw this.failed('reading', key, error);
    }
  }

  async open(key: string, range?: ByteRange): Promise<Readable | undefined> {
    const Key = this.keyOf(key);
    try {
      const answer = await this.client.send(
        new GetObjectCommand({
          Bucket: this.location.bucket,
          Key,
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        }),
      );
      return answer.Body as Readable;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw this.failed('reading', key, error);
    }
  }

  async delete(key: string): Promise<void> {
    const Key = this.keyOf(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.location.bucket, Key }));
    } catch (error) {
      throw this.failed('deleting', key, error);
    }
  }

  /** By each object's LastModified; a store has no folders, so none are left behind. */
  async removeOlderThan(prefix: string, cutoff: Date, signal?: AbortSignal) {
    const counts = { removed: 0, kept: 0 };
    const Prefix = this.location.prefix + checkPrefix(prefix);
    let ContinuationToken: string | undefined;
    do {
      signal?.throwIfAborted();
      const page = await this.client
        .send(new ListObjectsV2Command({ Bucket: this.location.bucket, Prefix, ContinuationToken }))
        .catch((error) => {
          throw this.failed('listing', prefix, error);
        });
      const old: { Key: string }[] = [];
      for (const object of page.Contents ?? []) {
        if (object.Key && object.LastModified && object.LastModified < cutoff)
          old.push({ Key: object.Key });
        else counts.kept++;
      }
      for (let at = 0; at < old.length; at += DELETE_BATCH) {
        signal?.throwIfAborted();
        const batch = old.slice(at, at + DELETE_BATCH);
        const answer = await this.client
          .send(
            new DeleteObjectsCommand({
              Bucket: this.location.bucket,
              Delete: { Objects: batch, Quiet: true },
            }),
          )
          .catch((error) => {
            throw this.failed('deleting under', prefix, error);
          });
        const errors = answer.Errors?.length ?? 0;
        counts.removed += batch.length - errors;
        counts.kept += errors;
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    return counts;
  }

  async signedGet(key: string, expiresInSeconds: number): Promise<SignedUrl> {
    const command = new GetObjectCommand({ Bucket: this.location.bucket, Key: this.keyOf(key) });
    return this.sign(command, expiresInSeconds);
  }

  async signedPut(
    key: string,
    { contentType, contentLength }: { contentType: string; contentLength: number },
    expiresInSeconds: number,
  ): Promise<SignedUrl> {
    const command = new PutObjectCommand({
      Bucket: this.location.bucket,
      Key: this.keyOf(key),
      ContentType: contentType,
      ContentLength: contentLength,
    });
    // Type and size are part of the signature: a store refuses any other body.
    return this.sign(command, expiresInSeconds, new Set(['content-type', 'content-length']));
  }

  private async sign(
    command: GetObjectCommand | PutObjectCommand,
    expiresIn: number,
    signableHeaders?: Set<string>,
  ): Promise<SignedUrl> {
    const expiresAt = new Date(Date.now() + expiresIn * 1000);
    const url = await getSignedUrl(this.signer, command, { expiresIn, signableHeaders });
    return { url, expiresAt };
  }

  /** Close the client's connections. */
  close(): void {
    this.client.destroy();
    if (this.signer !== this.client) this.signer.destroy();
  }
}
