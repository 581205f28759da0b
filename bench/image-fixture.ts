import type { ImagePayload } from '@errand/contract';
import sharp from 'sharp';

/** What every bench image job asks for: a web-sized WebP and a square JPEG thumbnail. */
export const RENDITIONS: ImagePayload['outputs'] = [
  { width: 1024, format: 'webp', quality: 80 },
  { width: 256, height: 256, fit: 'cover', format: 'jpeg', quality: 80 },
];

/**
 * A photo-like JPEG of `width` × `height`: smooth colour waves with grain, so that it decodes
 * and compresses like a photo (a flat colour would flatter both sides). The same bytes each run.
 */
export async function photoFixture(width = 2048, height = 1536): Promise<Buffer> {
  const pixels = new Uint8ClampedArray(width * height * 3);
  let seed = 42;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      const grain = (seed % 25) - 12;
      const i = (y * width + x) * 3;
      pixels[i] = 128 + 90 * Math.sin(x / 97 + y / 211) + grain;
      pixels[i + 1] = 128 + 90 * Math.sin(y / 73) * Math.cos(x / 151) + grain;
      pixels[i + 2] = 128 + 90 * Math.cos((x + y) / 127) + grain;
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 85 })
    .toBuffer();
}
