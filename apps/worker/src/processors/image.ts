import type { ImagePayload } from '@errand/contract';
import { FetchRefusedError, type SafeGetOptions, safeGet } from '@errand/fetch';
import type { Storage } from '@errand/storage';
import sharp, { type OutputInfo } from 'sharp';
import { PermanentError, type Processor } from '../processor.ts';

export interface ImageDeps {
  storage: Storage;
  /** Download limits and SSRF allow-list for `{ url }` sources. */
  fetch: Omit<SafeGetOptions, 'signal'>;
  /** sharp's `limitInputPixels`: larger images (decompression bombs) fail permanently. */
  maxInputPixels: number;
}

const EXTENSION = { jpeg: 'jpg', png: 'png', webp: 'webp', avif: 'avif' } as const;

async function loadSource(source: ImagePayload['source'], deps: ImageDeps, signal: AbortSignal) {
  if ('key' in source) {
    const body = await deps.storage.get(source.key);
    if (!body) throw new PermanentError(`no stored object has key "${source.key}"`);
    return body;
  }
  try {
    return await safeGet(source.url, { ...deps.fetch, signal });
  } catch (error) {
    if (error instanceof FetchRefusedError)
      throw new PermanentError(`cannot fetch the source: ${error.message}`);
    throw error;
  }
}

/**
 * Render each requested output of one source image with sharp and store it under
 * `images/<job id>/<n>.<ext>`; the same job id always writes the same keys, so a retry
 * overwrites rather than adds. A schedule's fire (`repeat:<schedule>:<ms>`) writes under
 * `images/repeat/<schedule>/<ms>/`: ":" is no key character, and no API job id has a "/".
 */
export const makeImageProcessor =
  (deps: ImageDeps): Processor<'image'> =>
  async ({ source, outputs }, ctx) => {
    const input = await loadSource(source, deps, ctx.signal);
    const results = [];
    for (const [index, output] of outputs.entries()) {
      ctx.signal.throwIfAborted();
      let image = sharp(input, { limitInputPixels: deps.maxInputPixels, failOn: 'error' }).rotate();
      if (output.width || output.height) {
        image = image.resize({
          width: output.width,
          height: output.height,
          fit: output.fit ?? 'inside',
        });
      }
      image = image.toFormat(output.format, output.quality ? { quality: output.quality } : {});
      let rendered: { data: Buffer; info: OutputInfo };
      try {
        rendered = await image.toBuffer({ resolveWithObject: true });
      } catch (error) {
        throw new PermanentError(`cannot process the image: ${(error as Error).message}`);
      }
      const key = `images/${ctx.id.replaceAll(':', '/')}/${index}.${EXTENSION[output.format]}`;
      await deps.storage.put(key, rendered.data);
      const { width, height, size } = rendered.info;
      results.push({ key, format: output.format, bytes: size, width, height });
      await ctx.progress(Math.round(((index + 1) / outputs.length) * 100));
    }
    return { outputs: results };
  };
