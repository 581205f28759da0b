import { z } from 'zod';
import { HEADER_NAME, INVALID_HEADER_VALUE, isFramingHeader } from './http-headers.ts';
import { outboundUrl } from './job-meta.ts';

/*
 * The `http` job type: Errand calls a service for the caller, reliably. The request is signed
 * with the caller's signing secret (Standard Webhooks headers), so the callee can trust it.
 */

export const httpMethods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** The signature headers: Errand sets them on every request it makes (`libs/signing`). */
export const SIGNATURE_HEADERS: ReadonlySet<string> = new Set([
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
]);

const headerName = z
  .string()
  .max(64)
  .regex(HEADER_NAME, 'an HTTP header name (a token of at most 64)')
  .refine(
    (name) => !isFramingHeader(name) && !SIGNATURE_HEADERS.has(name.toLowerCase()),
    'Errand sets this header itself, or it frames the request',
  );
const headerValue = z
  .string()
  .max(4096)
  .refine((value) => !INVALID_HEADER_VALUE.test(value), 'no control characters (CR, LF, NUL)');

export const MAX_HTTP_BODY = 256 * 1024;
export const MAX_HTTP_TIMEOUT_MS = 120_000;

/** The payload of an http job. A body is a string, sent as it is (set its content-type). */
export const httpPayload = z
  .strictObject({
    url: outboundUrl,
    method: z.enum(httpMethods),
    headers: z
      .record(headerName, headerValue)
      .refine((headers) => Object.keys(headers).length <= 50, 'at most 50 headers')
      .refine(
        (headers) =>
          new Set(Object.keys(headers).map((name) => name.toLowerCase())).size ===
          Object.keys(headers).length,
        'a header name given twice (names are not case-sensitive)',
      )
      .optional(),
    body: z.string().max(MAX_HTTP_BODY).optional(),
    timeoutMs: z.int().min(100).max(MAX_HTTP_TIMEOUT_MS).optional(),
  })
  .refine((payload) => payload.method !== 'GET' || payload.body === undefined, {
    message: 'a GET has no body',
    path: ['body'],
  });

export type HttpPayload = z.infer<typeof httpPayload>;

/** How many bytes of the answer an http job keeps as its result. */
export const HTTP_RESULT_BYTES = 1024;

export interface HttpResult {
  status: number;
  durationMs: number;
  /** The URL that answered, after redirects. */
  url: string;
  contentType: string | null;
  /** The first KiB of the answer, as UTF-8 text. */
  body: string;
  truncated: boolean;
}
