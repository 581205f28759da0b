import { mkdir, mkdtemp, readdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage } from '@errand/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../../test/processor.testkit.ts';
import { PermanentError } from '../processor.ts';
import { makeImageCleanupProcessor } from './image-cleanup.ts';

const HOUR_MS = 3_600_000;
/** A fixed clock: ages are measured from it, not from when the test runs. */
const NOW = Date.parse('2026-11-25T03:30:00Z');

describe('image clean-up processor (real files)', () => {
  let dir: string;
  let outside: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'errand-cleanup-'));
    outside = await mkdtemp(join(tmpdir(), 'errand-cleanup-outside-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  /** A real file under `root`, last written `hoursAgo` hours before NOW. */
  async function file(root: string, path: string, hoursAgo: number) {
    const full = join(root, path);
    await mkdir(join(full, '..'), { recursive: true });
    await writeFile(full, 'x');
    const when = new Date(NOW - hoursAgo * HOUR_MS);
    await utimes(full, when, when);
  }
  const clean = (root: string) =>
    makeImageCleanupProcessor({ storage: new LocalStorage(root), now: () => NOW });

  it('deletes old outputs and the folders it empties; inputs and new outputs stay', async () => {
    await file(dir, 'images/1/0.webp', 50);
    await file(dir, 'images/1/1.png', 49);
    await file(dir, 'images/2/0.webp', 50);
    await file(dir, 'images/2/1.webp', 1); // folder 2 keeps this one
    await file(dir, 'images/3/0.jpeg', 2);
    await file(dir, 'images/repeat/thumbs/1795592772124/0.png', 72); // a schedule's fire
    await file(dir, 'uploads/photo.jpg', 500); // an input: never touched
    await writeFile(join(outside, 'keep.txt'), 'x');
    await symlink(outside, join(dir, 'images', 'link')); // not followed, not deleted

    const first = await clean(dir)({ olderThanHours: 48 }, testContext('c1'));
    expect(first).toEqual({ removed: 4, kept: 3 });
    expect((await readdir(join(dir, 'images'))).sort()).toEqual(['2', '3', 'link']);
    expect(await readdir(join(dir, 'images', '2'))).toEqual(['1.webp']);
    expect(await readdir(join(dir, 'uploads'))).toEqual(['photo.jpg']);
    expect(await readdir(outside)).toEqual(['keep.txt']);
    expect(await clean(dir)({ olderThanHours: 48 }, testContext('c2'))).toEqual({
      removed: 0,
      kept: 3,
    });
  });

  it('is fine with no outputs at all', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'errand-cleanup-empty-'));
    try {
      expect(await clean(empty)({ olderThanHours: 1 }, testContext())).toEqual({
        removed: 0,
        kept: 0,
      });
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('fails for good when images/ leads out of the storage root', async () => {
    const linked = await mkdtemp(join(tmpdir(), 'errand-cleanup-linked-'));
    try {
      await file(outside, 'elsewhere/0.webp', 500);
      await symlink(join(outside, 'elsewhere'), join(linked, 'images'));
      const error = await clean(linked)({ olderThanHours: 1 }, testContext()).catch((e) => e);
      expect(error).toBeInstanceOf(PermanentError);
      expect(await readdir(join(outside, 'elsewhere'))).toEqual(['0.webp']);
    } finally {
      await rm(linked, { recursive: true, force: true });
    }
  });

  it('stops when its attempt is aborted', async () => {
    await file(dir, 'images/9/0.webp', 100);
    const controller = new AbortController();
    controller.abort(new Error('timeout'));
    await expect(
      clean(dir)({ olderThanHours: 1 }, { ...testContext(), signal: controller.signal }),
    ).rejects.toThrow('timeout');
    expect(await readdir(join(dir, 'images', '9'))).toEqual(['0.webp']);
  });
});
