import { timingSafeEqual } from 'node:crypto';
import { HttpProblem } from '@errand/http';
import type { RequestHandler, Response } from 'express';
import { type ApiKey, type Scope, scopes, sha256 } from './api-keys.ts';

/** Who is calling: an API key, or `anonymous` while no keys are configured (loopback only). */
export const ANONYMOUS: ApiKey = {
  name: 'anonymous',
  hash: Buffer.alloc(32),
  scopes: new Set(scopes),
  rateLimit: undefined,
  allowedTargets: [],
};

export const callerOf = (res: Response): ApiKey => res.locals.caller ?? ANONYMOUS;

const challenge = { 'WWW-Authenticate': 'Bearer realm="errand"' };

const BEARER = /^Bearer ([\x21-\x7e]{1,512})$/i;

/** The secret of an `Authorization: Bearer <key>` header, if it has that form. */
export const bearerOf = (header: string | undefined) => BEARER.exec(header ?? '')?.[1];

/**
 * The configured key whose secret this is: the SHA-256 of the given key is compared with every
 * stored hash in constant time, without stopping at a match, so timing tells nothing about
 * which key (or how much of one) was right.
 */
export function keyOf(keys: readonly ApiKey[], secret: string): ApiKey | undefined {
  const hash = sha256(secret);
  let found: ApiKey | undefined;
  for (const key of keys) {
    if (timingSafeEqual(hash, key.hash) && !found) found = key;
  }
  return found;
}

/** Check `Authorization: Bearer <key>` against the configured keys (`keyOf`). */
export function authenticate(keys: readonly ApiKey[]): RequestHandler {
  return (req, res, next) => {
    if (keys.length === 0) {
      res.locals.caller = ANONYMOUS;
      return next();
    }
    const secret = bearerOf(req.get('authorization'));
    if (!secret) {
      throw new HttpProblem('unauthorized', 'Send an API key as "Authorization: Bearer <key>".', {
        headers: challenge,
      });
    }
    const found = keyOf(keys, secret);
    if (!found) {
      throw new HttpProblem('unauthorized', 'The API key is not valid.', { headers: challenge });
    }
    res.locals.caller = found;
    next();
  };
}

/** A 403 unless the caller's key holds `scope` (enqueue, read or admin). */
export function checkScope(res: Response, scope: Scope): void {
  const caller = callerOf(res);
  if (!caller.scopes.has(scope)) {
    throw new HttpProblem('forbidden', `The key "${caller.name}" lacks the "${scope}" scope.`);
  }
}

/** The route's scope, checked before the body is read. */
export const requireScope =
  (scope: Scope): RequestHandler =>
  (_req, res, next) => {
    checkScope(res, scope);
    next();
  };
