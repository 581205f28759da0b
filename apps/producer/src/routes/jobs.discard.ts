import { discardJobsQuery } from '@errand/contract';
import { discardFinishedJobs, encodeJobCursor } from '@errand/queues';
import type { RequestHandler } from 'express';
import { audited } from '../audit.ts';
import type { Deps } from '../deps.ts';
import { cursorOf, rangeOf } from '../job-filter.ts';
import { jobTypeOf } from '../job-type.ts';
import { withRedis } from '../redis-errors.ts';
import { parseParams } from '../validation.ts';

/**
 * DELETE /v1/jobs/{type}?state=failed&…: remove for good at most `limit` failed (or completed)
 * jobs of the filter; audited. Waiting or running work is never removed in bulk.
 */
export const discardJobs =
  (deps: Deps): RequestHandler =>
  async (req, res) => {
    const { queues, redis } = deps;
    const type = jobTypeOf(req.params.type);
    const query = parseParams(discardJobsQuery, req.query);
    const cursor = cursorOf(query.cursor, query.state, 'invalid-parameter');
    const answer = await audited(
      deps,
      res,
      { action: 'discard-jobs', type, filter: query },
      async () => {
        const { matched, acted, skipped, next } = await withRedis(redis, () =>
          discardFinishedJobs(redis, queues[type], {
            state: query.state,
            range: rangeOf(query),
            reasonPrefix: query.reasonPrefix,
            limit: query.limit,
            cursor,
          }),
        );
        return { matched, removed: acted, skipped, cursor: next && encodeJobCursor(next) };
      },
    );
    res.json(answer);
  };
