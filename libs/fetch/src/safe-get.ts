import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { type RequestFilteringAgentOptions, useAgent } from 'request-filtering-agent';

export interface SafeGetOptions {
  maxBytes: number;
  timeoutMs: number;
  maxRedirects?: number;
  signal?: AbortSignal;
  /**
   * Addresses allowed although private (tests serving on loopback, an internal image host).
   * Everything private, loopback, link-local or reserved is refused otherwise.
   */
  allowIPAddressList?: string[];
}

/** The fetch was refused or failed in a way that retrying the same URL cannot fix. */
export class FetchRefusedError extends Error {
  override name = 'FetchRefusedError';
}

/**
 * GET a URL with SSRF protection: the address is checked after DNS resolution, at connect
 * time, on every redirect hop (so neither DNS rebinding nor a redirect reaches an internal
 * host), with a byte limit and an overall timeout.
 */
export async function safeGet(url: string, options: SafeGetOptions): Promise<Buffer> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let current = new URL(url);
  for (let hop = 0; hop <= (options.maxRedirects ?? 5); hop++) {
    if (current.protocol !== 'http:' && current.protocol !== 'https:') {
      throw new FetchRefusedError(`refusing ${current.protocol} URL`);
    }
    const response = await open(current, options, signal);
    const status = response.statusCode ?? 0;
    if (status >= 300 && status < 400 && response.headers.location) {
      response.resume();
      current = new URL(response.headers.location, current);
      continue;
    }
    if (status !== 200) {
      response.resume();
      const error = `GET ${current.host} answered ${status}`;
      throw status >= 400 && status < 500 && status !== 408 && status !== 429
        ? new FetchRefusedError(error)
        : new Error(error);
    }
    return readLimited(response, options.maxBytes);
  }
  throw new FetchRefusedError(`more than ${options.maxRedirects ?? 5} redirects`);
}

function open(url: URL, options: SafeGetOptions, signal: AbortSignal): Promise<IncomingMessage> {
  const filter: RequestFilteringAgentOptions = {
    allowIPAddressList: options.allowIPAddressList ?? [],
  };
  const get = url.protocol === 'https:' ? httpsGet : httpGet;
  return new Promise((resolve, reject) => {
    const request = get(url, { agent: useAgent(url.toString(), filter), signal }, resolve);
    request.on('error', (error) => {
      // request-filtering-agent refuses with "... is not allowed. Because, It is private IP address."
      reject(/is not allowed/.test(error.message) ? new FetchRefusedError(error.message) : error);
    });
  });
}

function readLimited(response: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(response.headers['content-length'] ?? 0);
  if (declared > maxBytes) {
    response.destroy();
    return Promise.reject(
      new FetchRefusedError(`body of ${declared} bytes is over the ${maxBytes}-byte limit`),
    );
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        response.destroy();
        reject(new FetchRefusedError(`body is over the ${maxBytes}-byte limit`));
      } else chunks.push(chunk);
    });
    response.on('end', () => resolve(Buffer.concat(chunks)));
    response.on('error', reject);
  });
}
