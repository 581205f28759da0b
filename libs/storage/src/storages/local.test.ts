import { mkdir, mkdtemp, readdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidKeyError } from '../storage.ts';
import { LocalStorage } from './local.ts';

const HOUR_MS = 3_600_000;
const ago = (hours: number) => new Date(Date.now() - hours * HOUR_MS);

describe('LocalStorage.removeOlderThan (real files)', () => {
  let root: string;
  let outside: string;
  let storage: LocalStorage;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'errand-storage-'));
    outside = await mkdtemp(join(tmpdir(), 'errand-storage-outside-'));
    storage = new LocalStorage(root);
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  /** A real file (or folder), last modified `hours` ago. */
  const aged = async (path: string, hours: number, kind: 'file' | 'dir' = 'file') => {
    const full = join(root, path);
    if (kind === 'dir') await mkdir(full, { recursive: true });
    else {
      await mkdir(join(full, '..'), { recursive: true });
      await writeFile(full, path);
    }
    await utimes(full, ago(hours), ago(hours));
  };
  const tree = async (dir = root): Promise<string[]> => {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries
      .map((e) => join(e.parentPath, e.name).slice(dir.length + 1) + (e.isDirectory() ? '/' : ''))
      .sort();
  };

  it('deletes old files under the prefix and the folders that leaves empty', async () => {
    await aged('images/1/0.webp', 30);
    await aged('images/1/1.png', 25);
    await aged('images/2/0.webp', 30);
    await aged('images/2/1.webp', 1);
    await aged('images/repeat/thumbs/1795592772124/0.png', 48); // a schedule's fire, nested
    await aged('images/3/0.jpeg.4242.tmp', 48); // a crashed write's leftover
    await aged('images/3/1.jpeg.4243.tmp', 0); // a write in progress
    await aged('images/old-empty', 48, 'dir');
    await aged('images/new-empty', 0, 'dir'); // just made for a first output
    await aged('uploads/photo.jpg', 500); // not under the prefix
    await aged('images-other/0.webp', 500); // a sibling, not under the prefix

    expect(await storage.removeOlderThan('images/', ago(24))).toEqual({ removed: 5, kept: 2 });
    expect(await tree()).toEqual([
      'images-other/',
      'images-other/0.webp',
      'images/',
      'images/2/',
      'images/2/1.webp',
      'images/3/',
      'images/3/1.jpeg.4243.tmp',
      'images/new-empty/',
      'uploads/',
      'uploads/photo.jpg',
    ]);
    expect(await storage.removeOlderThan('images/', ago(24))).toEqual({ removed: 0, kept: 2 });
  });

  it('keeps the prefix folder itself, even emptied', async () => {
    await aged('images/1/0.webp', 30);
    expect(await storage.removeOlderThan('images/', ago(24))).toEqual({ removed: 1, kept: 0 });
    expect(await tree()).toEqual(['images/']);
  });

  it('finds nothing to do under a prefix, or a root, that does not exist', async () => {
    expect(await storage.removeOlderThan('images/', new Date())).toEqual({ removed: 0, kept: 0 });
    const none = new LocalStorage(join(root, 'not-made'));
    expect(await none.removeOlderThan('images/', new Date())).toEqual({ removed: 0, kept: 0 });
  });

  it('refuses prefixes that leave the root, and follows no link out of it', async () => {
    await writeFile(join(outside, 'precious.txt'), 'x');
    await utimes(join(outside, 'precious.txt'), ago(500), ago(500));
    for (const prefix of ['../', '/etc/', 'images/../../', '.', '']) {
      await expect(storage.removeOlderThan(prefix, new Date())).rejects.toThrow(InvalidKeyError);
    }
    await symlink(outside, join(root, 'linked'));
    await expect(storage.removeOlderThan('linked/', new Date())).rejects.toThrow(/out of the/);

    await aged('images/1/0.webp', 30);
    await symlink(outside, join(root, 'images', 'dir-link'));
    await symlink(join(outside, 'precious.txt'), join(root, 'images', '1', 'file-link'));
    expect(await storage.removeOlderThan('images/', new Date())).toEqual({ removed: 1, kept: 2 });
    expect(await readdir(outside)).toEqual(['precious.txt']);
    expect(await tree(join(root, 'images'))).toEqual(['1/', '1/file-link', 'dir-link']);
  });

  it('checks the abort signal between files', async () => {
    await aged('images/1/0.webp', 30);
    await aged('images/2/0.webp', 30);
    const controller = new AbortController();
    controller.abort(new Error('attempt timed out'));
    await expect(storage.removeOlderThan('images/', new Date(), controller.signal)).rejects.toThrow(
      'attempt timed out',
    );
    expect(await tree()).toContain('images/1/0.webp');
  });
});
