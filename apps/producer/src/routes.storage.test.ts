import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { request, S3Server } from '@errand/testing';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProducer } from '../test/app.testkit.ts';

const WRITER = 'storage-writer-key-0123456789abc';
const READER = 'storage-reader-key-0123456789abc';
const KEYS = [
  { name: 'writer', key: WRITER, scopes: ['enqueue'] },
  { name: 'reader', key: READER, scopes: ['read'] },
];
const as = (key: string, headers: Record<string, string> = {}) => ({
  authorization: `Bearer ${key}`,
  ...headers,
});

/** A raw request, so paths reach the server exactly as written (fetch would resolve `..`). */
function rawRequest(
  url: string,
  path: string,
  { method = 'GET', key = READER, body = '', type = 'image/jpeg' } = {},
): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  const headers = as(key, { 'content-type': type, 'content-length': String(body.length) });
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port, path, method, headers }, (res) => {
      let text = '';
      res.on('data', (chunk) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Uploads in and outputs out through the API, on local files and on a real S3-protocol server,
 * over HTTP, with hostile names, sizes and ranges.
 */
describe.each(['local', 's3'] as const)('uploads and outputs, %s storage', (kind) => {
  let producer: Awaited<ReturnType<typeof startProducer>>;
  let s3: S3Server | undefined;
  let photo: Buffer;
  const put = (name: string, body: RequestInit['body'], headers: Record<string, string> = {}) =>
    request(`${producer.api}/v1/uploads/${name}`, {
      method: 'PUT',
      body,
      headers: as(WRITER, { 'content-type': 'image/jpeg', ...headers }),
    });
  const getObject = (key: string, headers: Record<string, string> = {}) =>
    fetch(`${producer.api}/v1/objects/${key}`, { headers: as(READER, headers) });

  beforeAll(async () => {
    if (kind === 's3') s3 = await S3Server.start();
    producer = await startProducer(`storage-${kind}`, {
      apiKeys: KEYS,
      storage: s3?.settings('api'),
      uploadMaxBytes: 100_000,
    });
    photo = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#c33' } })
      .jpeg()
      .toBuffer();
    await producer.deps.storage.put('images/5/0.png', Buffer.from('0123456789'), {
      contentType: 'image/png',
    });
  });
  afterAll(async () => {
    await producer.stop();
    await s3?.stop();
  });

  it('stores an uploaded image under uploads/<name>, streamed, and replaces it on a second PUT', async () => {
    const first = await put('photo.jpg', photo);
    expect(first.status).toBe(201);
    expect(first.headers.get('location')).toBe('/v1/uploads/photo.jpg');
    expect(first.body).toEqual({
      key: 'uploads/photo.jpg',
      bytes: photo.length,
      contentType: 'image/jpeg',
    });
    expect((await producer.deps.storage.get('uploads/photo.jpg'))?.equals(photo)).toBe(true);
    expect((await put('photo.jpg', Buffer.from('again'))).status).toBe(201);
    expect((await producer.deps.storage.get('uploads/photo.jpg'))?.toString()).toBe('again');
  });

  it('refuses uploads that are too large, unsized, not images, empty or badly named', async () => {
    const tooBig = await put('big.jpg', Buffer.alloc(100_001));
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.detail).toBe('Uploads are at most 100000 bytes.');
    const chunked = await request(`${producer.api}/v1/uploads/chunked.jpg`, {
      method: 'PUT',
      headers: as(WRITER, { 'content-type': 'image/jpeg' }),
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new Uint8Array(10));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(411);
    expect((await put('page.jpg', '<html>', { 'content-type': 'text/html' })).status).toBe(415);
    expect((await put('none.jpg', photo, { 'content-type': '' })).status).toBe(415);
    expect((await put('empty.jpg', Buffer.alloc(0))).status).toBe(400);
    for (const name of ['.hidden', 'a..b', 'a%2Fb', 'a%00b', 'a%20b', 'x'.repeat(2048)]) {
      const refused = await put(name, photo);
      expect(refused.status, name).toBe(400);
      expect(refused.body.type).toMatch(/invalid-parameter$/);
    }
    expect((await put('a/b.jpg', photo)).status).toBe(404); // no such route
    for (const path of ['/v1/uploads/..', '/v1/uploads/%2e%2e', '/v1/uploads/%2E%2E%2Fx.jpg']) {
      const refused = await rawRequest(producer.api, path, {
        method: 'PUT',
        key: WRITER,
        body: 'x',
      });
      expect([400, 404], path).toContain(refused.status);
    }
    for (const key of ['big.jpg', 'chunked.jpg', 'page.jpg', 'none.jpg', 'empty.jpg'])
      expect(await producer.deps.storage.stat(`uploads/${key}`)).toBeUndefined();
  });

  it('stores nothing of an upload cut off midway', async () => {
    const { hostname, port } = new URL(producer.api);
    const socket = connect(Number(port), hostname);
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      `PUT /v1/uploads/cut.jpg HTTP/1.1\r\nhost: ${hostname}\r\nauthorization: Bearer ${WRITER}\r\n` +
        'content-type: image/jpeg\r\ncontent-length: 50000\r\n\r\n',
    );
    socket.write(Buffer.alloc(10_000, 1));
    await new Promise((resolve) => setTimeout(resolve, 200));
    socket.destroy();
    // Whatever the store was sent, no object appears, and the producer goes on serving.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await producer.deps.storage.stat('uploads/cut.jpg')).toBeUndefined();
    expect((await put('after-cut.jpg', photo)).status).toBe(201);
  });

  it('wants the enqueue scope to upload and the read scope to download', async () => {
    const asReader = await request(`${producer.api}/v1/uploads/photo.jpg`, {
      method: 'PUT',
      body: photo,
      headers: as(READER, { 'content-type': 'image/jpeg' }),
    });
    expect(asReader.status).toBe(403);
    expect(
      (await fetch(`${producer.api}/v1/objects/images/5/0.png`, { headers: as(WRITER) })).status,
    ).toBe(403);
    expect((await fetch(`${producer.api}/v1/objects/images/5/0.png`)).status).toBe(401);
  });

  it('gives an upload ticket: a presigned PUT for a store, this API’s route for local files', async () => {
    const ticket = await request(`${producer.api}/v1/uploads`, {
      method: 'POST',
      json: { contentType: 'image/png', bytes: 5 },
      headers: as(WRITER),
    });
    expect(ticket.status).toBe(201);
    expect(ticket.body.key).toMatch(/^uploads\/[0-9a-f-]{36}\.png$/);
    expect(ticket.body.method).toBe('PUT');
    expect(ticket.body.headers).toEqual({ 'content-type': 'image/png', 'content-length': '5' });
    const name = ticket.body.key.slice('uploads/'.length);
    if (kind === 'local') {
      expect(ticket.body).not.toHaveProperty('expiresAt');
      expect(ticket.body.url).toBe(`/v1/uploads/${name}`);
      const sent = await put(name, Buffer.from('12345'), { 'content-type': 'image/png' });
      expect(sent.status).toBe(201);
    } else {
      expect(ticket.body.url).toMatch(
        new RegExp(`^${s3?.endpoint}/errand-test/api/uploads/${name}\\?`),
      );
      expect(Date.parse(ticket.body.expiresAt) - Date.now()).toBeGreaterThan(3_500_000);
      // Straight to the store, with no API key
      const sent = await fetch(ticket.body.url, {
        method: 'PUT',
        headers: { 'content-type': 'image/png' },
        body: '12345',
      });
      expect(sent.status).toBe(200);
    }
    expect((await producer.deps.storage.get(ticket.body.key))?.toString()).toBe('12345');

    const named = await request(`${producer.api}/v1/uploads`, {
      method: 'POST',
      json: { contentType: 'image/webp', bytes: 10, name: 'cat.webp' },
      headers: as(WRITER),
    });
    expect(named.body.key).toBe('uploads/cat.webp');
    for (const body of [
      { contentType: 'image/png', bytes: 100_001 },
      { contentType: 'text/html', bytes: 5 },
      { contentType: 'image/png', bytes: 0 },
      { contentType: 'image/png', bytes: 5, name: '../x.png' },
      { contentType: 'image/png', bytes: 5, name: 'a/b.png' },
      { contentType: 'image/png', bytes: 5, extra: true },
    ]) {
      const refused = await request(`${producer.api}/v1/uploads`, {
        method: 'POST',
        json: body,
        headers: as(WRITER),
      });
      expect(refused.status, JSON.stringify(body)).toBe(body.bytes > 100_000 ? 413 : 400);
    }
  });

  it('serves an output with its type and cache headers, whole, by range and by HEAD', async () => {
    const whole = await getObject('images/5/0.png');
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toBe('image/png');
    expect(whole.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(whole.headers.get('x-content-type-options')).toBe('nosniff');
    expect(whole.headers.get('content-length')).toBe('10');
    expect(await whole.text()).toBe('0123456789');

    const ranges: [string, number, string, string][] = [
      ['bytes=2-4', 206, '234', 'bytes 2-4/10'],
      ['bytes=7-', 206, '789', 'bytes 7-9/10'],
      ['bytes=-3', 206, '789', 'bytes 7-9/10'],
      ['bytes=8-100', 206, '89', 'bytes 8-9/10'],
    ];
    for (const [range, status, body, contentRange] of ranges) {
      const part = await getObject('images/5/0.png', { range });
      expect(part.status, range).toBe(status);
      expect(part.headers.get('content-range')).toBe(contentRange);
      expect(await part.text()).toBe(body);
    }
    for (const ignored of ['bytes=4-2', 'bytes=0-1,3-4', 'items=0-1']) {
      const full = await getObject('images/5/0.png', { range: ignored });
      expect(full.status, ignored).toBe(200);
      expect(await full.text()).toBe('0123456789');
    }
    const past = await getObject('images/5/0.png', { range: 'bytes=10-' });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe('bytes */10');
    const head = await fetch(`${producer.api}/v1/objects/images/5/0.png`, {
      method: 'HEAD',
      headers: as(READER),
    });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('10');
  });

  it('serves nothing but outputs: no sources, no traversal, no hostile keys', async () => {
    expect((await getObject('images/5/none.png')).status).toBe(404);
    expect((await getObject('uploads/photo.jpg')).status).toBe(404);
    for (const path of [
      '/v1/objects/images/../uploads/photo.jpg',
      '/v1/objects/images/%2e%2e/uploads/photo.jpg',
      '/v1/objects/images/5/..%2F..%2Fuploads%2Fphoto.jpg',
      '/v1/objects/%2Fetc%2Fpasswd',
      '/v1/objects/images/5/0.png%00.jpg',
      `/v1/objects/images/${'a'.repeat(2048)}`,
    ]) {
      const answer = await rawRequest(producer.api, path);
      expect(answer.status, path).toBe(404);
      expect(answer.body).not.toContain('SQUARE'); // never the photo's bytes
    }
  });
});

describe('uploads and outputs while the object store is down', () => {
  it('answers 503 storage-unavailable with Retry-After, and works again once it is back', async () => {
    const s3 = await S3Server.start();
    const producer = await startProducer('storage-down', {
      apiKeys: KEYS,
      storage: s3.settings('down'),
    });
    try {
      await s3.kill();
      const upload = await request(`${producer.api}/v1/uploads/photo.jpg`, {
        method: 'PUT',
        body: Buffer.from('x'),
        headers: as(WRITER, { 'content-type': 'image/jpeg' }),
      });
      expect(upload.status).toBe(503);
      expect(upload.body.type).toMatch(/storage-unavailable$/);
      expect(upload.headers.get('retry-after')).toBe('5');
      expect(JSON.stringify(upload.body)).not.toContain('S3RVER');
      const read = await request(`${producer.api}/v1/objects/images/1/0.png`, {
        headers: as(READER),
      });
      expect(read.status).toBe(503);
      await s3.restart();
      const again = await request(`${producer.api}/v1/uploads/photo.jpg`, {
        method: 'PUT',
        body: Buffer.from('x'),
        headers: as(WRITER, { 'content-type': 'image/jpeg' }),
      });
      expect(again.status).toBe(201);
    } finally {
      await producer.stop();
      await s3.stop();
    }
  });
});
