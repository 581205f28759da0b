import { InvalidKeyError, type Storage } from '@errand/storage';
import { PermanentError, type Processor } from '../processor.ts';

export interface ImageCleanupDeps {
  storage: Storage;
  /** The clock the age is measured from; tests fix it. */
  now?: () => number;
}

/** Where the image processor writes its outputs (`images/<job id>/<n>.<ext>`); inputs live elsewhere. */
const OUTPUTS = 'images/';
const HOUR_MS = 3_600_000;

/**
 * Delete the stored image outputs last written more than `olderThanHours` ago, and the folders
 * that leaves empty. Inputs (`{ key }` sources such as `uploads/…`) are never touched. A sweep
 * cut off by its timeout keeps what it did; the next one goes on from there.
 */
export const makeImageCleanupProcessor =
  ({ storage, now = Date.now }: ImageCleanupDeps): Processor<'image-cleanup'> =>
  async ({ olderThanHours }, ctx) => {
    const cutoff = new Date(now() - olderThanHours * HOUR_MS);
    try {
      return await storage.removeOlderThan(OUTPUTS, cutoff, ctx.signal);
    } catch (error) {
      // `images/` leads out of the storage root (a link): no retry will change that.
      if (error instanceof InvalidKeyError) throw new PermanentError(error.message);
      throw error;
    }
  };
