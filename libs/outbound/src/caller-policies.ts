import type { RedisClient } from '@errand/redis';

/**
 * What each API key may have Errand call (`allowedTargets` in `API_KEYS`). The producer holds
 * the keys; the workers must check every attempt and every redirect hop of an http job or a
 * callback against the key's targets as they are now, not as they were at enqueue. So the
 * producer publishes them at start into one hash, `<prefix>:callers` (key name → targets),
 * replacing what was there (a removed key, or a removed target, stops its pending jobs), and
 * the workers read it, each entry cached for a few seconds.
 */
const keyOf = (prefix: string) => `${prefix}:callers`;

export interface CallerPolicy {
  allowedTargets: string[];
}

export async function publishCallerPolicies(
  redis: RedisClient,
  prefix: string,
  policies: Record<string, CallerPolicy>,
): Promise<void> {
  const key = keyOf(prefix);
  const fields = Object.entries(policies).flatMap(([name, policy]) => [
    name,
    JSON.stringify(policy),
  ]);
  const transaction = redis.multi().del(key);
  if (fields.length > 0) transaction.hset(key, ...fields);
  await transaction.exec();
}

/** The published policy of a key, or undefined when no producer knows the key (any more). */
export function callerPolicies(redis: RedisClient, prefix: string, cacheMs = 5_000) {
  const cache = new Map<string, { at: number; policy: Promise<CallerPolicy | undefined> }>();
  return async (name: string): Promise<CallerPolicy | undefined> => {
    const now = Date.now();
    const hit = cache.get(name);
    if (hit && now - hit.at < cacheMs) return hit.policy;
    const policy = redis
      .hget(keyOf(prefix), name)
      .then((text) => (text ? (JSON.parse(text) as CallerPolicy) : undefined));
    cache.set(name, { at: now, policy });
    policy.catch(() => cache.delete(name));
    return policy;
  };
}
export type CallerPolicies = ReturnType<typeof callerPolicies>;
