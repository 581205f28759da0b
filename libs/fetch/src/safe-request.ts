/**
 * safeRequest: one outbound HTTP request with SSRF protection, a byte limit and an overall
 * timeout, for anything that calls a URL a user gave us (http jobs, webhooks, image sources).
 *
 * Every hop, the first and each redirect:
 * 1. the URL must be http(s) with no userinfo, and pass the caller's `allowUrl`;
 * 2. the address is checked by request-filtering-agent after DNS resolution, at connect time
 *    (so neither DNS rebinding nor a redirect reaches a private, loopback, link-local or
 *    metadata address), unless it is in `allowIPAddressList`;
 * 3. the caller's headers were checked once: no CR/LF/NUL, no framing or hop-by-hop headers.
 *
 * Redirects (at most `maxRedirects`, default 5; one more is refused):
 * - 307/308 are followed with the same method and body;
 * - 301/302/303 are followed only for GET/HEAD (same method, no body); for any other method
 *   the 3xx is not followed and is returned as the response, for the caller to classify;
 * - a hop to another origin drops every header the caller set (Authorization, signatures),
 *   except Content-Type while the body is still sent; once dropped they stay dropped.
 *
 * Any other status is returned as it is. Refusals throw FetchRefusedError, the timeout
 * FetchTimeoutError (name 'TimeoutError'), a caller's abort its AbortError, network errors
 * their own error.
 */
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { useAgent } from 'request-filtering-agent';
import { readBody } from './read-body.ts';
import {
  checkHeaders,
  checkUrl,
  describeUrl,
  FetchRefusedError,
  FetchTimeoutError,
  parseUrl,
} from './request-checks.ts';

export { FetchRefusedError, FetchTimeoutError } from './request-checks.ts';

export type SafeMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface SafeRequestInit {
  method: SafeMethod;
  headers?: Record<string, string>;
  body?: string | Buffer;
  maxBytes: number;
  /** Past `maxBytes`: refuse (throw FetchRefusedError, the default) or keep the first bytes. */
  overLimit?: 'refuse' | 'truncate';
  /** For the whole exchange: connect, every hop, and reading the body. */
  timeoutMs: number;
  maxRedirects?: number;
  signal?: AbortSignal;
  /** Addresses or CIDRs allowed although private (tests on loopback, an internal host). */
  allowIPAddressList?: string[];
  /** Called for the first URL and every redirect hop: a refusal reason, or undefined. */
  allowUrl?: (url: URL) => string | undefined;
}

export interface SafeResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  truncated: boolean;
  /** The final URL, after redirects. */
  url: string;
  redirects: number;
  durationMs: number;
}

interface Hop {
  url: URL;
  method: SafeMethod;
  headers: Record<string, string>;
  body: Buffer | undefined;
}

export async function safeRequest(url: string, init: SafeRequestInit): Promise<SafeResponse> {
  const started = performance.now();
  const timeout = AbortSignal.timeout(init.timeoutMs);
  const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
  const aborted = () =>
    init.signal?.aborted
      ? (init.signal.reason ?? new Error('the request was aborted'))
      : new FetchTimeoutError(`the request took longer than ${init.timeoutMs} ms`);
  const maxRedirects = init.maxRedirects ?? 5;
  const body = init.body === undefined ? undefined : Buffer.from(init.body);
  let hop: Hop = {
    url: parseUrl(url),
    method: init.method,
    headers: checkHeaders(init.headers),
    body,
  };
  for (let redirects = 0; ; redirects++) {
    checkUrl(hop.url, init.allowUrl);
    const response = await send(hop, init.allowIPAddressList ?? [], signal, aborted);
    const next = redirectOf(hop, response);
    if (next) {
      response.destroy();
      if (redirects >= maxRedirects) {
        throw new FetchRefusedError(`more than ${maxRedirects} redirects`);
      }
      hop = next;
      continue;
    }
    const read = await readBody(
      response,
      { maxBytes: init.maxBytes, overLimit: init.overLimit ?? 'refuse' },
      signal,
      aborted,
    );
    return {
      status: response.statusCode ?? 0,
      headers: response.headers,
      ...read,
      url: hop.url.href,
      redirects,
      durationMs: Math.round(performance.now() - started),
    };
  }
}

/** The next hop if this response is a redirect to follow (see the file header), else undefined. */
function redirectOf(hop: Hop, response: IncomingMessage): Hop | undefined {
  const status = response.statusCode ?? 0;
  const location = response.headers.location;
  if (!location) return undefined;
  const keepsMethod = status === 307 || status === 308;
  const safeMethod = hop.method === 'GET' || hop.method === 'HEAD';
  if (!keepsMethod && !((status === 301 || status === 302 || status === 303) && safeMethod)) {
    return undefined;
  }
  const url = parseUrl(location, hop.url);
  const body = keepsMethod ? hop.body : undefined;
  let headers = hop.headers;
  if (url.origin !== hop.url.origin) {
    const type = headers['content-type'];
    headers = body !== undefined && type !== undefined ? { 'content-type': type } : {};
  }
  if (body === undefined) {
    const { 'content-type': _dropped, ...rest } = headers;
    headers = rest;
  }
  return { url, method: hop.method, headers, body };
}

function send(
  hop: Hop,
  allowIPAddressList: string[],
  signal: AbortSignal,
  aborted: () => Error,
): Promise<IncomingMessage> {
  const headers: Record<string, string | number> = { ...hop.headers };
  if (hop.body !== undefined || ['POST', 'PUT', 'PATCH'].includes(hop.method)) {
    headers['content-length'] = hop.body?.length ?? 0;
  }
  const request = hop.url.protocol === 'https:' ? httpsRequest : httpRequest;
  const agent = useAgent(hop.url.href, { allowIPAddressList });
  return new Promise((resolve, reject) => {
    const outgoing = request(
      hop.url,
      { method: hop.method, headers, agent, signal },
      (response) => {
        // One agent per hop: free its socket once this response is done with.
        response.once('close', () => agent.destroy());
        resolve(response);
      },
    );
    outgoing.on('error', (error) => {
      agent.destroy();
      // request-filtering-agent refuses with "... is not allowed. Because, It is private IP address."
      if (/is not allowed/.test(error.message)) {
        reject(new FetchRefusedError(`refusing ${describeUrl(hop.url)}: ${error.message}`));
      } else reject(signal.aborted ? aborted() : error);
    });
    outgoing.end(hop.body);
  });
}
