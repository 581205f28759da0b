import { S3Server } from '@errand/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage } from '../location.ts';
import { StorageError } from '../storage.ts';
import type { S3Storage } from './s3.ts';

/** What only an object store does, against a real S3-protocol server (s3rver, its own process). */
describe('S3Storage (real S3 protocol server)', () => {
  let s3: S3Server;
  let storage: S3Storage;

  beforeAll(async () => {
    s3 = await S3Server.start();
    storage = openStorage(s3.settings('signed')) as S3Storage;
  });
  afterAll(async () => {
    storage.close();
    await s3.stop();
  });

  it('keeps the content type and cache headers it was given', async () => {
    await storage.put('images/1/0.webp', Buffer.from('webp'), {
      contentType: 'image/webp',
      cacheControl: 'private, max-age=60',
    });
    const { url } = await storage.signedGet('images/1/0.webp', 60);
    const answer = await fetch(url);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('image/webp');
    expect(answer.headers.get('cache-control')).toBe('private, max-age=60');
    expect(await answer.text()).toBe('webp');
  });

  it('gives presigned GET and PUT URLs a plain HTTP client uses, under the prefix, until they expire', async () => {
    const put = await storage.signedPut(
      'uploads/presigned.png',
      { contentType: 'image/png', contentLength: 5 },
      60,
    );
    expect(put.url).toMatch(/\/errand-test\/signed\/uploads\/presigned\.png\?/);
    expect(put.url).toContain('X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost');
    expect(put.url).not.toContain('checksum'); // no checksum of an empty body signed in
    expect(put.expiresAt.getTime() - Date.now()).toBeGreaterThan(55_000);
    const sent = await fetch(put.url, {
      method: 'PUT',
      headers: { 'content-type': 'image/png' },
      body: 'hello',
    });
    expect(sent.status).toBe(200);
    expect((await storage.get('uploads/presigned.png'))?.toString()).toBe('hello');

    const get = await storage.signedGet('uploads/presigned.png', 1);
    expect((await fetch(get.url)).status).toBe(200);
    expect((await fetch(get.url, { headers: { range: 'bytes=1-3' } })).status).toBe(206);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    expect((await fetch(get.url)).status).toBe(403);
  });

  it('signs for the public endpoint when callers reach the store by another address', async () => {
    const settings = s3.settings('signed', { S3_PUBLIC_ENDPOINT: 'https://images.example.com' });
    const publicStore = openStorage(settings);
    const { url } = (await publicStore.signedGet('images/1/0.webp', 60)) ?? { url: '' };
    expect(url).toMatch(
      /^https:\/\/images\.example\.com\/errand-test\/signed\/images\/1\/0\.webp\?/,
    );
    publicStore.close();
  });

  it('fails start-up with a reason for a missing bucket, unknown credentials or an unreachable store', async () => {
    const check = (overrides: Record<string, string>) =>
      openStorage(s3.settings('signed', overrides)).check();
    await expect(check({ STORAGE_URL: 's3://no-such-bucket/x' })).rejects.toThrow(
      /STORAGE_URL: s3:\/\/no-such-bucket\/x\/ at http:\/\/127\.0\.0\.1:\d+: no such bucket/,
    );
    await expect(check({ S3_ACCESS_KEY_ID: 'WRONG' })).rejects.toThrow(
      /access denied: check the credentials/,
    );
    await expect(check({ S3_ENDPOINT: 'http://127.0.0.1:9' })).rejects.toThrow(
      /cannot reach the store \(ECONNREFUSED.*check S3_ENDPOINT/,
    );
  });

  it('names the store and the key when it goes down mid-work, and works again once it is back', async () => {
    await storage.put('images/2/0.png', Buffer.from('before'), { contentType: 'image/png' });
    await s3.kill();
    try {
      const error = await storage
        .put('images/2/1.png', Buffer.from('during'), { contentType: 'image/png' })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageError);
      expect((error as Error).message).toMatch(
        /^s3:\/\/errand-test\/signed\/ at http:\/\/127\.0\.0\.1:\d+: writing "images\/2\/1\.png" failed: ECONNREFUSED/,
      );
      expect((error as Error).message).not.toContain('S3RVER'); // no credential in messages
      await expect(storage.get('images/2/0.png')).rejects.toThrow(/reading "images\/2\/0\.png"/);
      await expect(storage.removeOlderThan('images/', new Date())).rejects.toThrow(/listing/);
    } finally {
      await s3.restart();
    }
    expect((await storage.get('images/2/0.png'))?.toString()).toBe('before');
  });
});
