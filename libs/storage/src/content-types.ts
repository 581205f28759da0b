import { IMAGE_TYPES, type ImageContentType } from '@errand/contract';

const BY_EXTENSION: Record<string, ImageContentType> = {
  ...Object.fromEntries(Object.entries(IMAGE_TYPES).map(([type, ext]) => [ext, type])),
  jpeg: 'image/jpeg',
  tif: 'image/tiff',
};

/** The content type a key's extension says, `application/octet-stream` when it says none. */
export function contentTypeOf(key: string): string {
  const ext = /\.([a-z0-9]+)$/i.exec(key)?.[1]?.toLowerCase() ?? '';
  return BY_EXTENSION[ext] ?? 'application/octet-stream';
}

/**
 * What stored outputs carry: a job's outputs never change under their key (a retry writes the
 * same bytes), so a browser or CDN may keep them for as long as it likes.
 */
export const OUTPUT_CACHE_CONTROL = 'private, max-age=31536000, immutable';
