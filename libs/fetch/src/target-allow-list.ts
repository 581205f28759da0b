/**
 * An operator's list of the places outbound requests may go. Each entry is an origin
 * (`https://api.example.com`: any path there) or a URL prefix (`https://api.example.com/hooks/`:
 * that path and below it, at a segment boundary). Both sides are compared after the WHATWG URL
 * parser has normalised them: host lower-cased and exact (no suffix match), default port
 * dropped, `.`/`..` segments (also `%2e%2e`) resolved, so `/hooks/../admin` is `/admin`.
 */
import { z } from 'zod';

export interface AllowedTarget {
  /** `scheme://host[:port]`, as URL.origin gives it. */
  origin: string;
  /** A path that allowed paths equal or start with at a `/`; undefined allows every path. */
  path: string | undefined;
}

export function parseAllowedTarget(text: string): AllowedTarget {
  const fail = (why: string): never => {
    throw new Error(`allowed target ${JSON.stringify(text)}: ${why}`);
  };
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    fail('not a URL; give an origin (https://api.example.com) or a URL prefix');
  }
  if (!url) return fail('not a URL');
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail('only http and https');
  if (url.username !== '' || url.password !== '') fail('no user or password in the URL');
  if (/[?#]/.test(text)) fail('no query or fragment: give an origin or a path prefix');
  if (url.hostname === '') fail('no host');
  if (/%2f|%5c/i.test(url.pathname)) fail('no encoded slash or backslash in the path');
  return { origin: url.origin, path: url.pathname === '/' ? undefined : url.pathname };
}

export function targetAllowed(url: URL, targets: readonly AllowedTarget[]): boolean {
  if (url.username !== '' || url.password !== '') return false;
  return targets.some((target) => url.origin === target.origin && pathAllowed(url, target.path));
}

function pathAllowed(url: URL, prefix: string | undefined): boolean {
  if (prefix === undefined) return true;
  // An encoded slash or backslash could be decoded by the server into a segment boundary
  // (`/hooks/..%2Fadmin`): under a path prefix, such a path is not allowed.
  if (/%2f|%5c/i.test(url.pathname)) return false;
  // Nor path parameters (`;`) or a segment like `..;`: servlet containers strip the first and
  // resolve the second after the check (`/hooks/..;/admin` is `/admin` there).
  if (url.pathname.includes(';') || /(^|\/)\.\./.test(url.pathname)) return false;
  const base = prefix.endsWith('/') ? prefix : `${prefix}/`;
  return url.pathname === prefix || url.pathname.startsWith(base);
}

/** Config: a list of at most 100 targets, each parsed by parseAllowedTarget. */
export const allowedTargetsSchema = z
  .array(
    z.string().transform((text, ctx) => {
      try {
        return parseAllowedTarget(text);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
  )
  .max(100);
