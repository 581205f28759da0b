import { timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const changesState = (req: Request) => !SAFE_METHODS.has(req.method);

const same = (a: string, b: string) => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

/** Whether the request comes from a page of this dashboard: its `Origin` is ours. */
export function sameOrigin(req: Request): boolean {
  const origin = req.headers.origin;
  const host = req.headers.host;
  return typeof origin === 'string' && !!host && origin === `${req.protocol}://${host}`;
}

/**
 * Why a state-changing request is refused, or undefined when it may go on: it must come
 * from our origin and carry the token of its session — in `X-CSRF-Token`, or in a form's
 * `csrf` field for the plain forms (logout).
 */
export function csrfProblem(req: Request, token: string): string | undefined {
  if (!sameOrigin(req)) return 'the Origin header is missing or not this dashboard';
  const header = req.headers['x-csrf-token'];
  const field = (req.body as { csrf?: unknown } | undefined)?.csrf;
  const sent = typeof header === 'string' ? header : typeof field === 'string' ? field : '';
  if (!sent) return 'the X-CSRF-Token header is missing';
  return same(sent, token) ? undefined : 'the CSRF token does not match the session';
}
