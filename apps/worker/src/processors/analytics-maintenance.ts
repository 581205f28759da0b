import { type AnalyticsSettings, namesKey, pruneNames } from '@errand/analytics';
import type { RedisClient } from '@errand/redis';
import type { Processor } from '../processor.ts';

export interface AnalyticsMaintenanceDeps {
  redis: RedisClient;
  settings: AnalyticsSettings;
}

/**
 * The hourly analytics maintenance. The aggregates need none (every key expires by itself),
 * but the names index is pruned only when events arrive: on a quiet system, names whose data
 * has all expired would stay listed by `GET /v1/analytics` for ever. This prunes them.
 */
export const makeAnalyticsMaintenanceProcessor =
  ({ redis, settings }: AnalyticsMaintenanceDeps): Processor<'analytics-maintenance'> =>
  async () => {
    const pruned = await pruneNames(redis, settings, Date.now());
    return { pruned, names: await redis.zcard(namesKey(settings.prefix)) };
  };
