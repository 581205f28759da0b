/**
 * The image baseline: a plain sharp loop in a process of its own, CONCURRENCY jobs at once.
 * COUNT times: read the fixture file, render RENDITIONS with the calls Errand's image
 * processor makes (auto-rotate, resize, encode), write each output to a file. Says "warm"
 * when it starts job number WARM, "done" when every output is written, then idles until
 * SIGTERM, so that its CPU time can still be read.
 * Env: FIXTURE, OUT_DIR, COUNT, CONCURRENCY, WARM.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { RENDITIONS } from './image-fixture.ts';
import { pooled } from './measure.ts';

const env = process.env;
const fixture = env.FIXTURE ?? '';
const outDir = env.OUT_DIR ?? '';
const count = Number(env.COUNT ?? 0);
const warm = Number(env.WARM ?? 0);

console.log('sharp loop ready');
await pooled([...Array(count).keys()], Number(env.CONCURRENCY ?? 1), async (job) => {
  if (job === warm) console.log('warm');
  const input = await readFile(fixture);
  for (const [index, output] of RENDITIONS.entries()) {
    let image = sharp(input, { limitInputPixels: 100_000_000, failOn: 'error' }).rotate();
    if (output.width || output.height) {
      image = image.resize({
        width: output.width,
        height: output.height,
        fit: output.fit ?? 'inside',
      });
    }
    const data = await image
      .toFormat(output.format, output.quality ? { quality: output.quality } : {})
      .toBuffer();
    await writeFile(join(outDir, `${job}-${index}.${output.format}`), data);
  }
});
console.log('done');
const idle = setInterval(() => {}, 60_000);
process.once('SIGTERM', () => clearInterval(idle));
