import { FetchRefusedError, safeRequest } from './safe-request.ts';

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

/**
 * GET a URL's body through safeRequest (SSRF checks on every hop, byte limit, timeout).
 * Anything but a 200 fails: a 4xx other than 408/429 with FetchRefusedError (retrying the
 * same URL cannot fix it), anything else with a plain Error (it may pass on a retry).
 */
export async function safeGet(url: string, options: SafeGetOptions): Promise<Buffer> {
  const response = await safeRequest(url, { method: 'GET', ...options });
  const { status } = response;
  if (status === 200) return response.body;
  const error = `GET ${new URL(response.url).host} answered ${status}`;
  throw status >= 400 && status < 500 && status !== 408 && status !== 429
    ? new FetchRefusedError(error)
    : new Error(error);
}
