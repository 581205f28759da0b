import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@errand/devservers';
import {
  type AppProcess,
  eventually,
  request,
  S3Server,
  startApp,
  startTestRedis,
  type TestRedis,
} from '@errand/testing';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const KEY = 'image-slice-key-0123456789abcdef';
const API_KEYS = JSON.stringify([{ name: 'svc', key: KEY, scopes: ['enqueue', 'read'] }]);
const auth = { authorization: `Bearer ${KEY}` };

/**
 * What a service on another host does, every part real and in its own process: upload a
 * source through Errand, enqueue an image job for it, and download every output from the URL
 * in the result. On an S3-protocol server (presigned URLs, straight to the store) and on
 * local files (through the API).
 */
describe.each(['s3', 'local'] as const)('image job end to end, %s storage', (kind) => {
  let redis: TestRedis;
  let s3: S3Server | undefined;
  let producer: AppProcess;
  let worker: AppProcess;
  let api: string;
  let photo: Buffer;
  let dir: string;

  beforeAll(async () => {
    redis = await startTestRedis();
    if (kind === 's3') s3 = await S3Server.start();
    dir = await mkdtemp(join(tmpdir(), 'errand-image-slice-'));
    const storage = s3 ? s3.env('slice') : { STORAGE_DIR: dir };
    const [producerPort, workerPort] = [await freePort(), await freePort()];
    api = `http://127.0.0.1:${producerPort}`;
    const common = { REDIS_URL: redis.url, QUEUE_PREFIX: 'image-slice', ...storage };
    producer = startApp('producer', {
      ...common,
      API_KEYS,
      PRODUCER_PORT: String(producerPort),
    });
    worker = startApp('worker', {
      ...common,
      WORKER_PORT: String(workerPort),
      WORKER_QUEUES: 'image',
      // The URLs the worker signs into the result are dead in a second: those a caller reads
      // are the producer's, signed as it answers.
      ...(s3 ? { STORAGE_URL_EXPIRY_SECONDS: '1' } : {}),
    });
    await Promise.all([
      producer.waitForLine('producer listening'),
      worker.waitForLine('worker running'),
    ]);
    photo = await sharp({ create: { width: 800, height: 600, channels: 3, background: '#36c' } })
      .jpeg()
      .toBuffer();
  });

  afterAll(async () => {
    await Promise.all([producer?.stop(), worker?.stop()]);
    await s3?.stop();
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** Where a result's url leads: a presigned URL as it is, the API's own path with the key. */
  const download = (url: string) =>
    url.startsWith('/') ? fetch(`${api}${url}`, { headers: auth }) : fetch(url);

  it('takes an uploaded source and gives outputs the caller downloads from the result’s URLs', async () => {
    const ticket = await request(`${api}/v1/uploads`, {
      method: 'POST',
      headers: auth,
      json: { contentType: 'image/jpeg', bytes: photo.length },
    });
    expect(ticket.status).toBe(201);
    const target = ticket.body.url.startsWith('/') ? `${api}${ticket.body.url}` : ticket.body.url;
    const sent = await fetch(target, {
      method: 'PUT',
      headers: { ...ticket.body.headers, ...(ticket.body.url.startsWith('/') ? auth : {}) },
      body: photo,
    });
    expect(sent.ok).toBe(true);

    const created = await request(`${api}/v1/jobs/image`, {
      method: 'POST',
      headers: auth,
      json: {
        data: {
          source: { key: ticket.body.key },
          outputs: [
            { width: 320, format: 'webp' },
            { width: 100, height: 100, fit: 'cover', format: 'png' },
          ],
        },
      },
    });
    expect(created.status).toBe(202);
    const done = await eventually(
      async () => {
        const job = await request(`${api}/v1/jobs/image/${created.body.id}`, { headers: auth });
        if (job.body.state === 'failed') throw new Error(job.body.failedReason);
        return job.body.state === 'completed' ? job.body : undefined;
      },
      { timeoutMs: 30_000 },
    );

    const outputs = done.result.outputs;
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // past the worker's signatures
    // The event stream of the finished job shows the same, signed afresh too.
    const stream = await fetch(`${api}/v1/jobs/image/${created.body.id}/events`, { headers: auth });
    const events = await stream.text();
    const completed = /event: completed\ndata: (.*)\n/.exec(events)?.[1] ?? '{}';
    const streamed = JSON.parse(completed).result?.outputs ?? [];
    expect(streamed.map((o: { key: string }) => o.key)).toEqual(
      outputs.map((o: { key: string }) => o.key),
    );
    for (const output of streamed) expect((await download(output.url)).status).toBe(200);
    expect(outputs.map((o: { key: string }) => o.key)).toEqual([
      `images/${created.body.id}/0.webp`,
      `images/${created.body.id}/1.png`,
    ]);
    for (const [index, expected] of [
      { format: 'webp', contentType: 'image/webp', width: 320, height: 240 },
      { format: 'png', contentType: 'image/png', width: 100, height: 100 },
    ].entries()) {
      const output = outputs[index];
      expect(output).toMatchObject(expected);
      if (kind === 's3') {
        expect(output.url).toMatch(new RegExp(`^${s3?.endpoint}/errand-test/slice/images/`));
        expect(Date.parse(output.expiresAt)).toBeGreaterThan(Date.now() + 3_000_000);
      } else {
        expect(output.url).toBe(`/v1/objects/${output.key}`);
      }
      const file = await download(output.url);
      expect(file.status).toBe(200);
      expect(file.headers.get('content-type')).toBe(expected.contentType);
      const bytes = Buffer.from(await file.arrayBuffer());
      expect(bytes.length).toBe(output.bytes);
      expect(await sharp(bytes).metadata()).toMatchObject({
        format: expected.format,
        width: expected.width,
        height: expected.height,
      });
    }
  });

  it('uploads through the API too, and fails the job for good on a source that is no image', async () => {
    const put = await fetch(`${api}/v1/uploads/not-an-image.png`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'image/png' },
      body: 'this is text',
    });
    expect(put.status).toBe(201);
    const created = await request(`${api}/v1/jobs/image`, {
      method: 'POST',
      headers: auth,
      json: { data: { source: { key: 'uploads/not-an-image.png' }, outputs: [{ format: 'png' }] } },
    });
    const failed = await eventually(
      async () => {
        const job = await request(`${api}/v1/jobs/image/${created.body.id}`, { headers: auth });
        return job.body.state === 'failed' ? job.body : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(failed.attemptsMade).toBe(1); // permanent: not retried
    expect(failed.failedReason).toMatch(/cannot process the image/);
  });
});

describe('start-up against an object store that cannot be used', () => {
  let redis: TestRedis;
  let s3: S3Server;
  beforeAll(async () => {
    redis = await startTestRedis();
    s3 = await S3Server.start();
  });
  afterAll(async () => {
    await s3?.stop();
    await redis?.stop();
  });

  it('stops the worker and the producer with a reason for a missing bucket or unknown credentials', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ STORAGE_URL: 's3://missing-bucket/x' }, /no such bucket/],
      [{ S3_ACCESS_KEY_ID: 'nobody' }, /access denied: check the credentials/],
      [{ S3_ENDPOINT: 'http://127.0.0.1:9' }, /cannot reach the store/],
    ];
    for (const [overrides, reason] of cases) {
      for (const app of ['worker', 'producer'] as const) {
        const started = startApp(app, {
          REDIS_URL: redis.url,
          QUEUE_PREFIX: 'image-startup',
          WORKER_PORT: '0',
          PRODUCER_PORT: '0',
          ...s3.env('x', overrides),
        });
        expect(await started.exited, app).toBe(1);
        expect(started.output()).toMatch(new RegExp(`${app} did not start: STORAGE_URL: `));
        expect(started.output()).toMatch(reason);
        expect(started.output()).not.toContain('S3RVER');
      }
    }
  });
});
