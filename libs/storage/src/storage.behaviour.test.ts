import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { S3Server } from '@errand/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage } from './location.ts';
import { InvalidKeyError, ObjectTooLargeError, type Storage } from './storage.ts';

/** Keys no store may take: traversal, absolute paths, NUL, odd characters, 2 KB. */
export const HOSTILE_KEYS = [
  '../etc/passwd',
  'images/../../etc/passwd',
  '/etc/passwd',
  'images/./0.png',
  'images//0.png',
  'images/0.png\0.jpg',
  'images/0 .png',
  'images\\..\\0.png',
  '',
  `images/${'a'.repeat(2048)}`,
];

/**
 * What every store does the same, run against local files and against a real S3-protocol
 * server (s3rver in its own process): the image processor, the clean-up and the API rely on it.
 */
describe.each(['local', 's3'] as const)('%s storage', (kind) => {
  let storage: Storage;
  let s3: S3Server | undefined;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'errand-storage-behaviour-'));
    if (kind === 's3') s3 = await S3Server.start();
    storage = openStorage(
      s3 ? s3.settings('behaviour') : { store: { kind: 'local', dir }, urlExpirySeconds: 60 },
    );
    await storage.check();
  });
  afterAll(async () => {
    storage.close();
    await s3?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('stores bytes and a stream, and reads them back whole, by range and by stat', async () => {
    await storage.put('images/1/0.png', Buffer.from('0123456789'), { contentType: 'image/png' });
    await storage.put(
      'uploads/streamed.jpg',
      Readable.from([Buffer.from('abc'), Buffer.from('de')]),
      {
        contentType: 'image/jpeg',
        contentLength: 5,
      },
    );
    expect((await storage.get('images/1/0.png'))?.toString()).toBe('0123456789');
    expect((await storage.get('uploads/streamed.jpg'))?.toString()).toBe('abcde');
    const info = await storage.stat('images/1/0.png');
    expect(info).toMatchObject({ size: 10, contentType: 'image/png' });
    expect(Math.abs((info?.lastModified.getTime() ?? 0) - Date.now())).toBeLessThan(60_000);
    const part = await storage.open('images/1/0.png', { start: 2, end: 4 });
    expect(part && (await text(part))).toBe('234');
    const whole = await storage.open('images/1/0.png');
    expect(whole && (await text(whole))).toBe('0123456789');
  });

  it('keeps nothing of a stream that fails, or brings another size than announced', async () => {
    const failing = () => {
      const stream = new Readable({ read() {} });
      stream.push(Buffer.alloc(100));
      setTimeout(() => stream.destroy(new Error('client went away')), 50);
      return stream;
    };
    const cases: [string, () => Readable, number, RegExp][] = [
      ['uploads/short.png', () => Readable.from([Buffer.alloc(10)]), 20, /10 bytes came of the 20/],
      ['uploads/long.png', () => Readable.from([Buffer.alloc(30)]), 20, /30 bytes came of the 20/],
      ['uploads/failing.png', failing, 1_000, /client went away/],
    ];
    for (const [key, body, contentLength, reason] of cases) {
      await expect(
        storage.put(key, body(), { contentType: 'image/png', contentLength }),
        key,
      ).rejects.toThrow(reason);
      expect(await storage.stat(key), key).toBeUndefined();
    }
  });

  it('answers undefined for a missing object, and deletes what it is told to', async () => {
    expect(await storage.get('images/none.png')).toBeUndefined();
    expect(await storage.stat('images/none.png')).toBeUndefined();
    expect(await storage.open('images/none.png')).toBeUndefined();
    await storage.put('images/2/0.png', Buffer.from('x'), { contentType: 'image/png' });
    await storage.delete('images/2/0.png');
    await storage.delete('images/2/0.png'); // gone already: no error
    expect(await storage.get('images/2/0.png')).toBeUndefined();
  });

  it('refuses to read past maxBytes', async () => {
    await storage.put('uploads/big.png', Buffer.alloc(2_000), { contentType: 'image/png' });
    await expect(storage.get('uploads/big.png', { maxBytes: 1_000 })).rejects.toThrow(
      ObjectTooLargeError,
    );
    expect((await storage.get('uploads/big.png', { maxBytes: 2_000 }))?.length).toBe(2_000);
  });

  it('refuses hostile keys on every path, before any file or request', async () => {
    for (const key of HOSTILE_KEYS) {
      const calls = [
        () => storage.get(key),
        () => storage.put(key, Buffer.from('x'), { contentType: 'image/png' }),
        () => storage.stat(key),
        () => storage.open(key),
        () => storage.delete(key),
        () => storage.signedGet(key, 60),
        () => storage.signedPut(key, { contentType: 'image/png', contentLength: 1 }, 60),
        () => storage.removeOlderThan(`${key}/`, new Date()),
      ];
      for (const call of calls) await expect(call(), key).rejects.toThrow(InvalidKeyError);
    }
  });

  it('removes only outputs older than the cutoff, and only under the prefix', async () => {
    await storage.put('images/old/0.png', Buffer.from('o'), { contentType: 'image/png' });
    await storage.put('uploads/old.png', Buffer.from('u'), { contentType: 'image/png' });
    // Object stores keep times to the second: the cutoff falls between the two writes.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const cutoff = new Date();
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await storage.put('images/new/0.png', Buffer.from('n'), { contentType: 'image/png' });
    const swept = await storage.removeOlderThan('images/', cutoff);
    expect(swept.removed).toBeGreaterThanOrEqual(1); // and the older outputs of other tests
    expect(await storage.get('images/old/0.png')).toBeUndefined();
    expect((await storage.get('images/new/0.png'))?.toString()).toBe('n');
    expect((await storage.get('uploads/old.png'))?.toString()).toBe('u');
    expect(await storage.removeOlderThan('images/', cutoff)).toEqual({
      removed: 0,
      kept: swept.kept,
    });
  });
});
