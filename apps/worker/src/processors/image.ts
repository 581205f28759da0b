import { IMAGE_TYPES, type ImageOutput, type ImagePayload } from '@errand/contract';
import { FetchRefusedError, type SafeGetOptions, safeGet } from '@errand/fetch';
import {
  InvalidKeyError,
  type ObjectLinks,
  ObjectTooLargeError,
  OUTPUT_CACHE_CONTROL,
  type Storage,
} from '@errand/storage';
import sharp, { type OutputInfo } from 'sharp';
import { PermanentError, type Processor } from '../processor.ts';

export interface ImageDeps {
  storage: Storage;
  /** The download URL each output's result carries. */
  links: ObjectLinks;
  /** Download limits and SSRF allow-list for `{ url }` sources; `maxBytes` bounds stored sources too. */
  fetch: Omit<SafeGetOptions, 'signal'>;
  /** sharp's `limitInputPixels`: larger images (decompression bombs) fail permanently. */
  maxInputPixels: number;
}

const CONTENT_TYPE = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
} as const;

async function loadSource(source: ImagePayload['source'], deps: ImageDeps, signal: AbortSignal) {
  if ('key' in source) {
    let body: Buffer | undefined;
    try {
      body = await deps.storage.get(source.key, { maxBytes: deps.fetch.maxBytes });
    } catch (error) {
      if (error instanceof ObjectTooLargeError || error instanceof InvalidKeyError)
        throw new PermanentError(`cannot use the source: ${error.message}`);
      throw error; // the store down or refusing: retried
    }
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
 * A store that fails mid-job fails the attempt, to be retried; its error names the store.
 */
export const makeImageProcessor =
  (deps: ImageDeps): Processor<'image'> =>
  async ({ source, outputs }, ctx) => {
    const input = await loadSource(source, deps, ctx.signal);
    const results: ImageOutput[] = [];
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
      const contentType = CONTENT_TYPE[output.format];
      const key = `images/${ctx.id.replaceAll(':', '/')}/${index}.${IMAGE_TYPES[contentType]}`;
      await deps.storage.put(key, rendered.data, {
        contentType,
        cacheControl: OUTPUT_CACHE_CONTROL,
      });
      const { width, height, size } = rendered.info;
      const link = await deps.links.download(key);
      results.push({
        key,
        format: output.format,
        contentType,
        bytes: size,
        width,
        height,
        ...link,
      });
      await ctx.progress(Math.round(((index + 1) / outputs.length) * 100));
    }
    return { outputs: results };
  };
