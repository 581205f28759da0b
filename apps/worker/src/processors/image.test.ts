import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImagePayload } from '@errand/contract';
import { LocalStorage, objectLinks } from '@errand/storage';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../../test/processor.testkit.ts';
import { PermanentError } from '../processor.ts';
import { type ImageDeps, makeImageProcessor } from './image.ts';

const ctx = (id: string) => testContext(id);

describe('image processor (real sharp, real bytes)', () => {
  let dir: string;
  let storage: LocalStorage;
  let server: Server;
  let origin: string;
  let photo: Buffer;
  const deps = (overrides: Partial<ImageDeps> = {}): ImageDeps => ({
    storage,
    links: objectLinks(storage, 3600),
    maxInputPixels: 10_000_000,
    fetch: { maxBytes: 5_000_000, timeoutMs: 5_000, allowIPAddressList: ['127.0.0.1'] },
    ...overrides,
  });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'errand-images-'));
    storage = new LocalStorage(dir);
    photo = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#3a7' } })
      .jpeg()
      .toBuffer();
    await storage.put('uploads/photo.jpg', photo, { contentType: 'image/jpeg' });
    server = createServer((req, res) => {
      if (req.url === '/photo.jpg') res.writeHead(200, { 'content-type': 'image/jpeg' }).end(photo);
      else if (req.url === '/moved') res.writeHead(302, { location: '/photo.jpg' }).end();
      else if (req.url === '/to-other-loopback') {
        res
          .writeHead(302, {
            location: `http://127.0.0.2:${(server.address() as AddressInfo).port}/photo.jpg`,
          })
          .end();
      } else if (req.url === '/text') res.writeHead(200).end('this is not an image');
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('renders every output from a stored key and stores it under the job id', async () => {
    const payload: ImagePayload = {
      source: { key: 'uploads/photo.jpg' },
      outputs: [
        { width: 320, format: 'webp', quality: 80 },
        { width: 100, height: 100, fit: 'cover', format: 'png' },
      ],
    };
    const result = await makeImageProcessor(deps())(payload, ctx('7'));
    expect(result.outputs).toEqual([
      {
        key: 'images/7/0.webp',
        format: 'webp',
        contentType: 'image/webp',
        bytes: expect.any(Number),
        width: 320,
        height: 240,
        url: '/v1/objects/images/7/0.webp', // local files: the API serves them
      },
      {
        key: 'images/7/1.png',
        format: 'png',
        contentType: 'image/png',
        bytes: expect.any(Number),
        width: 100,
        height: 100,
        url: '/v1/objects/images/7/1.png',
      },
    ]);
    // a schedule's fire: its id holds ":", which no storage key may
    const fired = await makeImageProcessor(deps())(
      { ...payload, outputs: [{ format: 'png' }] },
      ctx('repeat:thumbs:1795592772124'),
    );
    expect(fired.outputs[0]?.key).toBe('images/repeat/thumbs/1795592772124/0.png');
    const stored = await storage.get('images/7/0.webp');
    expect(stored?.length).toBe(result.outputs[0]?.bytes);
    expect(await sharp(stored).metadata()).toMatchObject({
      format: 'webp',
      width: 320,
      height: 240,
    });
  });

  it('fetches a URL source, following redirects', async () => {
    const result = await makeImageProcessor(deps())(
      { source: { url: `${origin}/moved` }, outputs: [{ width: 64, format: 'avif' }] },
      ctx('8'),
    );
    expect(result.outputs[0]).toMatchObject({ width: 64, height: 48, format: 'avif' });
  });

  const fails = async (payload: ImagePayload, reason: RegExp, options?: Partial<ImageDeps>) => {
    const error = await makeImageProcessor(deps(options))(payload, ctx('9')).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toMatch(reason);
  };
  const jpeg = [{ format: 'jpeg' as const }];

  it('refuses loopback and private addresses unless allowed (SSRF)', async () => {
    await fails({ source: { url: `${origin}/photo.jpg` }, outputs: jpeg }, /not allowed/, {
      fetch: { maxBytes: 5_000_000, timeoutMs: 5_000 },
    });
    await fails(
      { source: { url: 'http://169.254.169.254/latest/meta-data' }, outputs: jpeg },
      /not allowed/,
      {
        fetch: { maxBytes: 5_000_000, timeoutMs: 5_000 },
      },
    );
  });

  it('checks the address again on every redirect hop', async () => {
    await fails({ source: { url: `${origin}/to-other-loopback` }, outputs: jpeg }, /not allowed/);
  });

  it('fails permanently on oversized, undecodable, too many pixels, missing and 404 sources', async () => {
    await fails({ source: { url: `${origin}/photo.jpg` }, outputs: jpeg }, /byte limit/, {
      fetch: { maxBytes: 1000, timeoutMs: 5_000, allowIPAddressList: ['127.0.0.1'] },
    });
    await fails({ source: { url: `${origin}/text` }, outputs: jpeg }, /cannot process the image/);
    await fails({ source: { key: 'uploads/photo.jpg' }, outputs: jpeg }, /pixel/i, {
      maxInputPixels: 1000,
    });
    await fails({ source: { key: 'uploads/none.jpg' }, outputs: jpeg }, /no stored object/);
    await fails({ source: { key: 'uploads/photo.jpg' }, outputs: jpeg }, /more than 1000/, {
      fetch: { maxBytes: 1000, timeoutMs: 5_000 },
    });
    await fails({ source: { url: `${origin}/gone` }, outputs: jpeg }, /answered 404/);
  });
});
