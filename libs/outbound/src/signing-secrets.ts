import type { RedisClient } from '@errand/redis';
import { newSigningSecret } from '@errand/signing';
import { parseSecrets, rotated, SECRET_OVERLAP_MS, validSecrets } from './secrets.ts';

/**
 * Each API key's signing secret (`whsec_…`), which signs its http jobs and its jobs'
 * callbacks. Made and rotated by `POST /v1/signing-secret`, which shows it once; kept in one
 * hash, `<prefix>:signing-secrets` (key name → secrets), since the workers sign with it.
 */
export function signingSecrets(redis: RedisClient, prefix: string) {
  const key = `${prefix}:signing-secrets`;
  return {
    /** A new current secret; the one before signs for another day. */
    async rotate(caller: string, now = Date.now()) {
      const before = parseSecrets(await redis.hget(key, caller));
      const after = rotated(before, newSigningSecret(), now);
      await redis.hset(key, caller, JSON.stringify(after));
      const [current, previous] = after;
      return {
        secret: current.secret,
        previousValidUntil: previous ? new Date(now + SECRET_OVERLAP_MS).toISOString() : null,
      };
    },
    /** The secrets that sign the key's requests now, current first; none before the first rotation. */
    async of(caller: string, now = Date.now()): Promise<string[]> {
      return validSecrets(parseSecrets(await redis.hget(key, caller)), now);
    },
  };
}
export type SigningSecrets = ReturnType<typeof signingSecrets>;
