import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ImageOutput, type ImageResult, jobs } from '@errand/contract';
import { queuePrefix } from '@errand/queues';
import { openStorage, type Storage, StorageEnv } from '@errand/storage';
import {
  eventually,
  type ProducerProcess,
  S3Server,
  startProducerProcess,
  startTestRedis,
  type TestRedis,
} from '@errand/testing';
import { type Job, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, ErrandApiError, ObjectStoreError } from './index.ts';

const KEY = 'storage-test-key-012345678';
const READER = 'storage-reader-key-0123456';
const MAX = 64 * 1024;

/** Every request the client sent: where, and whether it carried the API key. */
interface Sent {
  method: string;
  url: string;
  authorization: string | null;
}

/**
 * A producer process on its own Redis with this storage, and a BullMQ Worker standing in for
 * the image processor: it copies the job's uploaded source to `images/<id>/0.png`, returning
 * the result a worker would, with a `url` long expired (the API must sign a fresh one).
 */
async function startStack(prefix: string, storageEnv: Record<string, string>) {
  const redis: TestRedis = await startTestRedis();
  const producer: ProducerProcess = await startProducerProcess({
    REDIS_URL: redis.url,
    QUEUE_PREFIX: prefix,
    UPLOAD_MAX_BYTES: String(MAX),
    API_KEYS: JSON.stringify([
      { name: 'svc', key: KEY, scopes: ['enqueue', 'read'] },
      { name: 'reader', key: READER, scopes: ['read'] },
    ]),
    ...storageEnv,
  });
  const storage: Storage = openStorage(StorageEnv.parse(storageEnv));
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const worker = new Worker(
    jobs.image.queue,
    async (job: Job): Promise<ImageResult> => {
      const source = await storage.get(job.data.source.key);
      if (!source) throw new Error(`no source ${job.data.source.key}`);
      const key = `images/${job.id}/0.png`;
      await storage.put(key, source, { contentType: 'image/png' });
      const output: ImageOutput = {
        key,
        format: 'png',
        contentType: 'image/png',
        bytes: source.length,
        width: 1,
        height: 1,
        url: 'https://store.invalid/expired',
        expiresAt: '2020-01-01T00:00:00Z',
      };
      return { outputs: [output] };
    },
    { connection, prefix: queuePrefix(prefix, jobs.image.queue) },
  );
  worker.on('error', () => {});
  const sent: Sent[] = [];
  const client = (apiKey: string | null = KEY) =>
    createClient({
      baseUrl: producer.api,
      ...(apiKey === null ? {} : { apiKey }),
      fetch: async (input, init) => {
        const authorization = new Headers(init?.headers).get('authorization');
        sent.push({ method: init?.method ?? 'GET', url: String(input), authorization });
        return fetch(input, init);
      },
    });
  /** Enqueue an image job of this source, wait for it, and read it as a caller would. */
  const render = async (sourceKey: string) => {
    const c = client();
    const job = await c.enqueue('image', {
      source: { key: sourceKey },
      outputs: [{ format: 'png' }],
    });
    return eventually(async () => {
      const view = await c.get('image', job.id);
      return view.state === 'completed' ? view.result?.outputs[0] : undefined;
    });
  };
  return {
    producer,
    storage,
    sent,
    client,
    render,
    async stop() {
      await worker.close();
      connection.disconnect();
      storage.close();
      await producer.stop();
      await redis.stop();
    },
  };
}

const png = () => randomBytes(2048);
const failure = (promise: Promise<unknown>) => promise.catch((error: unknown) => error);

