import { AnalyticsRangeError, resolveRange } from '@errand/analytics';
import { analyticsName, analyticsQuery } from '@errand/contract';
import { HttpProblem } from '@errand/http';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import { withRedis } from '../redis-errors.ts';
import { parseParams } from '../validation.ts';

/**
 * GET /v1/analytics/{event}: counts and unique users per bucket over a range (every bucket,
 * zero where nothing happened), the total, and top property values. An event never seen
 * answers zeros: events are open-ended.
 */
export const getAnalyticsReport =
  ({ analytics, redis }: Deps): RequestHandler =>
  async (req, res) => {
    const { event } = parseParams(analyticsPath, req.params);
    const query = parseParams(analyticsQuery, req.query);
    const range = rangeOf(query);
    const top = query.top ?? [];
    res.json(
      await withRedis(redis, () => analytics.report({ event, range, top, limit: query.limit })),
    );
  };

const analyticsPath = z.object({ event: analyticsName });

function rangeOf(query: Parameters<typeof resolveRange>[0]) {
  try {
    return resolveRange(query, Date.now());
  } catch (error) {
    if (!(error instanceof AnalyticsRangeError)) throw error;
    throw new HttpProblem('invalid-parameter', error.message, {
      errors: [{ path: error.field, message: error.message }],
    });
  }
}
