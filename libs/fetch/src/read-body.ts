import type { IncomingMessage } from 'node:http';
import { FetchRefusedError } from './request-checks.ts';

export interface ReadLimits {
  maxBytes: number;
  overLimit: 'refuse' | 'truncate';
}

/**
 * Read a response body up to `maxBytes`. Past it, either refuse (FetchRefusedError) or keep the
 * first `maxBytes` and stop reading (`truncated`). A declared Content-Length over the limit is
 * refused before a byte is read. `aborted` turns an abort (timeout, caller) into its error.
 */
export function readBody(
  response: IncomingMessage,
  limits: ReadLimits,
  signal: AbortSignal,
  aborted: () => Error,
): Promise<{ body: Buffer; truncated: boolean }> {
  const declared = Number(response.headers['content-length'] ?? 0);
  if (declared > limits.maxBytes && limits.overLimit === 'refuse') {
    response.destroy();
    return Promise.reject(
      new FetchRefusedError(`body of ${declared} bytes is over the ${limits.maxBytes}-byte limit`),
    );
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      outcome();
    };
    const onAbort = () => {
      response.destroy();
      settle(() => reject(aborted()));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort);
    response.on('data', (chunk: Buffer) => {
      if (settled) return;
      if (size + chunk.length <= limits.maxBytes) {
        chunks.push(chunk);
        size += chunk.length;
        return;
      }
      response.destroy();
      if (limits.overLimit === 'refuse') {
        settle(() =>
          reject(new FetchRefusedError(`body is over the ${limits.maxBytes}-byte limit`)),
        );
      } else {
        chunks.push(chunk.subarray(0, limits.maxBytes - size));
        settle(() => resolve({ body: Buffer.concat(chunks), truncated: true }));
      }
    });
    response.on('end', () =>
      settle(() => resolve({ body: Buffer.concat(chunks), truncated: false })),
    );
    response.on('error', (error) => settle(() => reject(signal.aborted ? aborted() : error)));
    // A connection cut before the end: neither 'end' nor always 'error'.
    response.on('close', () =>
      settle(() => reject(new Error('the connection closed before the body ended'))),
    );
  });
}
