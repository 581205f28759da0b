import { HttpProblem } from '@errand/http';
import { checkKey, InvalidKeyError, OUTPUT_CACHE_CONTROL } from '@errand/storage';
import type { RequestHandler } from 'express';
import { byteRangeOf } from '../byte-range.ts';
import type { Deps } from '../deps.ts';
import { withStorage } from '../storage-errors.ts';

/** Only image jobs' outputs are served; sources stay with whoever uploaded them. */
const SERVED = 'images/';

/**
 * GET /v1/objects/{key}: a stored output, streamed with its content type and cache headers,
 * whole or one byte range. What an output's `url` names when the storage is local files;
 * it serves an object store's outputs too, for callers that cannot reach the store.
 */
export const getObject =
  ({ storage, logger }: Deps): RequestHandler =>
  async (req, res) => {
    const key = keyOf(req.params.key);
    const info = await withStorage(logger, () => storage.stat(key));
    if (!info) throw notFound(key);
    // Ranges are a GET's only (RFC 9110 §14.2): a HEAD gets the whole object's headers.
    const range = req.method === 'GET' ? byteRangeOf(req.get('range'), info.size) : undefined;
    // Opened before any header is set: an object gone meanwhile, or a store that fails now,
    // answers a problem without the year-long cache-control of an output.
    const body =
      req.method === 'HEAD' ? undefined : await withStorage(logger, () => storage.open(key, range));
    if (req.method !== 'HEAD' && !body) throw notFound(key);
    res.set({
      'content-type': info.contentType,
      'cache-control': OUTPUT_CACHE_CONTROL,
      'last-modified': info.lastModified.toUTCString(),
      'accept-ranges': 'bytes',
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'; sandbox",
    });
    if (range) {
      res.status(206).set('content-range', `bytes ${range.start}-${range.end}/${info.size}`);
    }
    res.set('content-length', String(range ? range.end - range.start + 1 : info.size));
    if (!body) {
      res.end();
      return;
    }
    body.on('error', (error) => {
      logger.warn({ err: error.message, key }, 'object stream failed');
      res.destroy(error);
    });
    body.pipe(res);
  };

/** The key from the path's segments, or a 404: no traversal, nothing outside the outputs. */
function keyOf(segments: unknown): string {
  const key = Array.isArray(segments) ? segments.join('/') : String(segments);
  try {
    if (key.startsWith(SERVED)) return checkKey(key);
  } catch (error) {
    if (!(error instanceof InvalidKeyError)) throw error;
  }
  throw notFound(key);
}

const notFound = (key: string) =>
  new HttpProblem('object-not-found', `No stored output has key "${key.slice(0, 80)}".`);
