import { type AnalyticsSettings, makeIngest } from '@errand/analytics';
import type { RedisClient } from '@errand/redis';
import type { Processor } from '../processor.ts';

export interface AnalyticsDeps {
  redis: RedisClient;
  settings: AnalyticsSettings;
}

/**
 * Aggregate a batch of events (counts, unique users, top string property values per minute,
 * hour and day), each event id once however often the job runs: see `@errand/analytics`.
 */
export const makeAnalyticsProcessor = ({
  redis,
  settings,
}: AnalyticsDeps): Processor<'analytics'> => {
  const ingest = makeIngest(redis, settings);
  return ({ events }) => ingest(events);
};
