import type { CookieOptions, Request } from 'express';

export const SESSION_COOKIE = 'errand_session';
export const LOGIN_COOKIE = 'errand_login';

/** One cookie of the request, or undefined; a header of hostile shape yields nothing. */
export function cookieOf(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header || header.length > 8_192) return undefined;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

/** HttpOnly, SameSite=Strict; Secure over TLS (or always, by configuration). */
export const cookieOptions = (req: Request, secure: boolean, maxAgeMs?: number): CookieOptions => ({
  httpOnly: true,
  sameSite: 'strict',
  secure: secure || req.secure,
  path: '/',
  ...(maxAgeMs === undefined ? {} : { maxAge: maxAgeMs }),
});
