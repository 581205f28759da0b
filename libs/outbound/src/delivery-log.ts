import type { DeliveryAttempt } from '@errand/contract';
import type { RedisClient } from '@errand/redis';

/** The last `DELIVERY_LOG_LENGTH` delivery attempts of each subscription, newest first. */
export const DELIVERY_LOG_LENGTH = 100;

const keyOf = (prefix: string, id: string) => `${prefix}:webhooks:log:${id}`;

export async function logDelivery(
  redis: RedisClient,
  prefix: string,
  id: string,
  attempt: DeliveryAttempt,
) {
  const key = keyOf(prefix, id);
  await redis
    .multi()
    .lpush(key, JSON.stringify(attempt))
    .ltrim(key, 0, DELIVERY_LOG_LENGTH - 1)
    .exec();
}

export async function readDeliveryLog(
  redis: RedisClient,
  prefix: string,
  id: string,
  limit = DELIVERY_LOG_LENGTH,
): Promise<DeliveryAttempt[]> {
  const entries = await redis.lrange(keyOf(prefix, id), 0, limit - 1);
  return entries.map((text) => JSON.parse(text) as DeliveryAttempt);
}

export const deleteDeliveryLog = (redis: RedisClient, prefix: string, id: string) =>
  redis.del(keyOf(prefix, id));
