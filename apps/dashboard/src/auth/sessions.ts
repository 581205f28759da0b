import { createHash, randomBytes } from 'node:crypto';
import type { RedisClient } from '@errand/redis';

export interface Session {
  /** The cookie's value; Redis only ever sees its hash. */
  id: string;
  user: string;
  /** What the user's credentials were at login (`credentialsOf`): a new password ends it. */
  credentials: string;
  /** The token every mutating request must echo in `X-CSRF-Token`. */
  csrf: string;
  createdAt: number;
}

/** A session id is 256 random bits in base64url. Anything else is not one of ours. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/**
 * Dashboard sessions in Redis, so they survive a restart and work across replicas. Each
 * lives `idleMs` past its last request and never more than `maxMs` after the login. The key
 * holds a hash of the id, not the id: whoever can read Redis cannot take over a session.
 */
export function makeSessions(
  redis: RedisClient,
  prefix: string,
  limits: { idleMs: number; maxMs: number },
) {
  const keyOf = (id: string) =>
    `${prefix}:dashboard:session:${createHash('sha256').update(id).digest('base64url')}`;

  return {
    async create(user: string, credentials: string): Promise<Session> {
      const session = {
        id: randomBytes(32).toString('base64url'),
        user,
        credentials,
        csrf: randomBytes(32).toString('base64url'),
        createdAt: Date.now(),
      };
      const key = keyOf(session.id);
      await redis
        .multi()
        .hset(key, { user, credentials, csrf: session.csrf, createdAt: session.createdAt })
        .pexpire(key, limits.idleMs)
        .exec();
      return session;
    },

    /**
     * The live session of a cookie value, or undefined. `touch` restarts its idle time: a
     * request of the user's, not a page polling by itself.
     */
    async get(id: string | undefined, touch = true): Promise<Session | undefined> {
      if (!id || !SESSION_ID.test(id)) return undefined;
      const key = keyOf(id);
      const stored = await redis.hgetall(key);
      const createdAt = Number(stored.createdAt);
      if (!stored.user || !stored.csrf || !stored.credentials || !Number.isFinite(createdAt)) {
        return undefined;
      }
      const left = createdAt + limits.maxMs - Date.now();
      if (left <= 0) {
        await redis.del(key);
        return undefined;
      }
      if (touch) await redis.pexpire(key, Math.min(limits.idleMs, left));
      return {
        id,
        user: stored.user,
        credentials: stored.credentials,
        csrf: stored.csrf,
        createdAt,
      };
    },

    async destroy(id: string): Promise<void> {
      if (SESSION_ID.test(id)) await redis.del(keyOf(id));
    },
  };
}

export type Sessions = ReturnType<typeof makeSessions>;

/** A short fingerprint of how a user logs in (their password hash, or single sign-on), so
 * that a changed password ends the sessions made with the old one. */
export const credentialsOf = (user: { password?: string | undefined }) =>
  createHash('sha256')
    .update(user.password ?? 'sso')
    .digest('base64url')
    .slice(0, 16);
