import { HEADER_NAME, INVALID_HEADER_VALUE, isFramingHeader } from '@errand/contract';

/**
 * The refusals safeRequest makes before it opens a connection: the URL's scheme and userinfo,
 * an operator's `allowUrl`, and the headers a caller asks to send. The address itself is
 * checked later, at connect time, by request-filtering-agent (after DNS resolution).
 */

/** The fetch was refused or failed in a way that retrying the same URL cannot fix. */
export class FetchRefusedError extends Error {
  override name = 'FetchRefusedError';
}

/** The request (connect, headers and body together) took longer than its `timeoutMs`. */
export class FetchTimeoutError extends Error {
  override name = 'TimeoutError';
}

/** A URL for messages and logs: no query, which may carry a token. */
export const describeUrl = (url: URL): string => `${url.origin}${url.pathname}`;

/** Parse and check one hop's URL; every hop goes through here. */
export function checkUrl(url: URL, allowUrl: ((url: URL) => string | undefined) | undefined): void {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new FetchRefusedError(`refusing a ${url.protocol} URL: only http and https are fetched`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new FetchRefusedError(`refusing ${describeUrl(url)}: a URL with credentials in it`);
  }
  // Refuse IPv6 literals that embed an IPv4 address (::ffff:a.b.c.d and the like) ourselves
  // too: the agent refuses them as non-unicast, and this makes it not hinge on its ranges.
  if (/^\[::(ffff:)?[0-9a-f]{1,4}:[0-9a-f]{1,4}\]$/i.test(url.hostname)) {
    throw new FetchRefusedError(`refusing ${describeUrl(url)}: an IPv4-mapped IPv6 address`);
  }
  const reason = allowUrl?.(url);
  if (reason !== undefined) throw new FetchRefusedError(`refusing ${describeUrl(url)}: ${reason}`);
}

export function parseUrl(text: string, base?: URL): URL {
  try {
    return new URL(text, base);
  } catch {
    throw new FetchRefusedError(`refusing an invalid URL${base ? ' in a redirect' : ''}`);
  }
}

/** The caller's headers, checked; names lower-cased. */
export function checkHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  const checked: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (!HEADER_NAME.test(name))
      throw new FetchRefusedError(`refusing header name ${JSON.stringify(name)}`);
    const lower = name.toLowerCase();
    if (isFramingHeader(lower)) {
      throw new FetchRefusedError(
        `refusing header ${name}: it is set by the client, not the caller`,
      );
    }
    if (typeof value !== 'string' || INVALID_HEADER_VALUE.test(value)) {
      throw new FetchRefusedError(
        `refusing the value of header ${name}: it holds a control character (CR, LF, NUL…)`,
      );
    }
    if (lower in checked) throw new FetchRefusedError(`refusing header ${name} given twice`);
    checked[lower] = value;
  }
  return checked;
}
