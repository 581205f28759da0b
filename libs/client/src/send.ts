import type { ProblemDocument } from '@errand/contract';
import { ErrandApiError, ObjectStoreError } from './errors.ts';
import { backoffMs, RETRYABLE_STATUS, type RetryPolicy, sleep } from './retry.ts';

/** One request as the client sends it. */
export interface Call {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /**
   * A path of the API (`/v1/…`, appended to the base URL, sent with the API key), or an
   * absolute URL of another server (an object store's presigned URL: sent without the key).
   */
  path: string;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as they are, instead of `body`; their type goes in `headers`. */
  bytes?: Uint8Array | Blob;
  headers?: Record<string, string>;
  /** Whether a request that may have reached the server can be sent again. */
  repeatable: boolean;
  signal?: AbortSignal | undefined;
}

export type Send = (call: Call) => Promise<Response>;

/** `https://…` (or any `scheme:`): a URL of its own, not a path of the API. */
export const isAbsoluteUrl = (url: string) => /^[a-z][a-z0-9+.-]*:/i.test(url);

/**
 * The one place requests go out: the API key on the API's paths only, retries with backoff
 * on network errors (when repeatable), 429 and 503; any other failure thrown as an
 * `ErrandApiError` (or an `ObjectStoreError` from a store).
 */
export function makeSend(options: {
  baseUrl: string;
  apiKey: string | undefined;
  policy: RetryPolicy;
  fetch: typeof fetch;
}): Send {
  const { policy, fetch: doFetch } = options;
  const base = options.baseUrl.replace(/\/+$/, '');
  const auth: Record<string, string> = options.apiKey
    ? { authorization: `Bearer ${options.apiKey}` }
    : {};

  return async function send(call: Call): Promise<Response> {
    const foreign = isAbsoluteUrl(call.path);
    const json = call.bytes === undefined && call.body !== undefined;
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await doFetch(foreign ? call.path : `${base}${call.path}`, {
          method: call.method,
          headers: {
            ...(foreign ? {} : auth),
            ...(json ? { 'content-type': 'application/json' } : {}),
            ...call.headers,
          },
          body: call.bytes ?? (json ? JSON.stringify(call.body) : undefined),
          signal: call.signal ?? null,
        });
      } catch (error) {
        if (call.signal?.aborted || !call.repeatable || attempt >= policy.retries) throw error;
        await sleep(backoffMs(policy, attempt), call.signal);
        continue;
      }
      if (response.ok) return response;
      if (!RETRYABLE_STATUS.has(response.status) || attempt >= policy.retries) {
        if (foreign) throw new ObjectStoreError(response.status, await textOf(response));
        throw new ErrandApiError(response.status, await problemOf(response));
      }
      await response.body?.cancel();
      await sleep(backoffMs(policy, attempt, response.headers.get('retry-after')), call.signal);
    }
  };
}

async function problemOf(response: Response): Promise<ProblemDocument | undefined> {
  try {
    return (await response.json()) as ProblemDocument;
  } catch {
    return undefined;
  }
}

async function textOf(response: Response): Promise<string> {
  try {
    return await response.text();
  } catch {
    return '';
  }
}
