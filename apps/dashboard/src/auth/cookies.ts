import { parseCookie } from 'cookie';
import type { CookieOptions, Request } from 'express';

export const SESSION_COOKIE = 'errand_session';
export const LOGIN_COOKIE = 'errand_login';

/** Longer than any header of ours: such a header is hostile, and nothing is read from it. */
const MAX_HEADER = 8_192;

/** One cookie of the request (the first of its name), or undefined. */
export function cookieOf(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header || header.length > MAX_HEADER) return undefined;
  return parseCookie(header)[name];
}

/** HttpOnly, SameSite=Strict; Secure over TLS (or always, by configuration). */
export const cookieOptions = (req: Request, secure: boolean, maxAgeMs?: number): CookieOptions => ({
  httpOnly: true,
  sameSite: 'strict',
  secure: secure || req.secure,
  path: '/',
  ...(maxAgeMs === undefined ? {} : { maxAge: maxAgeMs }),
});