/** The client's uploads and downloads against a real producer process storing local files. */
describe('@errand/client storage, local files', () => {
  let dir: string;
  let stack: Awaited<ReturnType<typeof startStack>>;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'errand-client-storage-'));
    stack = await startStack('clientlocal', { STORAGE_DIR: dir });
  });
  afterAll(async () => {
    await stack?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('uploads through the API, and the file holds the bytes', async () => {
    const bytes = png();
    const stored = await stack.client().upload('photo.png', bytes, 'image/png');
    expect(stored).toEqual({
      key: 'uploads/photo.png',
      bytes: bytes.length,
      contentType: 'image/png',
    });
    expect(await readFile(join(dir, 'uploads', 'photo.png'))).toEqual(bytes);
  });

  it('sends a ticket’s upload to the API, with the key', async () => {
    const bytes = png();
    const ticket = await stack
      .client()
      .createUpload({ contentType: 'image/png', bytes: bytes.length });
    expect(ticket).toMatchObject({
      method: 'PUT',
      url: expect.stringMatching(/^\/v1\/uploads\/[\w-]+\.png$/),
    });
    expect(ticket.expiresAt).toBeUndefined();
    stack.sent.length = 0;
    const stored = await stack.client().sendUpload(ticket, new Blob([bytes]));
    expect(stored).toEqual({ key: ticket.key, bytes: bytes.length, contentType: 'image/png' });
    expect(stack.sent).toEqual([
      { method: 'PUT', url: `${stack.producer.api}${ticket.url}`, authorization: `Bearer ${KEY}` },
    ]);
    expect(await stack.storage.get(ticket.key)).toEqual(bytes);
  });

  it('downloads a job’s output by its relative url, with a read key and not without one', async () => {
    const bytes = png();
    await stack.client().upload('render-me.png', bytes, 'image/png');
    const output = await stack.render('uploads/render-me.png');
    expect(output?.url).toBe(`/v1/objects/${output?.key}`);
    expect(output?.expiresAt).toBeUndefined();
    if (!output) throw new Error('no output');
    expect(Buffer.from(await stack.client(READER).download(output))).toEqual(bytes);
    const response = await stack.client(READER).fetchObject(output.url);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.headers.get('accept-ranges')).toBe('bytes');
    await response.body?.cancel();
    const anonymous = await failure(stack.client(null).download(output));
    expect(anonymous).toBeInstanceOf(ErrandApiError);
    expect(anonymous).toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('throws the API’s problems: too large, not an image, a source asked as an output', async () => {
    const c = stack.client();
    const large = await failure(c.upload('big.png', new Uint8Array(MAX + 1), 'image/png'));
    expect(large).toMatchObject({ status: 413, code: 'body-too-large' });
    const ticket = await failure(c.createUpload({ contentType: 'image/png', bytes: MAX + 1 }));
    expect(ticket).toMatchObject({ status: 413, code: 'body-too-large' });
    const type = await failure(c.upload('a.png', png(), 'text/plain' as 'image/png'));
    expect(type).toMatchObject({ status: 415, code: 'unsupported-image-type' });
    const name = await failure(c.upload('.hidden.png', png(), 'image/png'));
    expect(name).toMatchObject({ status: 400, code: 'invalid-parameter' });
    await c.upload('source.png', png(), 'image/png');
    const source = await failure(c.fetchObject('/v1/objects/uploads/source.png'));
    expect(source).toMatchObject({ status: 404, code: 'object-not-found' });
  });

  it('refuses a body of another size than the ticket’s before sending it', async () => {
    const ticket = await stack.client().createUpload({ contentType: 'image/png', bytes: 10 });
    stack.sent.length = 0;
    const wrong = await failure(stack.client().sendUpload(ticket, new Uint8Array(11)));
    expect(wrong).toBeInstanceOf(RangeError);
    expect(stack.sent).toEqual([]);
    const relative = await failure(stack.client().download({ url: 'v1/objects/images/x.png' }));
    expect(relative).toBeInstanceOf(TypeError);
  });
});

/** The same against an S3 store: presigned URLs go straight to the store, without the key. */
describe('@errand/client storage, S3', () => {
  let s3: S3Server;
  let stack: Awaited<ReturnType<typeof startStack>>;
  beforeAll(async () => {
    s3 = await S3Server.start();
    stack = await startStack('clients3', s3.env('client'));
  });
  afterAll(async () => {
    await stack?.stop();
    await s3?.stop();
  });

  it('PUTs a ticket’s upload straight to the store without the API key; the object is in the bucket', async () => {
    const bytes = png();
    const ticket = await stack.client().createUpload({
      contentType: 'image/png',
      bytes: bytes.length,
      name: 'direct.png',
    });
    expect(ticket.key).toBe('uploads/direct.png');
    expect(ticket.url.startsWith(`${s3.endpoint}/${s3.bucket}/client/uploads/direct.png?`)).toBe(
      true,
    );
    expect(Date.parse(ticket.expiresAt ?? '')).toBeGreaterThan(Date.now());
    stack.sent.length = 0;
    const stored = await stack.client().sendUpload(ticket, bytes);
    expect(stored).toEqual({
      key: 'uploads/direct.png',
      bytes: bytes.length,
      contentType: 'image/png',
    });
    expect(stack.sent).toEqual([{ method: 'PUT', url: ticket.url, authorization: null }]);
    expect(await stack.storage.get('uploads/direct.png')).toEqual(bytes);
    expect(await stack.storage.stat('uploads/direct.png')).toMatchObject({
      size: bytes.length,
      contentType: 'image/png',
    });
  });

  it('uploads through the API into the bucket too', async () => {
    const bytes = png();
    await stack.client().upload('via-api.png', bytes, 'image/png');
    expect(await stack.storage.get('uploads/via-api.png')).toEqual(bytes);
  });

  it('downloads an output by a presigned url signed afresh, without the key; the API serves it too', async () => {
    const bytes = png();
    await stack.client().upload('to-render.png', bytes, 'image/png');
    const output = await stack.render('uploads/to-render.png');
    if (!output) throw new Error('no output');
    expect(output.url.startsWith(`${s3.endpoint}/${s3.bucket}/client/${output.key}?`)).toBe(true);
    expect(Date.parse(output.expiresAt ?? '')).toBeGreaterThan(Date.now());
    stack.sent.length = 0;
    expect(Buffer.from(await stack.client().download(output))).toEqual(bytes);
    expect(stack.sent).toEqual([{ method: 'GET', url: output.url, authorization: null }]);
    const viaApi = await stack.client(READER).download({ url: `/v1/objects/${output.key}` });
    expect(Buffer.from(viaApi)).toEqual(bytes);
    // What the store refuses is thrown as its own error, with the store's code.
    await stack.storage.delete(output.key);
    const gone = await failure(stack.client().download(output));
    expect(gone).toBeInstanceOf(ObjectStoreError);
    expect(gone).toMatchObject({ status: 404, code: 'NoSuchKey' });
  });
});
